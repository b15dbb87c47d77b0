/**
 * The jobs as Effect Cluster crons, for a host that runs an Effect Cluster (and for
 * `pronto-notify serve`): one `ClusterCron` per schedule entry, in the business time zone, plus a
 * catch-up singleton that, when a runner takes it over (at start, or after the runner holding it
 * died), runs each job's latest missed slot within its catch-up window.
 *
 * ClusterCron delivers each tick at least once: a crash during a run repeats the tick, possibly
 * on another runner and later. A tick therefore runs its job through `Scheduler.runLatestRetrying`:
 * the slot current at that moment, once per (job, slot) by `JobRuns`, so a repeat sends nothing
 * twice. A run that fails is retried with backoff while the slot is within its catch-up window, and
 * given up (logged as an error) after it; the tick ends only then, and ClusterCron schedules the next.
 */
import { ClusterCron, Singleton } from "@effect/cluster"
import { Duration, Effect, Layer } from "effect"
import { Kinds } from "../kinds/Kinds.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { cronOf, type JobName, scheduleOf } from "./Schedule.ts"
import * as Scheduler from "./Scheduler.ts"

/** The cluster entity name of a job's cron. */
export const cronName = (job: string) => `pronto-notify/${job}`

/**
 * Ticks are never skipped by ClusterCron's own age limit: `runLatestRetrying` applies the missed-slot
 * policy, which knows each job's catch-up window.
 */
const NEVER_TOO_OLD = Duration.days(400)

const tick = (job: JobName) =>
  Scheduler.runLatestRetrying(job).pipe(
    // ClusterCron marks its tick Uninterruptible so that no caller can cancel it; the run itself
    // must still stop, between notifications (each one is uninterruptible: engine/Message), when the
    // runner shuts down: the tick stays unanswered and is delivered again.
    Effect.interruptible,
    Effect.asVoid
  )

/**
 * One ClusterCron per job of the schedule (the `Kinds` registry's kinds and the reaction job) and
 * the catch-up singleton. Needs `Sharding` and the jobs' services.
 */
export const layer = Layer.unwrapEffect(
  Effect.map(Effect.all([BusinessTimeZone, Kinds]), ([{ zone }, kinds]) =>
    Layer.mergeAll(
      Singleton.make("pronto-notify/catch-up", Scheduler.catchUp),
      ...scheduleOf(kinds).map((e) =>
        ClusterCron.make({
          name: cronName(e.job),
          cron: cronOf(e, zone),
          execute: tick(e.job),
          skipIfOlderThan: NEVER_TOO_OLD
        })
      )
    )
  )
)
