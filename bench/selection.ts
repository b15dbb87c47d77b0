/**
 * Selection at scale (issue 13, P2): each kind's selector (`select`) drained as a run drains it (every keyset
 * page, at the kind's scheduled slot through `withClockAt`) over 1M clients with 1M and then 10M
 * orders, against a hand-written statement for the same rows; then the reaction job and the report
 * over the ~1M notifications that months of running left (bench/SelectionSeed.ts says what is seeded).
 *
 * Bars: feedback at 10M orders at most 1.5 × at 1M (the 9M added orders are older history, outside
 * its 24 hours, so the same orders are eligible: what grows is what it must not scan); invite,
 * profile and birthday at most 2 × the hand query, which must return the same rows in the same
 * order. Best of 3 each. Exit 0 whatever the bars say; FAIL is printed.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/selection.ts [--json] [--plans] [--scale 0.1]
 */
import { type SqlClient, Statement } from "@effect/sql"
import { DateTime, Effect, Logger, LogLevel, ManagedRuntime, Stream, Layer } from "effect"
import * as os from "node:os"
import pg from "pg"
import * as Database from "../src/database/Database.ts"
import { installReferenceHostSchema } from "../src/host/HostSchema.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import type { AnyKind } from "../src/kinds/Kind.ts"
import { BUILT_IN } from "../src/kinds/Kinds.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import * as Report from "../src/report/Report.ts"
import { migrate } from "../src/migrations/Migrations.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import { withScratchDatabase } from "./BenchDatabase.ts"
import { hand } from "./SelectionHand.ts"
import * as Seed from "./SelectionSeed.ts"

const args = process.argv.slice(2)
const JSON_OUT = args.includes("--json")
const PLANS = args.includes("--plans")
const scaleAt = args.indexOf("--scale")
const SCALE = scaleAt >= 0 ? Number(args[scaleAt + 1]) : 1
const CLIENTS = Math.round(1_000_000 * SCALE)
const SMALL = Math.round(1_000_000 * SCALE)
const LARGE = Math.round(10_000_000 * SCALE)
const REPEAT = 3
const FEEDBACK_GROWTH_BAR = 1.5
const HAND_BAR = 2

