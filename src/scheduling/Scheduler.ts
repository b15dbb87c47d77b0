/**
 * Runs scheduled jobs: which effect each job name stands for, and the run of a job for one slot
 * through `JobRuns` (once per slot, whoever asks and however often). The host's planner, the
 * Effect Cluster crons (`ClusterJobs`) and `pronto-notify serve` all come through here.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { DateTime, Duration, Effect, Option } from "effect"
import type { BonusServer, BonusServerError } from "../bonus/BonusServer.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import type { RunSummary } from "../engine/Job.ts"
import * as JobRuns from "./JobRuns.ts"
import * as Jobs from "../engine/Jobs.ts"
import type { Notifications } from "../store/Notifications.ts"
import * as Reactions from "../reactions/Reactions.ts"
import type { Rotation } from "../engine/Rotation.ts"
import { entryOf, type JobName, SCHEDULE, slotToRun } from "./Schedule.ts"
import type { Sender } from "../delivery/Sender.ts"

/** What every job needs from the host: the library's layer, a Sender, a BonusServer, SQL. */
export type JobRequirements =
  | SqlClient.SqlClient
  | BusinessTimeZone
  | BonusServer
  | Rotation
  | Notifications
  | Sender

export type JobSummary = RunSummary | Reactions.ReactionSummary
export type JobError = SqlError.SqlError | BonusServerError

/** The effect each job name runs, as of the Clock's now: the registry every scheduler uses. */
export const runJob = (job: JobName): Effect.Effect<JobSummary, JobError, JobRequirements> => {
  switch (job) {
    case "reactions":
      return Reactions.run
    default:
      return Jobs.run(job)
  }
}

/** Runs a job for a slot unless that slot already ran (`JobRuns`). */
export const runSlot = (job: JobName, slot: DateTime.Utc) =>
  JobRuns.runSlot(job, slot, runJob(job)).pipe(
    Effect.tap((result) =>
      result._tag === "AlreadyDone"
        ? Effect.logInfo(`${job} for ${DateTime.formatIso(slot)}: already done, nothing to run`)
        : Effect.logInfo(`${job} for ${DateTime.formatIso(slot)}: done ${JSON.stringify(result.summary)}`)
    ),
    Effect.annotateLogs({ job, slot: DateTime.formatIso(slot) })
  )

/**
 * The slot a job's schedule says is current (the missed-slot policy of `Schedule`): its latest slot
 * while within the catch-up window, otherwise none.
 */
const currentSlot = (job: JobName) =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTimeZone
    const now = yield* DateTime.now
    const slot = slotToRun(entryOf(job), now, zone)
    if (Option.isNone(slot)) {
      yield* Effect.logDebug(`${job}: no slot within its catch-up window at ${DateTime.formatIso(now)}`)
    }
    return slot
  })

/**
 * Runs a job for the slot its schedule says is current, once: nothing when no slot is within its
 * catch-up window. A host's planner calls it each minute; `runLatestRetrying` adds the retries.
 */
export const runLatest = (job: JobName) =>
  Effect.flatMap(currentSlot(job), (slot) =>
    Option.isNone(slot)
      ? Effect.succeed(Option.none<JobRuns.SlotResult<JobSummary>>())
      : Effect.map(runSlot(job, slot.value), Option.some))

/** The wait before the first retry of a failed slot; each next wait doubles, up to `RETRY_MAX`. */
export const RETRY_FIRST = Duration.seconds(10)
export const RETRY_MAX = Duration.minutes(5)

/**
 * After a failed run of a slot: waits `delay`, and runs the slot again, for as long as the slot is
 * still the one the missed-slot policy would run at the next attempt (a failure on the 1st must not
 * lose the month's profile run). Past the window it gives up with an error naming the job and the
 * slot; the job's next slot does the work. Never fails.
 */
const retryAfter = (
  job: JobName,
  slot: DateTime.Utc,
  error: JobRuns.JobRunFailed | SqlError.SqlError,
  delay: Duration.Duration
): Effect.Effect<Option.Option<JobRuns.SlotResult<JobSummary>>, never, JobRequirements> =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTimeZone
    const slotIso = DateTime.formatIso(slot)
    const reason = error._tag === "JobRunFailed" ? error.reason : error.message
    const retryAt = DateTime.addDuration(yield* DateTime.now, delay)
    const stillDue = Option.exists(slotToRun(entryOf(job), retryAt, zone), (s) => DateTime.Equivalence(s, slot))
    if (!stillDue) {
      yield* Effect.logError(
        `${job} for ${slotIso}: given up: its catch-up window (${entryOf(job).catchUpWords}) ends before another ` +
          `attempt; the next slot does the work. Last error: ${reason}`
      )
      return Option.none()
    }
    yield* Effect.logWarning(`${job} for ${slotIso} failed: ${reason}; trying again in ${Duration.format(delay)}`)
    yield* Effect.sleep(delay)
    return yield* runSlot(job, slot).pipe(
      Effect.map(Option.some),
      Effect.catchAll((next) => retryAfter(job, slot, next, Duration.min(Duration.times(delay, 2), RETRY_MAX)))
    )
  }).pipe(Effect.annotateLogs({ job, slot: DateTime.formatIso(slot) }))

/**
 * `runLatest`, and when the run fails, again after 10 s, 20 s, 40 s ... (at most 5 min apart) while
 * the slot is within its catch-up window. What each cluster cron tick runs. Never fails.
 */
export const runLatestRetrying = (job: JobName) =>
  Effect.flatMap(currentSlot(job), (slot) =>
    Option.isNone(slot)
      ? Effect.succeed(Option.none<JobRuns.SlotResult<JobSummary>>())
      : runSlot(job, slot.value).pipe(
        Effect.map(Option.some),
        Effect.catchAll((error) => retryAfter(job, slot.value, error, RETRY_FIRST))
      ))

/**
 * What a process does when it starts: each job's latest missed slot, if still within its catch-up
 * window and not done, one job after another; then the slots that failed are retried like a tick's,
 * side by side, so that one job's retries never hold up another's catch-up. Never fails.
 */
export const catchUp = Effect.gen(function*() {
  const failures = yield* Effect.forEach(SCHEDULE, (e) =>
    Effect.flatMap(currentSlot(e.job), (slot) =>
      Option.isNone(slot)
        ? Effect.succeed([])
        : runSlot(e.job, slot.value).pipe(
          Effect.as([]),
          Effect.catchAll((error) => Effect.succeed([{ job: e.job, slot: slot.value, error }]))
        )))
  yield* Effect.forEach(failures.flat(), (f) => retryAfter(f.job, f.slot, f.error, RETRY_FIRST), {
    concurrency: "unbounded",
    discard: true
  })
})
