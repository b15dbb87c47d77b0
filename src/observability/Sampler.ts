/**
 * The gauges of `Metrics` that only the database knows, sampled by the processes that serve
 * (`pronto-notify serve`, a host's own runner): messages in doubt by kind and the oldest one's age,
 * reactions pending, each job's last successful scheduled run, and whether its latest closed slot
 * was missed. Three statements a sample, every `SAMPLE_EVERY`; every serving process samples the
 * same values, so a dashboard takes their maximum.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { DateTime, Duration, Effect, Layer, Metric, Option, Ref, Schedule } from "effect"
import { Kinds } from "../kinds/Kinds.ts"
import * as JobRuns from "../scheduling/JobRuns.ts"
import { latestSlot, scheduleOf, type ScheduleEntry, windowEnd } from "../scheduling/Schedule.ts"
import * as Backlog from "../store/Backlog.ts"
import type { TablesMissing } from "../store/TablesMissing.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import * as Metrics from "./Metrics.ts"

/** How often `run` samples. */
export const SAMPLE_EVERY = Duration.seconds(15)

const seconds = (at: DateTime.DateTime | Date) => (at instanceof Date ? at.getTime() : DateTime.toEpochMillis(at)) / 1000

/**
 * The latest slot of a job whose window has closed at `now`: the latest slot, or, while that one's
 * window is still open, the one before it.
 */
export const latestClosedSlot = (entry: ScheduleEntry, now: DateTime.Utc, zone: DateTime.TimeZone): DateTime.Utc => {
  const latest = latestSlot(entry, now, zone)
  return DateTime.lessThan(now, windowEnd(entry, latest, zone))
    ? latestSlot(entry, DateTime.subtract(latest, { seconds: 1 }), zone)
    : latest
}

/** Samples the gauges once, as of the Clock's now. */
export const sample: Effect.Effect<void, SqlError.SqlError | TablesMissing, SqlClient.SqlClient | BusinessTimeZone> = Effect.gen(
  function*() {
    const now = yield* DateTime.now
    const { zone } = yield* BusinessTimeZone
    const registry = yield* Kinds
    const [backlog, histories] = yield* Effect.all([Backlog.byKind, JobRuns.histories])

    // Every kind of the registry is set, to 0 when it has nothing: a settle brings its gauge down.
    const kinds = [...new Set([...registry.names, ...backlog.map((b) => b.kind)])]
    yield* Effect.forEach(kinds, (kind) => {
      const b = backlog.find((row) => row.kind === kind)
      const oldest = b?.oldestInDoubt ?? null
      return Effect.all([
        Metric.set(Metric.tagged(Metrics.inDoubt, "kind", kind), b?.inDoubt ?? 0),
        Metric.set(Metric.tagged(Metrics.inDoubtOldestAge, "kind", kind), oldest === null ? 0 : Math.max(0, seconds(now) - seconds(oldest))),
        Metric.set(Metric.tagged(Metrics.reactionsPending, "kind", kind), b?.reactionsPending ?? 0)
      ], { discard: true })
    }, { discard: true })

    // A slot is missed only once the schedule is kept: not before the first slot ever recorded.
    const schedule = scheduleOf(registry)
    const firstSlots = histories.map((h) => h.firstSlot.getTime())
    const keptSince = firstSlots.length === 0 ? Option.none<number>() : Option.some(Math.min(...firstSlots))
    const closed = schedule.map((entry) => ({ job: entry.job, slot: latestClosedSlot(entry, now, zone) }))
    const done = yield* JobRuns.doneOf(closed)
    yield* Effect.forEach(closed, ({ job, slot }) => {
      const missed = Option.exists(keptSince, (since) => DateTime.toEpochMillis(slot) >= since) &&
        !done.has(JobRuns.doneKey(job, DateTime.toDateUtc(slot)))
      const last = histories.find((h) => h.job === job)?.lastSuccess ?? null
      return Effect.zipRight(
        Metric.set(Metric.tagged(Metrics.slotMissed, "job", job), missed ? 1 : 0),
        last === null ? Effect.void : Metric.set(Metric.tagged(Metrics.lastSuccess, "job", job), seconds(last))
      )
    }, { discard: true })
    yield* Metric.set(Metrics.sampledAt, seconds(now))
  }
)

/**
 * Samples every `every` until interrupted. A sample that fails (the database away) is logged once,
 * when sampling starts failing, and once when it works again; `Metrics.sampledAt` then stops moving.
 */
export const run = (
  every: Duration.DurationInput = SAMPLE_EVERY
): Effect.Effect<never, never, SqlClient.SqlClient | BusinessTimeZone> =>
  Effect.flatMap(Ref.make(true), (healthy) =>
    sample.pipe(
      Effect.zipRight(
        Effect.flatMap(Ref.getAndSet(healthy, true), (was) => (was ? Effect.void : Effect.logInfo("monitoring: sampling the database again")))
      ),
      Effect.catchAll((error) =>
        Effect.flatMap(Ref.getAndSet(healthy, false), (was) =>
          was ? Effect.logWarning(`monitoring: could not sample the database (${error.message}); the gauges keep their last values`) : Effect.void)
      ),
      Effect.repeat(Schedule.spaced(every)),
      Effect.zipRight(Effect.never)
    ))

/** `run` in the background for as long as the layer lives. */
export const layer = (every: Duration.DurationInput = SAMPLE_EVERY): Layer.Layer<never, never, SqlClient.SqlClient | BusinessTimeZone> =>
  Layer.scopedDiscard(Effect.forkScoped(run(every)))