const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
const millions = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(2)}M` : `${+(n / 1e3).toFixed(1)}k`)

interface Measure {
  readonly measure: string
  readonly value: string
  readonly ms?: number
  readonly rows?: number
  readonly bar?: string
  readonly ratio?: number
  readonly pass?: boolean
}
const measures: Array<Measure> = []

const timed = async (what: string, f: () => Promise<unknown>) => {
  const started = performance.now()
  await f()
  log(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

/** Best of REPEAT, in ms, with the last result. */
const best = async <A>(f: () => Promise<A>): Promise<{ ms: number; result: A }> => {
  let ms = Infinity
  let result: A | undefined
  for (let i = 0; i < REPEAT; i++) {
    const started = performance.now()
    result = await f()
    ms = Math.min(ms, performance.now() - started)
  }
  return { ms, result: result! }
}

/** Runs an effect while recording every statement it executes, compiled. */
const recording = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const statements: Array<readonly [string, ReadonlyArray<unknown>]> = []
    return effect.pipe(
      Statement.withTransformer((statement) => Effect.sync(() => (statements.push(statement.compile()), statement))),
      Effect.map((result) => ({ result, statements }))
    )
  })

const topOfPlan = async (client: pg.Client, text: string, params: ReadonlyArray<unknown>) => {
  const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, [...params])
  const lines = rows.map((r) => r["QUERY PLAN"])
  const scans = lines.filter((l) => /Scan|Join|Sort|Limit|Aggregate|Nested Loop/.test(l)).slice(0, 12)
  return [lines[0]!, ...scans.slice(1), lines.find((l) => l.startsWith("Execution Time")) ?? ""].map((l) => `      ${l.trim()}`)
}

const program = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const runtime = ManagedRuntime.make(
    ProntoNotify.layer().pipe(Layer.provideMerge(Database.layerUrl(url)), Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))
  )
  try {
    await runtime.runPromise(Effect.zipRight(installReferenceHostSchema, migrate))
    await client.query("SET maintenance_work_mem = '1GB'")
    await client.query("SET synchronous_commit = off")

    await timed(`seed ${millions(CLIENTS)} clients, ${millions(SMALL)} orders`, async () => {
      await client.query(Seed.clients(CLIENTS))
      await Seed.withoutIndexes(client, "jupiter.orders", () => client.query(Seed.orders(SMALL, CLIENTS, 0)).then(() => {}))
      await client.query(Seed.lastOrderAt)
    })
    const notificationCount = await seedHistory(client, true)
    await selections(runtime, client, SMALL)
    await reactionsAndReport(runtime, client, notificationCount)

    await timed(`grow to ${millions(LARGE)} orders`, async () => {
      await Seed.withoutIndexes(client, "jupiter.orders", () => client.query(Seed.orders(LARGE - SMALL, CLIENTS, 2)).then(() => {}))
      await client.query(Seed.lastOrderAt)
    })
    await seedHistory(client, false)
    await selections(runtime, client, LARGE)
  } finally {
    await runtime.dispose()
    await client.end()
  }
}

/** The library's history at the current orders (and the bonus ledger the first time); returns the notifications. */
const seedHistory = async (client: pg.Client, ledger: boolean) => {
  await timed("seed notifications and marks", async () => {
    await Seed.withoutIndexes(client, "pronto_notify.notifications", () => Seed.runAll(client, Seed.history.slice(0, 5)))
    await Seed.runAll(client, Seed.history.slice(5))
    if (ledger) await Seed.runAll(client, Seed.accruals)
  })
  await timed("VACUUM ANALYZE", () => client.query("VACUUM ANALYZE"))
  const { rows } = await client.query<{ kind: string; n: string }>(
    "SELECT kind, count(*) AS n FROM pronto_notify.notifications GROUP BY kind ORDER BY kind"
  )
  log(`notifications: ${rows.map((r) => `${r.kind} ${r.n}`).join(", ")}`)
  return rows.reduce((s, r) => s + Number(r.n), 0)
}

type Runtime = ManagedRuntime.ManagedRuntime<Layer.Layer.Success<ReturnType<typeof ProntoNotify.layer>> | SqlClient.SqlClient, unknown>

const drain = (kind: AnyKind, at: DateTime.Utc) =>
  Stream.runCollect(kind.select(at)).pipe(
    withClockAt(at),
    Effect.map((chunk) => Array.from(chunk, (c) => `${c.clientId}|${c.phone}|${c.trigger}|${c.actionSet}`))
  )

const feedbackAt: Array<number> = []

const selections = async (runtime: Runtime, client: pg.Client, orders: number) => {
  const size = millions(orders)
  for (const kind of BUILT_IN) {
    const runAt = Seed.RUN_AT[kind.name]
    const at = DateTime.unsafeMake(runAt)
    const selected = await best(() => runtime.runPromise(recording(drain(kind, at))))
    const manual = await best(() => client.query<{ line: string }>(hand[kind.name]!, [runAt, Seed.TZ]).then((r) => r.rows.map((x) => x.line)))
    const rows = selected.result.result
    const pages = selected.result.statements.length
    const same = rows.length === manual.result.length && rows.every((line, i) => line === manual.result[i])
    if (!same) {
      const i = rows.findIndex((line, j) => line !== manual.result[j])
      console.log(`!!! MISMATCH ${kind.name} at ${size} orders: the selector returned ${rows.length} rows, the hand query ` +
        `${manual.result.length}; first difference at ${i}: ${rows[i]} vs ${manual.result[i]}`)
    }
    measures.push({ measure: `${kind.name}: same rows as the hand query, ${size} orders`, value: `${rows.length} rows`, rows: rows.length, bar: "equal", pass: same })
    const value = `${selected.ms.toFixed(1)} ms, ${rows.length} rows, ${pages} page${pages === 1 ? "" : "s"}`
    if (kind.name === "feedback") {
      feedbackAt.push(selected.ms)
      const first = feedbackAt[0]!
      const growth = feedbackAt.length > 1
        ? { bar: `<= ${FEEDBACK_GROWTH_BAR} x at ${millions(SMALL)} (${first.toFixed(1)} ms)`, ratio: selected.ms / first, pass: selected.ms <= FEEDBACK_GROWTH_BAR * first }
        : {}
      measures.push({ measure: `feedback selector, ${size} orders`, value, ms: selected.ms, rows: rows.length, ...growth })
      measures.push({ measure: `feedback hand query, ${size} orders`, value: `${manual.ms.toFixed(1)} ms`, ms: manual.ms, ratio: selected.ms / manual.ms })
    } else {
      measures.push({
        measure: `${kind.name} selector, ${size} orders`,
        value,
        ms: selected.ms,
        rows: rows.length,
        bar: `<= ${HAND_BAR} x hand query (${manual.ms.toFixed(1)} ms)`,
        ratio: selected.ms / manual.ms,
        pass: selected.ms <= HAND_BAR * manual.ms
      })
    }
    log(`${kind.name} at ${size}: selector ${selected.ms.toFixed(1)} ms (${rows.length} rows, ${pages} pages), hand ${manual.ms.toFixed(1)} ms`)
    if (PLANS) {
      const [text, params] = selected.result.statements[0]!
      console.log(`  ${kind.name} at ${size} orders, the selector's first page:`)
      console.log((await topOfPlan(client, text, params)).join("\n"))
      console.log(`  the hand query:`)
      console.log((await topOfPlan(client, hand[kind.name]!, [runAt, Seed.TZ])).join("\n"))
    }
  }
}

