/**
 * What the library counts, with Effect's `Metric`: recorded wherever the library runs, exported by
 * whatever the host (or a serving process) plugs into Effect's metric registry. Names follow
 * OpenTelemetry's conventions (dotted, with the unit in the description); no label carries a phone,
 * a text or a client id: only the kind, the action, the outcome and the job.
 */
import { Cause, Duration, Effect, Exit, Metric, MetricBoundaries, MetricLabel, Option } from "effect"
import type { RunSummary } from "../engine/Tally.ts"
import type { Outcome } from "../engine/Outcome.ts"
import type { SendError } from "../delivery/Sender.ts"

/** How a message ended, as the metrics label it. */
export type MessageOutcome = "sent" | "failed" | "refused" | "in_doubt" | "skipped" | "invalid_phone"

/** Messages by `kind`, `action` and `outcome`. */
export const messages: Metric.Metric.Counter<number> = Metric.counter("pronto_notify.messages", {
  description: "messages by kind, action and outcome",
  incremental: true
})

/** The Site POST's duration in seconds, by `outcome` (sent, failed, refused, in_doubt). */
export const sitePostDuration: Metric.Metric.Histogram<number> = Metric.histogram(
  "pronto_notify.site.post.duration",
  MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 14 }),
  "the Site POST's duration, seconds"
)

/** Runs by `job` and `result`: done, failed, or why it stopped (circuit-breaker, sending-hours, interrupted). */
export const runs: Metric.Metric.Counter<number> = Metric.counter("pronto_notify.runs", { description: "runs by job and result", incremental: true })

/** A run's duration in seconds, by `job`. */
export const runDuration: Metric.Metric.Histogram<number> = Metric.histogram(
  "pronto_notify.run.duration",
  MetricBoundaries.exponential({ start: 0.05, factor: 2, count: 14 }),
  "a run's duration, seconds"
)

/** Circuit-breaker trips, by `kind`. */
export const breakerTrips: Metric.Metric.Counter<number> = Metric.counter("pronto_notify.breaker.trips", {
  description: "circuit-breaker trips by kind",
  incremental: true
})

export const outcomeOf = (outcome: Outcome): MessageOutcome => {
  switch (outcome._tag) {
    case "Sent":
      return "sent"
    case "Failed":
      return "failed"
    case "Refused":
      return "refused"
    case "InDoubt":
      return "in_doubt"
    case "Skipped":
      return "skipped"
  }
}

/** Counts one message of `kind`: its action (the one performed when sent, else the one chosen) and outcome. */
export const message = (kind: string, action: number | null, outcome: MessageOutcome): Effect.Effect<void> =>
  Metric.increment(Metric.taggedWithLabels(messages, [
    MetricLabel.make("kind", kind),
    MetricLabel.make("action", action === null ? "none" : String(action)),
    MetricLabel.make("outcome", outcome)
  ]))

const postOutcome = (exit: Exit.Exit<unknown, SendError>): string => {
  if (Exit.isSuccess(exit)) return "sent"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure) || failure.value._tag === "SendInDoubt") return "in_doubt"
  return failure.value.lasting ? "refused" : "failed"
}

/** Times a Site POST into `sitePostDuration`, by how it ended. */
export const timedPost = <A, R>(post: Effect.Effect<A, SendError, R>): Effect.Effect<A, SendError, R> =>
  Effect.flatMap(Effect.timed(Effect.exit(post)), ([duration, exit]) =>
    Effect.zipRight(
      Metric.update(sitePostDuration.pipe(Metric.tagged("outcome", postOutcome(exit))), Duration.toSeconds(duration)),
      exit
    ))

/** Counts and times a run of `job` by its result. */
export const trackRun = (job: string): <E, R>(run: Effect.Effect<RunSummary, E, R>) => Effect.Effect<RunSummary, E, R> => <E, R>(run: Effect.Effect<RunSummary, E, R>): Effect.Effect<RunSummary, E, R> =>
  Effect.flatMap(Effect.timed(Effect.exit(run)), ([duration, exit]) =>
    Effect.zipRight(
      Effect.zipRight(
        Metric.increment(Metric.taggedWithLabels(runs, [
          MetricLabel.make("job", job),
          MetricLabel.make("result", Exit.isSuccess(exit) ? exit.value.stopped ?? "done" : "failed")
        ])),
        Metric.update(runDuration.pipe(Metric.tagged("job", job)), Duration.toSeconds(duration))
      ),
      exit
    ))
