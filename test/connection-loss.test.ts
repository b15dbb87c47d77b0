/**
 * A run whose database connections are lost (a PostgreSQL restart, a failover, a DBA killing a
 * query: `pg_terminate_backend` here) ends promptly, leaves its slot to be retried, and sends
 * nothing twice. Candidates are read in keyset pages, so no cursor outlives a statement (a
 * cursor's close never returns on a dead connection).
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { DateTime, Effect, Fiber, Layer, Logger, LogLevel, Option } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { BonusServer } from "../src/bonus/BonusServer.ts"
import * as Database from "../src/database/Database.ts"
import { RecordingSender } from "../src/delivery/Sender.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import { PAGE_SIZE } from "../src/kinds/Selection.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import * as JobRuns from "../src/scheduling/JobRuns.ts"
import * as Scheduler from "../src/scheduling/Scheduler.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as Cli from "./support/Cli.ts"
import * as Harness from "./support/Harness.ts"
import { migratedUrl, truncateAll } from "./support/TestDatabase.ts"
import * as TestSite from "./support/TestSite.ts"

/** 11:00 in Moscow, a feedback slot. */
const SLOT = "2026-03-10T08:00:00.000Z"
const slot = DateTime.unsafeMake(SLOT)

/** An admin connection of the test's own, on the server's maintenance database. */
const adminClient = Effect.acquireRelease(
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: inject("adminDatabaseUrl") })
    await client.connect()
    return client
  }),
  (client) => Effect.promise(() => client.end())
)

/** Terminates the backends of `database` matching `where` (never the admin's own), and says which. */
const terminate = (admin: pg.Client, database: string, where = "true") =>
  Effect.promise(() =>
    admin.query<{ pid: number }>(
      // Chosen first (MATERIALIZED), so that no backend is terminated before the conditions are checked.
      `WITH chosen AS MATERIALIZED (
         SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND (${where})
       )
       SELECT pid FROM chosen WHERE pg_terminate_backend(pid)`,
      [database]
    )
  ).pipe(Effect.map((r) => r.rows.map((row) => row.pid)))

const currentDatabase = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ name: string }>`SELECT current_database() AS name`).pipe(Effect.map((rows) => rows[0]!.name))

