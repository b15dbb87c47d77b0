/**
 * Volume check of the reaction job: 100 000 pending notifications (25 000 of each kind) on a fresh
 * database, decided in one run; then a second run, which must change nothing; then the same
 * 100 000 again with the bonus look-ups over HTTP (BonusServerHttp against BonusApi on 127.0.0.1).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/reactions.ts
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer, Redacted } from "effect"
import * as BonusApi from "../src/bonus/BonusApi.ts"
import * as BonusLedger from "../src/bonus/BonusLedger.ts"
import * as BonusServerHttp from "../src/bonus/BonusServerHttp.ts"

/** The reaction job only reads: a reader's token. */
const BENCH_TOKEN = Redacted.make("bench-reader-token-5f0a3c")
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as Database from "../src/database/Database.ts"
import { withScratchDatabase } from "./BenchDatabase.ts"
import { installReferenceHostSchema } from "../src/host/HostSchema.ts"
import { migrate } from "../src/migrations/Migrations.ts"
import * as Reactions from "../src/reactions/Reactions.ts"

const PER_KIND = 25_000
const SENT = new Date("2026-03-10T09:00:00Z")
const DAY = 86_400_000
const seed = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const n = PER_KIND * 4
  yield* sql`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${n}) i`
  // Client i gets one notification; kinds by i % 4, sends spread over an hour.
  yield* sql`
    INSERT INTO pronto_notify.notifications
      (kind, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at, sent_at)
    SELECT (ARRAY['feedback', 'profile', 'invite', 'birthday'])[i % 4 + 1], 'bench-' || i, i, '89160000001', 1, 1,
           'text', 'sent', ${SENT}::timestamptz + make_interval(secs => i % 3600), ${SENT}::timestamptz + make_interval(secs => i % 3600)
    FROM generate_series(1, ${n}) i
  `
  // A third react within the window, a sixth after it; plus unrelated history before the sends.
  yield* sql`
    INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at)
    SELECT i, 50, CASE WHEN i % 4 = 0 THEN 'feedback' ELSE 'profile' END,
           ${SENT}::timestamptz + make_interval(days => CASE WHEN i % 5 = 0 THEN 20 ELSE 3 END)
    FROM generate_series(1, ${n}) i WHERE i % 4 IN (0, 1) AND i % 3 = 0
    UNION ALL
    SELECT i, 500, 'order', ${SENT}::timestamptz - interval '30 days' FROM generate_series(1, ${n}) i
  `
  yield* sql`
    INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at)
    SELECT gen_random_uuid(), i, 'site', true, 'closed',
           ${SENT}::timestamptz + make_interval(days => CASE WHEN i % 5 = 0 THEN 20 ELSE 5 END)
    FROM generate_series(1, ${n}) i WHERE i % 4 IN (2, 3) AND i % 3 = 0
    UNION ALL
    SELECT gen_random_uuid(), i, 'site', true, 'closed', ${SENT}::timestamptz - interval '40 days'
    FROM generate_series(1, ${n}) i
  `
  yield* sql`ANALYZE`
})

const timed = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const result = yield* effect
    console.log(`${label}: ${((performance.now() - start) / 1000).toFixed(2)} s`)
    return result
  })

const program = (url: string) =>
  Effect.gen(function*() {
    yield* installReferenceHostSchema
    yield* migrate
    yield* timed("seed 100 000 notifications", seed)
    const at = DateTime.unsafeMake(SENT.getTime() + 15 * DAY)
    const first = yield* timed("reaction run over 100 000 pending", withClockAt(at)(Reactions.run))
    console.log(JSON.stringify(first))
    const second = yield* timed("second run (nothing pending)", withClockAt(at)(Reactions.run))
    console.log(JSON.stringify(second))

    const sql = yield* SqlClient.SqlClient
    const reset = (kinds: ReadonlyArray<string>) =>
      sql`UPDATE pronto_notify.notifications SET reaction = 'pending', reaction_ref = NULL, reacted_at = NULL
          WHERE kind IN ${sql.in(kinds)}`
    yield* reset(["invite", "birthday"])
    yield* timed("  of which the order kinds (50 000, one statement)", withClockAt(at)(Reactions.run))
    yield* reset(["feedback", "profile"])
    yield* timed("  of which the bonus kinds (50 000, 10 blocks)", withClockAt(at)(Reactions.run))

    yield* reset(["feedback", "profile", "invite", "birthday"])
    const viaHttp = yield* Effect.gen(function*() {
      const baseUrl = yield* BonusApi.baseUrl
      return yield* timed(
        "reaction run over 100 000 pending, look-ups over HTTP",
        withClockAt(at)(Reactions.run).pipe(Effect.provide(BonusServerHttp.layer({ baseUrl, token: BENCH_TOKEN })))
      )
    }).pipe(Effect.provide(BonusApi.serve().pipe(
      Layer.provide(BonusLedger.layer),
      Layer.provide(BonusApi.layerTokens([{ name: "bench", token: BENCH_TOKEN, permission: "read" }]))
    )), Effect.scoped)
    console.log(JSON.stringify(viaHttp))
    if (JSON.stringify(viaHttp.byKind) !== JSON.stringify(first.byKind)) throw new Error("HTTP run decided differently")
  }).pipe(Effect.provide(BonusLedger.layer.pipe(Layer.provideMerge(Database.layerUrl(url)))))

await withScratchDatabase((url) => Effect.runPromise(program(url)))
