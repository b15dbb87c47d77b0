/**
 * A host's own planner (SPEC: the trigger is on the host's side): once a minute it asks which jobs
 * are due and runs each through `Scheduler.runLatest`, which runs the job's current slot once per
 * (job, slot) even if two planner processes ask at the same minute, or one asks twice.
 *
 *   DATABASE_URL=postgres://... SITE_URL=https://... SITE_KEY=... npx tsx examples/host-planner.ts
 *
 * It uses `@pronto/notify/postgres` for its connection (DATABASE_URL, else an embedded server): a
 * host passes its own `PgClient.layer` instead, as in `host-embed.ts`.
 *
 * What a host should do when a run fails (the database or the bonus server was away): try the job
 * again on its next minute, and the next, for as long as `runLatest` still targets that slot (the
 * slot's catch-up window, e.g. until 22:00 on the 1st for profile); once it returns nothing the
 * window has passed and the job's next slot does the work. When it starts, it runs
 * `Scheduler.catchUp` (each job's latest missed slot within its window, retried the same way).
 */
import { NodeRuntime } from "@effect/platform-node"
import { DateTime, Effect, HashSet, Layer, Option, Ref, Schedule } from "effect"
import { BusinessTimeZone, due, type JobName, JOB_NAMES, ProntoNotify, Scheduler, SiteSender } from "@pronto/notify"
import { Database } from "@pronto/notify/postgres"

/** What the planner does each minute: the jobs due now, and those whose last run failed. */
const tick = (failed: Ref.Ref<HashSet.HashSet<JobName>>) =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTimeZone
    const now = yield* DateTime.now
    const dueNow = due(now, zone)
    const retrying = yield* Ref.get(failed)
    for (const job of JOB_NAMES.filter((j) => dueNow.includes(j) || HashSet.has(retrying, j))) {
      yield* Scheduler.runLatest(job).pipe(
        Effect.tap((result) =>
          Effect.zipRight(
            Option.isNone(result) && HashSet.has(retrying, job)
              ? Effect.logError(`${job}: given up, its failed slot is past its catch-up window`)
              : Effect.void,
            Ref.update(failed, HashSet.remove(job))
          )
        ),
        Effect.catchAll((error) =>
          Effect.zipRight(
            Effect.logWarning(`${job}: ${error.message}; trying again next minute`),
            Ref.update(failed, HashSet.add(job))
          )
        )
      )
    }
  })

const program = Effect.gen(function*() {
  const failed = yield* Ref.make(HashSet.empty<JobName>())
  // The catch-up retries in the background, so the minute planner starts at once.
  yield* Effect.forkScoped(Scheduler.catchUp)
  // At second 0 of every minute (the host's own planner could be anything that calls `tick`).
  yield* tick(failed).pipe(Effect.repeat(Schedule.cron("* * * * *")))
}).pipe(Effect.scoped)

// The host's services: its database, the library (with the bonus ledger on the same database), the Site.
const host = Layer.mergeAll(ProntoNotify.layer(), SiteSender.layerConfig).pipe(
  Layer.provideMerge(Database.layer())
)

NodeRuntime.runMain(program.pipe(Effect.provide(host)))
