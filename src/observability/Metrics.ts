/**
 * What the library counts, with Effect's `Metric`: recorded wherever the library runs, exported by
 * whatever the host (or a serving process) plugs into Effect's metric registry. Names follow
 * OpenTelemetry's naming rules (a dotted `pronto_notify.` namespace, the unit in the description,
 * seconds for durations); no label carries a phone, a text or a client id: only the kind, the
 * action, the outcome and the job. The gauges are set by `Sampler`, from the database.
 */
import { Cause, Context, Duration, Effect, Exit, Metric, MetricBoundaries, MetricLabel, Option } from "effect"
import type { RunSummary } from "../engine/Tally.ts"
import type { Outcome } from "../engine/Outcome.ts"
import type { SendError } from "../delivery/Sender.ts"

/**
 * How a message ended, as the metrics label it: a run's outcomes (`refused` includes those the Site
 * refused earlier in the slot and left out), `released` (an attempt whose POST never started, given
 * back by a later run), and an operator's settling of a message in doubt.
 */
export type MessageOutcome =
  | "sent"
  | "failed"
  | "refused"
  | "in_doubt"
  | "skipped"
  | "invalid_phone"
  | "released"
  | "settled_delivered"
  | "settled_not_delivered"

/**
 * Whether the library records its metrics (default: yes). A host that exports none may switch
 * them off: `Effect.provideService(Metrics.Recording, false)`; the benchmark does, to weigh them.
 */
export class Recording extends Context.Reference<Recording>()("@pronto/notify/Metrics/Recording", {
  defaultValue: () => true
}) {}

const whenRecording = (record: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(Recording, (on) => (on ? record : Effect.void))

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

/** How late a scheduled slot's first run started, seconds after the slot, by `job` (0.5 s to about 4.5 hours). */
export const slotLateness: Metric.Metric.Histogram<number> = Metric.histogram(
  "pronto_notify.slot.lateness",
  MetricBoundaries.exponential({ start: 0.5, factor: 2, count: 16 }),
  "how late a slot's first run started, seconds after the slot"
)

/** Circuit-breaker trips, by `kind`. */
export const breakerTrips: Metric.Metric.Counter<number> = Metric.counter("pronto_notify.breaker.trips", {
  description: "circuit-breaker trips by kind",
  incremental: true
})

// Sampled from the database (`Sampler`) by the processes that serve.

/** Messages in doubt of runs that have ended (what `pronto-notify in-doubt` lists), by `kind`. */
export const inDoubt: Metric.Metric.Gauge<number> = Metric.gauge("pronto_notify.messages.in_doubt", {
  description: "messages in doubt of runs that have ended, by kind"
})

/** How long ago the oldest of them was attempted, seconds, by `kind`; 0 when there is none. */
export const inDoubtOldestAge: Metric.Metric.Gauge<number> = Metric.gauge("pronto_notify.messages.in_doubt.oldest_age", {
  description: "how long ago the oldest message in doubt was attempted, seconds, by kind"
})

/** Sent messages whose reaction is still undecided, by `kind`. */
export const reactionsPending: Metric.Metric.Gauge<number> = Metric.gauge("pronto_notify.reactions.pending", {
  description: "sent messages whose reaction is still pending, by kind"
})

/** When each `job`'s latest successful scheduled run finished, seconds since the epoch. */
export const lastSuccess: Metric.Metric.Gauge<number> = Metric.gauge("pronto_notify.job.last_success", {
  description: "when the job's latest successful scheduled run finished, seconds since the epoch, by job"
})

/** 1 when the `job`'s latest slot whose window has closed never ran to success, else 0. */
export const slotMissed: Metric.Metric.Gauge<number> = Metric.gauge("pronto_notify.job.slot_missed", {
  description: "1 when the job's latest slot whose window has closed did not run to success, by job"
})

/** When the gauges above were last sampled, seconds since the epoch: stale when the database is away. */
export const sampledAt: Metric.Metric.Gauge<number> = Metric.gauge("pronto_notify.sampled_at", {
  description: "when the gauges were last sampled from the database, seconds since the epoch"
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

/** Counts `n` messages of `kind`: their action (the one performed when sent, else the one chosen) and outcome. */
export const message = (kind: string, action: number | null, outcome: MessageOutcome, n = 1): Effect.Effect<void> =>
  n === 0 ? Effect.void : whenRecording(Metric.incrementBy(
    Metric.taggedWithLabels(messages, [
      MetricLabel.make("kind", kind),
      MetricLabel.make("action", action === null ? "none" : String(action)),
      MetricLabel.make("outcome", outcome)
    ]),
    n
  ))

/** Counts a circuit-breaker trip of `kind`. */
export const breakerTrip = (kind: string): Effect.Effect<void> => whenRecording(Metric.increment(Metric.tagged(breakerTrips, "kind", kind)))

/** Records how late a slot of `job` started. */
export const slotStarted = (job: string, lateness: Duration.Duration): Effect.Effect<void> =>
  whenRecording(Metric.update(Metric.tagged(slotLateness, "job", job), Math.max(0, Duration.toSeconds(lateness))))

const postOutcome = (exit: Exit.Exit<unknown, SendError>): string => {
  if (Exit.isSuccess(exit)) return "sent"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure) || failure.value._tag === "SendInDoubt") return "in_doubt"
  return failure.value.lasting ? "refused" : "failed"
}

/** Times a Site POST into `sitePostDuration`, by how it ended; the span around it gets the outcome too. */
export const timedPost = <A, R>(post: Effect.Effect<A, SendError, R>): Effect.Effect<A, SendError, R> =>
  Effect.flatMap(Effect.timed(Effect.exit(post)), ([duration, exit]) => {
    const outcome = postOutcome(exit)
    return Effect.zipRight(
      Effect.zipRight(
        Effect.annotateCurrentSpan("outcome", outcome),
        whenRecording(Metric.update(sitePostDuration.pipe(Metric.tagged("outcome", outcome)), Duration.toSeconds(duration)))
      ),
      exit
    )
  })

/** Counts and times a run of `job` by its result. */
export const trackRun = (job: string): <E, R>(run: Effect.Effect<RunSummary, E, R>) => Effect.Effect<RunSummary, E, R> => <E, R>(run: Effect.Effect<RunSummary, E, R>): Effect.Effect<RunSummary, E, R> =>
  Effect.flatMap(Effect.timed(Effect.exit(run)), ([duration, exit]) =>
    Effect.zipRight(
      whenRecording(Effect.zipRight(
        Metric.increment(Metric.taggedWithLabels(runs, [
          MetricLabel.make("job", job),
          MetricLabel.make("result", Exit.isSuccess(exit) ? exit.value.stopped ?? "done" : "failed")
        ])),
        Metric.update(runDuration.pipe(Metric.tagged("job", job)), Duration.toSeconds(duration))
      )),
      exit
    ))
