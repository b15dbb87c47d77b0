/**
 * The cost of the report's decision and trend over 30 days of 1M notifications to 300 000 clients
 * (so most clients have several messages): its one statement of its own (the counts per group,
 * action and week, with the last four weeks' pace; its sums over the clients come with the
 * figures' statement), timed best of 3, beside that figures statement and the whole
 * `Report.compute` once. Speed is measured here, never asserted in tests.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/report-decision.ts [--json]
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer } from "effect"
import * as Database from "../src/database/Database.ts"
import { installReferenceHostSchema } from "../src/host/HostSchema.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import { migrate } from "../src/migrations/Migrations.ts"
import { PACE_DAYS } from "../src/report/Decision.ts"
import { figures } from "../src/report/Figures.ts"
import { inPeriodOf } from "../src/report/Period.ts"
import * as Report from "../src/report/Report.ts"
import { weeklyCounts } from "../src/report/WeeklyCounts.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import { withScratchDatabase } from "./BenchDatabase.ts"

const NOTIFICATIONS = 1_000_000
const CLIENTS = 300_000
const START = DateTime.unsafeMake("2026-03-01T00:00:00Z")
const END = DateTime.add(START, { days: 30 })
const json = process.argv.includes("--json")
const say = (line: string) => (json ? console.error(line) : console.log(line))

const seed = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Kinds and action sets by share; actions in rotation; a quarter reacted, the last days' messages pending.
  yield* sql`
    INSERT INTO pronto_notify.notifications
      (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at,
       sent_at, reaction, reacted_at)
    SELECT k.kind, k.action_set, 'bench-' || i, abs(hashint4(i * 31)) % ${CLIENTS} + 1, '89160000001', a, a, 'text', 'sent', at, at,
           CASE WHEN at > ${DateTime.toDateUtc(END)}::timestamptz - interval '3 days' THEN 'pending'
                WHEN hashint4(i) % 4 = 0 THEN 'reacted' ELSE 'none' END,
           CASE WHEN hashint4(i) % 4 = 0 THEN at + interval '2 days' END
    FROM generate_series(1, ${NOTIFICATIONS}) i
    CROSS JOIN LATERAL (
      SELECT CASE WHEN i % 20 < 10 THEN 'feedback' WHEN i % 20 < 12 THEN 'invite' WHEN i % 20 < 17 THEN 'invite'
                  WHEN i % 20 < 19 THEN 'birthday' ELSE 'profile' END AS kind,
             CASE WHEN i % 20 < 10 THEN 'feedback' WHEN i % 20 < 12 THEN 'invite:A' WHEN i % 20 < 17 THEN 'invite:B'
                  WHEN i % 20 < 19 THEN 'birthday' ELSE 'profile' END AS action_set
    ) k
    CROSS JOIN LATERAL (
      SELECT (CASE k.action_set WHEN 'invite:A' THEN (i / 20) % 3 WHEN 'profile' THEN 0 ELSE (i / 20) % 2 END + 1)::smallint AS a,
             ${DateTime.toDateUtc(START)}::timestamptz + make_interval(secs => (i::float8 / ${NOTIFICATIONS}) * 30 * 86400) AS at
    ) x
  `
  yield* sql`ANALYZE`
})

const best = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    let rows = 0
    for (let i = 0; i < 3; i++) {
      const start = performance.now()
      const result = yield* effect
      times.push(performance.now() - start)
      rows = Array.isArray(result) ? result.length : 0
    }
    const ms = Math.min(...times)
    say(`${label}: ${ms.toFixed(0)} ms (best of 3), ${rows} rows`)
    return { measure: label, ms: Math.round(ms) }
  })

const program = Effect.gen(function*() {
  yield* installReferenceHostSchema
  yield* migrate
  const started = performance.now()
  yield* seed
  say(`seeded ${NOTIFICATIONS} notifications to ${CLIENTS} clients over 30 days in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  const sql = yield* SqlClient.SqlClient
  const inPeriod = inPeriodOf(sql, { from: START, to: END })
  const pace = { from: DateTime.subtract(END, { days: PACE_DAYS }), to: END }
  const weekly = yield* best("counts per group, action and week, with the pace", weeklyCounts({ inPeriod, tz: "Europe/Moscow", pace }))
  const figured = yield* best("for comparison: the figures' statement", figures({ inPeriod, orderKinds: ["invite", "birthday"] }))
  const whole = performance.now()
  yield* withClockAt(END)(Report.compute({ from: START, to: END }))
  const wholeMs = Math.round(performance.now() - whole)
  say(`the whole report (Report.compute, once): ${wholeMs} ms; the weekly counts' share ${((100 * weekly.ms) / wholeMs).toFixed(0)}%`)
  if (json) console.log(JSON.stringify({ measures: [weekly, figured], whole: wholeMs }))
})

await withScratchDatabase((url) =>
  Effect.runPromise(
    program.pipe(Effect.provide(ProntoNotify.layer().pipe(Layer.provideMerge(Database.layerUrl(url)))))
  )
)
