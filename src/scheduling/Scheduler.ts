/**
 * Runs scheduled jobs: which effect each job name stands for (a kind of the `Kinds` registry, or
 * the reaction job), and the run of a job for one slot through `JobRuns` (once per slot, whoever
 * asks and however often). The host's planner, the Effect Cluster crons (`ClusterJobs`) and
 * `pronto-notify serve` all come through here.
 */
import type { SqlError } from "@effect/sql"
import { DateTime, Duration, Effect, Option, Ref } from "effect"
import type { BonusServerError } from "../bonus/BonusServer.ts"
import * as Jobs from "../engine/Jobs.ts"
import type { KindRequirements } from "../kinds/Kind.ts"
import { Kinds, type UnknownKind } from "../kinds/Kinds.ts"
import * as Reactions from "../reactions/Reactions.ts"
import type { TablesMissing } from "../store/TablesMissing.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import * as JobRuns from "./JobRuns.ts"
import { entryOf, type JobName, REACTIONS_JOB, scheduleOf, type ScheduleEntry, slotToRun, windowEnd } from "./Schedule.ts"

/** What every job needs from the host: the library's layer (`ProntoNotify.layer`) and a Sender. */
export type JobRequirements = Jobs.RunRequirements | KindRequirements

export type JobSummary = Jobs.RunSummary | Reactions.ReactionSummary
export type JobError = SqlError.SqlError | BonusServerError | UnknownKind | TablesMissing | Jobs.RunFailed

/**
 * The effect a job name runs for a slot, as of the Clock's now; a kind's run stops taking
 * candidates at `until` (the end of its slot's window).
 */
export const runJob = (job: JobName, slot: DateTime.Utc, until?: DateTime.Utc): Effect.Effect<JobSummary, JobError, JobRequirements> =>
  job === REACTIONS_JOB ? Reactions.run : Jobs.run(job, { until, slot })

/** The schedule of the kinds in the context's registry. */
const schedule = Effect.map(Kinds, scheduleOf)

/**
 * What a kind's run left for a retry of its slot: the messages whose send failed for certain in a
 * way a later try may cure, and the candidates it did not take because the circuit breaker
 * stopped it. The messages the Site refused are not for a retry (the slot leaves them out), and a
 * stop at the end of the sending hours leaves nothing a retry could do.
 */
export const leftoverOf = (summary: JobSummary): Option.Option<JobRuns.Leftover> => {
  if (!("kind" in summary)) return Option.none()
  const stoppedByBreaker = summary.stopped === "circuit-breaker"
  if (summary.failed === 0 && !stoppedByBreaker) return Option.none()
  const reasons = [
    ...(summary.failed > 0 ? [`${summary.failed} messages not sent (definite failures)`] : []),
    ...(stoppedByBreaker ? ["stopped by the circuit breaker: the Site's answers stayed ambiguous"] : [])
  ]
  return Option.some({ unsent: summary.failed, stoppedByBreaker, reason: reasons.join("; ") })
}

/** What a run that failed had done, kept with its slot. */
const summaryOfFailure = (error: JobError): unknown => (error._tag === "RunFailed" ? error.summary : null)

/** Runs a job for a slot unless that slot already ran (`JobRuns`); a run that left work leaves it failed. */
export const runSlot = (job: JobName, slot: DateTime.Utc) =>
  Effect.gen(function*() {
    const entry = yield* entryInContext(job)
    const { zone } = yield* BusinessTimeZone
    const until = entry.sends ? windowEnd(entry, slot, zone) : undefined
    return yield* JobRuns.runSlot(job, slot, runJob(job, slot, until), leftoverOf, summaryOfFailure)
  }).pipe(
    Effect.tap((result) =>
      result._tag === "AlreadyDone"
        ? Effect.logInfo(`${job} for ${DateTime.formatIso(slot)}: already done, nothing to run`)
        : Effect.logInfo(`${job} for ${DateTime.formatIso(slot)}: done ${JSON.stringify(result.summary)}`)
    ),
    Effect.annotateLogs({ job, slot: DateTime.formatIso(slot) }),
    // The scheduled slot's span, with its run's under it.
    Effect.withSpan("pronto-notify/slot", { attributes: { job, slot: DateTime.formatIso(slot) }, captureStackTrace: false })
  )

const entryInContext = (job: JobName) => Effect.map(schedule, (s) => entryOf(job, s))

/** The slot the schedule says is current for an entry: its latest while within its catch-up window. */
const currentSlot = (entry: ScheduleEntry) =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTimeZone
    const now = yield* DateTime.now
    const slot = slotToRun(entry, now, zone)
    if (Option.isNone(slot)) {
      yield* Effect.logDebug(`${entry.job}: no slot within its catch-up window at ${DateTime.formatIso(now)}`)
    }
    return slot
  })

/**
 * Runs a job for the slot its schedule says is current, once: nothing when no slot is within its
 * catch-up window. A host's planner calls it each minute; `runLatestRetrying` adds the retries.
 */
export const runLatest = (job: JobName) =>
  Effect.flatMap(entryInContext(job), (entry) =>
    Effect.flatMap(currentSlot(entry), (slot) =>
      Option.isNone(slot)
        ? Effect.succeed(Option.none<JobRuns.SlotResult<JobSummary>>())
        : Effect.map(runSlot(job, slot.value), Option.some)))

/** The wait before the first retry of a failed slot; each next wait doubles, up to `RETRY_MAX`. */
export const RETRY_FIRST = Duration.seconds(10)
export const RETRY_MAX = Duration.minutes(5)