/** `n` feedback orders of `n` clients (phones 8916xxxxxxx), closed at `distinct` instants before the slot. */
const seedOrders = (n: number, distinct = n) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${n}) AS i`,
      sql`
        INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
        SELECT gen_random_uuid(), i, 'site', true, 'closed',
               ${new Date(SLOT)}::timestamptz - make_interval(secs => 1 + i % ${distinct}), 1000
        FROM generate_series(1, ${n}) AS i
      `
    ], { discard: true }))

const quiet = Layer.merge(Harness.layer, Logger.minimumLogLevel(LogLevel.Error))

layer(quiet, { timeout: "180 seconds", excludeTestServices: true })("candidates in keyset pages", (it) => {
  it.effect("orders across several pages, ties on the close instant included, are each sent once in close-time then UID order", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      const recorder = yield* RecordingSender
      const before = (yield* recorder.sent).length
      const n = 2 * PAGE_SIZE + 345
      // Five close instants only: pages end in the middle of ties, broken by UID.
      yield* seedOrders(n, 5)
      const summary = yield* Jobs.run("feedback").pipe(withClockAt(slot))
      expect(summary).toMatchObject({ selected: n, sent: n, failed: 0, inDoubt: 0 })
      const phones = (yield* recorder.sent).slice(before).map((m) => m.phone)
      expect(new Set(phones).size).toBe(n)
      const rows = yield* sql<{ action: number }>`
        SELECT n.chosen_action AS action
        FROM pronto_notify.notifications n JOIN jupiter.orders o ON o.uid = n.order_uid
        ORDER BY o.closed_at, o.uid
      `
      expect(rows).toHaveLength(n)
      expect(rows.every((r, i) => r.action === (i % 2) + 1)).toBe(true)
    }))

  it.scoped("a page query whose connection is terminated fails the run at once; the slot is retried and completes", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* sql`TRUNCATE pronto_notify.job_runs`
      const recorder = yield* RecordingSender
      const before = (yield* recorder.sent).length
      const database = yield* currentDatabase
      const admin = yield* adminClient
      const n = 2 * PAGE_SIZE + 10
      yield* seedOrders(n)
      const locker = new pg.Client({ connectionString: inject("adminDatabaseUrl").replace(/\/[^/]*$/, `/${database}`) })
      yield* Effect.promise(() => locker.connect())
      yield* Effect.addFinalizer(() => Effect.promise(() => locker.end()))
      // While the first page is being delivered the orders table is locked: the next page's query
      // waits for the lock, and is terminated while it runs.
      let answered = 0
      yield* recorder.answerWith(() =>
        ++answered === 50 ? Effect.promise(() => locker.query("BEGIN; LOCK TABLE jupiter.orders IN ACCESS EXCLUSIVE MODE")) : Effect.void
      )
      const run = yield* Effect.fork(Scheduler.runSlot("feedback", slot).pipe(withClockAt(slot), Effect.either))
      let killed: ReadonlyArray<number> = []
      for (let i = 0; i < 400 && killed.length === 0; i++) {
        yield* Effect.sleep("50 millis")
        killed = yield* terminate(admin, database, "wait_event_type = 'Lock' AND query LIKE '%FROM jupiter.orders o%'")
      }
      yield* Effect.promise(() => locker.query("ROLLBACK"))
      yield* recorder.answerWith(() => Effect.void)
      expect(killed).toHaveLength(1)
      const first = yield* Fiber.join(run).pipe(Effect.timeout("20 seconds"))
      expect(first._tag).toBe("Left")
      expect((yield* JobRuns.list())[0]).toMatchObject({ job: "feedback", status: "failed", attempts: 1 })
      const again = yield* Scheduler.runSlot("feedback", slot).pipe(withClockAt(slot))
      expect(again._tag).toBe("Ran")
      expect((yield* JobRuns.list())[0]).toMatchObject({ status: "done", attempts: 2 })
      const phones = (yield* recorder.sent).slice(before).map((m) => m.phone)
      expect(phones).toHaveLength(n)
      expect(new Set(phones).size).toBe(n)
    }))

  // Each connection a run uses, terminated mid-run: the run ends (failed, or finished on new
  // connections), the slot is retried until done, and no order gets two messages.
  const targets: ReadonlyArray<[string, string]> = [
    [
      "the run's session (attempts, POST starts)",
      `pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = hashtext('pronto_notify runs')::oid)`
    ],
    ["the notifications' transactions", "state = 'idle in transaction'"],
    [
      "the job's lock",
      `pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = hashtext('pronto_notify job_runs')::oid)`
    ],
    ["the pool's idle connections (pages, rotation)", "state = 'idle'"]
  ]
  for (const [name, where] of targets) {
    it.scoped(`${name} terminated mid-run: the slot is retried to the end and nothing is sent twice`, () =>
      Effect.gen(function*() {
        yield* truncateAll
        const sql = yield* SqlClient.SqlClient
        yield* sql`TRUNCATE pronto_notify.job_runs`
        const recorder = yield* RecordingSender
        const before = (yield* recorder.sent).length
        const database = yield* currentDatabase
        const admin = yield* adminClient
        const n = 300
        yield* seedOrders(n)
        let answered = 0
        const killed: Array<number> = []
        yield* recorder.answerWith(() =>
          ++answered === 50 ? Effect.map(terminate(admin, database, where), (pids) => void killed.push(...pids)) : Effect.void
        )
        const attempts: Array<string> = []
        for (let i = 0; i < 4; i++) {
          const result = yield* Scheduler.runSlot("feedback", slot).pipe(
            withClockAt(slot),
            Effect.either,
            Effect.timeout("30 seconds")
          )
          attempts.push(result._tag === "Right" ? result.right._tag : result.left._tag)
          if (result._tag === "Right") break
          yield* Effect.sleep("200 millis")
        }
        yield* recorder.answerWith(() => Effect.void)
        expect(killed.length, name).toBeGreaterThan(0)
        expect(attempts.at(-1), attempts.join()).toBe("Ran")
        const [row] = yield* JobRuns.list()
        expect(row).toMatchObject({ status: "done" })
        const phones = (yield* recorder.sent).slice(before).map((m) => m.phone)
        expect(new Set(phones).size).toBe(phones.length)
        const stored = yield* sql<{ status: string; n: number }>`
          SELECT status, count(*)::int AS n FROM pronto_notify.notifications GROUP BY status
        `
        const sent = stored.find((r) => r.status === "sent")?.n ?? 0
        const inDoubt = stored.find((r) => r.status === "in_doubt")?.n ?? 0
        expect(sent + inDoubt).toBe(n)
        expect(inDoubt).toBeLessThanOrEqual(8)
        expect(phones.length).toBeGreaterThanOrEqual(sent)
      }))
  }

  it.scoped("the reaction job's pages survive their connection being terminated between blocks", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      const database = yield* currentDatabase
      const admin = yield* adminClient
      const n = Reactions.BLOCK + 500
      yield* sql`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at, sent_at)
        SELECT 'feedback', 'feedback', 't' || i, i, '89160000001', 1, 1, 'text', 'sent', ${new Date(SLOT)}, ${new Date(SLOT)}
        FROM generate_series(1, ${n}) AS i
      `
      const real = yield* BonusServer
      let calls = 0
      // Before the first block is looked up, every other connection to the database is terminated,
      // the one that read the block included.
      const killing = BonusServer.of({
        ...real,
        firstAccruals: (lookups) =>
          Effect.zipRight(calls++ === 0 ? terminate(admin, database) : Effect.succeed([]), real.firstAccruals(lookups))
      })
      const asOf = withClockAt(DateTime.unsafeMake(new Date(Date.parse(SLOT) + 15 * 86_400_000)))
      // It ends (whether the lost connections failed it or not) instead of waiting on a dead cursor ...
      yield* Reactions.run.pipe(Effect.provideService(BonusServer, killing), asOf, Effect.either, Effect.timeout("30 seconds"))
      // ... and runs again: what the first run did not decide, the second does.
      yield* Effect.sleep("200 millis")
      yield* Reactions.run.pipe(asOf)
      const [{ none }] = yield* sql<{ none: number }>`
        SELECT count(*)::int AS none FROM pronto_notify.notifications WHERE reaction = 'none'
      `
      const summary = { none }
      expect(summary.none).toBe(n)
    }))
})

describe("the command line when its connections are terminated mid-run", { timeout: 180_000 }, () => {
  it.scopedLive("run feedback ends instead of hanging, and a second run sends only what is left, none twice", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const database = new URL(url).pathname.slice(1)
      const admin = yield* adminClient
      const site = yield* TestSite.make()
      site.answer(() => ({ status: 200, body: "{\"mesages_sent\":1}", delayMs: 20 }))
      const n = 2 * PAGE_SIZE + 500
      yield* seedOrders(n).pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 2 })), Effect.orDie)
      const env = { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: "k", NOTIFY_TIME_ZONE: "Europe/Moscow" }
      const child = Cli.start(["run", "feedback", "--at", SLOT], env)
      while (site.received().length < 100) yield* Effect.sleep("20 millis")
      const killed = yield* terminate(admin, database)
      expect(killed.length).toBeGreaterThan(0)
      const first = yield* Cli.finish(child).pipe(Effect.timeout("60 seconds"))
      expect(first.code, first.stderr).not.toBeNull()
      const second = yield* Cli.run(["run", "feedback", "--at", SLOT, "--json"], env).pipe(Effect.timeout("90 seconds"))
      expect(second.stderr).not.toContain("k@")
      const phones = site.received().map((r) => new URLSearchParams(r.body).get("phones"))
      // Every order reached the Site at most once; those in flight when the connections died may be in doubt.
      expect(new Set(phones).size).toBe(phones.length)
      const stored = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM pronto_notify.notifications GROUP BY status`).pipe(
          Effect.provide(Database.layerUrl(url, { maxConnections: 1 })),
          Effect.orDie
        )
      const sent = stored.find((r) => r.status === "sent")?.n ?? 0
      const inDoubt = stored.find((r) => r.status === "in_doubt")?.n ?? 0
      expect(sent + inDoubt).toBe(n)
      expect(inDoubt).toBeLessThanOrEqual(16)
      expect(phones.length).toBeGreaterThanOrEqual(sent)
      expect(Option.isSome(Option.fromNullable(second.code))).toBe(true)
    }))
})
