/**
 * A host's own planner (SPEC: the trigger is on the host's side): once a minute it asks which jobs
 * are due and runs each for its slot. Running through `Scheduler.runSlot` makes the slot run once
 * even if two planner processes ask at the same minute, or one asks twice.
 *
 *   DATABASE_URL=postgres://... SITE_URL=https://... SITE_KEY=... npx tsx examples/host-planner.ts
 *
 * (A host that also wants the missed-slot policy calls `Scheduler.catchUp` once when it starts.)
 */
import { NodeRuntime } from "@effect/platform-node"
import { DateTime, Effect, Layer, Schedule } from "effect"
import { BusinessTimeZone, Database, due, ProntoNotify, Scheduler, SiteSender } from "../src/index.ts"

/** What the planner does each minute. */
const tick = Effect.gen(function*() {
  const { zone } = yield* BusinessTimeZone
  const now = yield* DateTime.now
  const slot = DateTime.startOf(now, "minute")
  for (const job of due(now, zone)) {
    yield* Scheduler.runSlot(job, slot).pipe(
      Effect.catchAll((error) => Effect.logError(`${job}: ${error.message}`))
    )
  }
})

const program = Effect.gen(function*() {
  yield* Scheduler.catchUp
  // At second 0 of every minute (the host's own planner could be anything that calls `tick`).
  yield* tick.pipe(Effect.repeat(Schedule.cron("* * * * *")))
})

// The host's services: its database, the library (with the bonus ledger on the same database), the Site.
const host = Layer.mergeAll(ProntoNotify.layer(), SiteSender.layerConfig).pipe(
  Layer.provideMerge(Database.layer())
)

NodeRuntime.runMain(program.pipe(Effect.provide(host)))