/**
 * After the circuit breaker stopped a run the Site is likely down, and each retry may leave a few
 * more messages in doubt: the waits start at 5 minutes and double up to an hour.
 */
export const BREAKER_RETRY_FIRST = Duration.minutes(5)
export const BREAKER_RETRY_MAX = Duration.hours(1)

type SlotError = JobRuns.JobRunFailed | SqlError.SqlError | TablesMissing

const reasonOf = (error: SlotError) => (error._tag === "JobRunFailed" ? error.reason : error.message)
const byBreaker = (error: SlotError) => error._tag === "JobRunFailed" && error.stoppedByBreaker === true

/** The wait before the retry that follows `failures` failures (1, 2, …) of the kind of `error`. */
export const retryWait = (error: SlotError, failures: number): Duration.Duration => {
  const [first, max] = byBreaker(error) ? [BREAKER_RETRY_FIRST, BREAKER_RETRY_MAX] : [RETRY_FIRST, RETRY_MAX]
  return Duration.min(Duration.times(first, 2 ** Math.min(failures - 1, 20)), max)
}

/** The error that ends a slot's retries: what it could not do, in one line naming the job and the slot. */
const givenUp = (entry: ScheduleEntry, slotIso: string, error: SlotError) =>
  error._tag === "JobRunFailed" && error.unsent !== undefined
    ? `${entry.job} for ${slotIso}: its catch-up window (${entry.catchUpWords}) closed with ${error.unsent} messages ` +
      `still not sent${error.stoppedByBreaker ? " and candidates left untaken by the circuit breaker" : ""}; ` +
      "later runs of the job select what is still due"
    : `${entry.job} for ${slotIso}: given up: its catch-up window (${entry.catchUpWords}) ends before another ` +
      `attempt; the next slot does the work. Last error: ${reasonOf(error)}`

/**
 * `attempt` (a run of the entry's slot), and after a failure the same again after `retryWait`, for
 * as long as the slot is still the one the missed-slot policy would run at the next attempt (a
 * failure on the 1st must not lose the month's profile run). Past the window it gives up with one
 * error naming the job, the slot and what was left; the job's next slot does the work. Never fails.
 */
const retryWithinWindow = (
  entry: ScheduleEntry,
  slot: DateTime.Utc,
  attempt: Effect.Effect<JobRuns.SlotResult<JobSummary>, SlotError, JobRequirements>
): Effect.Effect<Option.Option<JobRuns.SlotResult<JobSummary>>, never, JobRequirements> => {
  const slotIso = DateTime.formatIso(slot)
  const loop = (failures: number): Effect.Effect<Option.Option<JobRuns.SlotResult<JobSummary>>, never, JobRequirements> =>
    attempt.pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) =>
        Effect.gen(function*() {
          const { zone } = yield* BusinessTimeZone
          const wait = retryWait(error, failures)
          const retryAt = DateTime.addDuration(yield* DateTime.now, wait)
          if (!Option.exists(slotToRun(entry, retryAt, zone), (s) => DateTime.Equivalence(s, slot))) {
            yield* Effect.logError(givenUp(entry, slotIso, error))
            return Option.none()
          }
          yield* Effect.logWarning(`${entry.job} for ${slotIso} failed: ${reasonOf(error)}; trying again in ${Duration.format(wait)}`)
          yield* Effect.sleep(wait)
          return yield* loop(failures + 1)
        })
      )
    )
  return loop(1).pipe(Effect.annotateLogs({ job: entry.job, slot: slotIso }))
}

/**
 * `runLatest`, and when the run fails, again after 10 s, 20 s, 40 s ... (at most 5 min apart) while
 * the slot is within its catch-up window. What each cluster cron tick runs. Never fails.
 */
export const runLatestRetrying = (job: JobName) =>
  Effect.flatMap(entryInContext(job), (entry) =>
    Effect.flatMap(currentSlot(entry), (slot) =>
      Option.isNone(slot)
        ? Effect.succeed(Option.none<JobRuns.SlotResult<JobSummary>>())
        : retryWithinWindow(entry, slot.value, runSlot(job, slot.value))))

/**
 * What a process does when it starts: each job's latest missed slot, if still within its catch-up
 * window and not done, one job after another; then the slots that failed are retried like a tick's,
 * side by side, so that one job's retries never hold up another's catch-up. Never fails.
 */
export const catchUp = Effect.gen(function*() {
  const entries = yield* schedule
  const failures = yield* Effect.forEach(entries, (entry) =>
    Effect.flatMap(currentSlot(entry), (slot) =>
      Option.isNone(slot)
        ? Effect.succeed([])
        : runSlot(entry.job, slot.value).pipe(
          Effect.as([]),
          Effect.catchAll((error) => Effect.succeed([{ entry, slot: slot.value, error }]))
        )))
  yield* Effect.forEach(
    failures.flat(),
    ({ entry, error, slot }) => Effect.flatMap(failedOnce(error, runSlot(entry.job, slot)), (attempt) => retryWithinWindow(entry, slot, attempt)),
    { concurrency: "unbounded", discard: true }
  )
})

/** An attempt that has already failed once with `error`: it fails so the first time, and runs after. */
const failedOnce = <A, E, R>(error: E, attempt: Effect.Effect<A, E, R>) =>
  Effect.map(Ref.make(false), (tried) =>
    Effect.flatMap(Ref.getAndSet(tried, true), (again) => (again ? attempt : Effect.fail(error))))