const reactionsAndReport = async (runtime: Runtime, client: pg.Client, notifications: number) => {
  const at = DateTime.unsafeMake(Seed.END)
  const reset = async () => {
    await client.query("UPDATE pronto_notify.notifications SET reaction = 'pending', reaction_ref = NULL, reacted_at = NULL")
    await client.query("VACUUM ANALYZE pronto_notify.notifications")
  }
  let examined = 0
  let statements = 0
  let ms = Infinity
  for (let i = 0; i < REPEAT; i++) {
    if (i > 0) await reset()
    const started = performance.now()
    const run = await runtime.runPromise(recording(withClockAt(at)(Reactions.run)))
    ms = Math.min(ms, performance.now() - started)
    examined = run.result.examined
    statements = run.statements.length
    log(`reaction job: ${(performance.now() - started).toFixed(0)} ms, ${JSON.stringify({ ...run.result, byKind: undefined })}`)
  }
  await client.query("VACUUM ANALYZE pronto_notify.notifications")
  measures.push({
    measure: `reaction job, ${millions(notifications)} notifications`,
    value: `${(ms / 1000).toFixed(1)} s, ${Math.round(examined / (ms / 1000))} rows/s, ${statements} statements`,
    ms,
    rows: examined
  })
  const report = await best(() => runtime.runPromise(recording(withClockAt(at)(Report.compute({})))))
  measures.push({
    measure: `report, ${millions(notifications)} notifications`,
    value: `${(report.ms / 1000).toFixed(1)} s, ${Math.round(notifications / (report.ms / 1000))} rows/s, ${report.result.statements.length} statements`,
    ms: report.ms,
    rows: notifications
  })
}

const machine = async () => {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" })
  await c.connect()
  const { rows } = await c.query<{ v: string; sb: string }>("SELECT current_setting('server_version') AS v, current_setting('shared_buffers') AS sb")
  await c.end()
  return { cores: os.cpus().length, postgres: rows[0]!.v, sharedBuffers: rows[0]!.sb, memoryGB: Math.round(os.totalmem() / 2 ** 30) }
}

const print = (m: { cores: number; postgres: string; sharedBuffers: string }) => {
  const table = [
    ["measure", "value", "bar", "ratio", "result"],
    ...measures.map((x) => [
      x.measure,
      x.value,
      x.bar ?? "",
      x.ratio === undefined ? "" : x.ratio.toFixed(2),
      x.pass === undefined ? "" : x.pass ? "pass" : "FAIL"
    ])
  ]
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)))
  console.log(`\nSelection at scale: ${millions(CLIENTS)} clients; ${m.cores} cores, PostgreSQL ${m.postgres} (shared_buffers ${m.sharedBuffers}); best of ${REPEAT}`)
  for (const r of table) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd())
  const failed = measures.filter((x) => x.pass === false)
  console.log(failed.length === 0 ? "all bars met" : `FAIL: ${failed.map((x) => x.measure).join("; ")}`)
  if (JSON_OUT) console.log(JSON.stringify({ bench: "selection", machine: m, clients: CLIENTS, orders: [SMALL, LARGE], measures, pass: failed.length === 0 }))
}

const info = await machine()
await withScratchDatabase(program)
print(info)
