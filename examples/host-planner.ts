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
 * What a host should do when a slot fails (the database or the bonus server was away, sends failed,
 * the circuit breaker stopped the run): try the job again after `Scheduler.retryWait`, for as long
 * as `runLatest` still targets that slot (the slot's window, e.g. until 22:00 on the 1st for
 * profile); once it returns nothing the window has passed and the job's next slot does the work.
 * When it starts, it runs `Scheduler.catchUp` (each job's latest missed slot within its window,
 * retried the same way).
 */
import { NodeRuntime } from "@effect/platform-node"
import { DateTime, Duration, Effect, HashMap, Layer, Option, Ref, Schedule } from "effect"
import { BusinessTime, ProntoNotify, Schedule as NotifySchedule, Scheduler, SiteSender } from "@pronto/notify"
import { Database } from "@pronto/notify/postgres"

/** A job whose slot failed: how often, and when to try it again (`Scheduler.retryWait`). */
interface Failing {
  readonly failures: number
  readonly notBefore: number
}

/** What the planner does each minute: the jobs due now, and those whose slot failed and whose wait is over. */
const tick = (failing: Ref.Ref<HashMap.HashMap<NotifySchedule.JobName, Failing>>) =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTime.BusinessTimeZone
    const now = yield* DateTime.now
    const dueNow = NotifySchedule.due(now, zone)
    const retrying = yield* Ref.get(failing)
    const waitOver = (job: NotifySchedule.JobName) =>
      Option.exists(HashMap.get(retrying, job), (f) => DateTime.toEpochMillis(now) >= f.notBefore)
    for (const job of NotifySchedule.JOB_NAMES.filter((j) => dueNow.includes(j) || waitOver(j))) {
      yield* Scheduler.runLatest(job).pipe(
        Effect.tap((result) =>
          Effect.zipRight(
            Option.isNone(result) && HashMap.has(retrying, job)
              ? Effect.logError(`${job}: given up, its failed slot is past its catch-up window`)
              : Effect.void,
            Ref.update(failing, HashMap.remove(job))
          )
        ),
        Effect.catchAll((error) => {
          // A slot the circuit breaker stopped waits longer than one whose sends failed (see Scheduler.retryWait).
          const failures = Option.match(HashMap.get(retrying, job), { onNone: () => 1, onSome: (f) => f.failures + 1 })
          const wait = Scheduler.retryWait(error, failures)
          return Effect.zipRight(
            Effect.logWarning(`${job}: ${error.message}; trying again in ${Duration.format(wait)}`),
            Ref.update(failing, HashMap.set(job, { failures, notBefore: DateTime.toEpochMillis(now) + Duration.toMillis(wait) }))
          )
        })
      )
    }
  })

const program = Effect.gen(function*() {
  const failing = yield* Ref.make(HashMap.empty<NotifySchedule.JobName, Failing>())
  // The catch-up retries in the background, so the minute planner starts at once.
  yield* Effect.forkScoped(Scheduler.catchUp)
  // At second 0 of every minute (the host's own planner could be anything that calls `tick`).
  yield* tick(failing).pipe(Effect.repeat(Schedule.cron("* * * * *")))
}).pipe(Effect.scoped)

// The host's services: its database, the library (with the bonus ledger on the same database), the Site.
const host = Layer.mergeAll(ProntoNotify.layer(), SiteSender.layerConfig).pipe(
  Layer.provideMerge(Database.layer())
)

NodeRuntime.runMain(program.pipe(Effect.provide(host)))
