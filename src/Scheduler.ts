/**
 * Runs scheduled jobs: which effect each job name stands for, and the run of a job for one slot
 * through `JobRuns` (once per slot, whoever asks and however often). The host's planner, the
 * Effect Cluster crons (`ClusterJobs`) and `pronto-notify serve` all come through here.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { DateTime, Effect, Option } from "effect"
import type { BonusServer, BonusServerError } from "./BonusServer.ts"
import { BusinessTimeZone } from "./BusinessTime.ts"
import type { RunSummary } from "./Job.ts"
import * as JobRuns from "./JobRuns.ts"
import * as Jobs from "./Jobs.ts"
import type { Notifications } from "./Notifications.ts"
import * as Reactions from "./Reactions.ts"
import type { Rotation } from "./Rotation.ts"
import { entryOf, type JobName, SCHEDULE, slotToRun } from "./Schedule.ts"
import type { Sender } from "./Sender.ts"

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
 * Runs a job for the slot its schedule says is current (the missed-slot policy of `Schedule`): its
 * latest slot while within the catch-up window, otherwise nothing. A cron tick, a repeated tick, or
 * a process starting late all come here.
 */
export const runLatest = (job: JobName) =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTimeZone
    const now = yield* DateTime.now
    const slot = slotToRun(entryOf(job), now, zone)
    if (Option.isNone(slot)) {
      yield* Effect.logDebug(`${job}: no slot within its catch-up window at ${DateTime.formatIso(now)}`)
      return Option.none<JobRuns.SlotResult<JobSummary>>()
    }
    return Option.some(yield* runSlot(job, slot.value))
  })

/**
 * What a process does when it starts: each job's latest missed slot, if still within its catch-up
 * window and not done. Every job is tried even when one fails.
 */
export const catchUp = Effect.forEach(SCHEDULE, (e) =>
  runLatest(e.job).pipe(
    Effect.catchAll((error) => Effect.as(Effect.logError(`${e.job}: ${error.message}`), Option.none()))
  ), { discard: true })
