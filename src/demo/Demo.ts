/**
 * `pronto-notify demo`: a fresh embedded PostgreSQL, a fake Site on 127.0.0.1, a synthetic chain
 * of a few thousand clients, the jobs on their real schedule over simulated days, and a summary.
 */
import { Console, DateTime, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { BusinessTimeZone } from "../BusinessTime.ts"
import * as Database from "../Database.ts"
import { installReferenceHostSchema } from "../HostSchema.ts"
import { migrate } from "../Migrations.ts"
import * as ProntoNotify from "../ProntoNotify.ts"
import * as SiteSender from "../SiteSender.ts"
import * as FakeSite from "./FakeSite.ts"
import { simulate } from "./Simulation.ts"

export const DEMO = {
  seed: 20261124,
  clients: 3000,
  start: DateTime.unsafeMake("2026-09-01T00:00:00Z"),
  days: 7,
  historyDays: 90
}

export const runDemo = Effect.gen(function*() {
  const started = Date.now()
  yield* Console.log("pronto-notify demo: starting embedded PostgreSQL and a fake Site on 127.0.0.1 ...")
  const site = yield* FakeSite.make("demo-site-key")
  const { name: zoneName } = yield* BusinessTimeZone
  const program = Effect.gen(function*() {
    yield* installReferenceHostSchema
    yield* migrate
    yield* Console.log(
      `simulating ${DEMO.clients} clients, ${DEMO.historyDays} days of history, then ${DEMO.days} days of jobs (${zoneName}) ...`
    )
    const result = yield* simulate(DEMO, site)
    const sent = result.runs.reduce((n, r) => n + r.sent, 0)
    const invalid = result.runs.reduce((n, r) => n + r.invalid, 0)
    yield* Console.log(`\n${result.runs.length} job runs, ${result.orders} orders, ${sent} messages sent, ${invalid} invalid phones skipped`)
    yield* Console.log("kind      action  sent")
    for (const row of result.sentByKindAction) {
      yield* Console.log(`${row.kind.padEnd(9)} ${String(row.action).padStart(6)}  ${String(row.sent).padStart(5)}`)
    }
    yield* Console.log(`\nthe fake Site received ${result.received.length} messages; done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })
  yield* program.pipe(
    Effect.provide(
      Layer.mergeAll(
        ProntoNotify.layer({ timeZone: zoneName }),
        SiteSender.layer({ url: site.url, key: Redacted.make(site.key) })
      ).pipe(Layer.provideMerge(Database.layerEmbedded("temporary")))
    )
  )
}).pipe(
  Effect.scoped,
  Effect.provide(BusinessTimeZone.layerConfig),
  // The summary is the demo's output; per-message warnings (the synthetic invalid phones) are not.
  Logger.withMinimumLogLevel(LogLevel.Error)
)
