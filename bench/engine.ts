/**
 * Volume check of the engine: one feedback run over 20 000 eligible orders on a fresh database,
 * sent through the real Site Sender to the fake Site on 127.0.0.1. Prints the run's time, its rate
 * and the process's peak heap, sampled while it runs (memory must not grow with the candidates:
 * they stream, in blocks of 256 slots, with at most 8 in flight). Then a second run, which finds
 * nothing to send.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/engine.ts [orders]
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { withClockAt } from "../src/time/Clock.ts"
import * as Database from "../src/database/Database.ts"
import { withScratchDatabase } from "./BenchDatabase.ts"
import * as FakeSite from "../src/demo/FakeSite.ts"
import { installReferenceHostSchema } from "../src/host/HostSchema.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import { migrate } from "../src/store/Migrations.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"

const ORDERS = Number(process.argv[2] ?? 20_000)
const RUN_AT = DateTime.unsafeMake("2026-03-10T08:00:00Z")
const seed = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${ORDERS}) i`
  yield* sql`
    INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at)
    SELECT gen_random_uuid(), i, 'site', true, 'closed', ${DateTime.toDateUtc(RUN_AT)}::timestamptz - make_interval(secs => i % 80000)
    FROM generate_series(1, ${ORDERS}) i
  `
})

const program = (url: string) =>
  Effect.gen(function*() {
    const site = yield* FakeSite.make("bench-key")
    const run = Jobs.run("feedback").pipe(
      withClockAt(RUN_AT),
      Effect.provide(
        Layer.mergeAll(ProntoNotify.layer(), SiteSender.layer({ url: site.url, key: Redacted.make(site.key) })).pipe(
          Layer.provideMerge(Database.layerUrl(url))
        )
      )
    )
    yield* Effect.zipRight(installReferenceHostSchema, migrate).pipe(Effect.zipRight(seed), Effect.provide(Database.layerUrl(url)))

    let peak = 0
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 50)
    const before = process.memoryUsage().heapUsed
    const started = performance.now()
    const summary = yield* run
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    console.log(JSON.stringify({ orders: ORDERS, sent: summary.sent, seconds: Number(seconds.toFixed(1)), perSecond: Math.round(summary.sent / seconds), heapBeforeMB: Math.round(before / 2 ** 20), heapPeakMB: Math.round(peak / 2 ** 20) }))
    const again = yield* run
    console.log(JSON.stringify({ secondRun: { selected: again.selected, sent: again.sent } }))
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error))

await withScratchDatabase((url) => Effect.runPromise(program(url)))
