/**
 * Only a POST that started is ever in doubt: every attempt records when its POST starts, and an
 * attempt without that start, made by a run that is certainly gone (its token's lock is free), is
 * released by the next run and sent then. Tested with a real process killed by SIGKILL.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { DateTime, Effect, Layer, Logger, LogLevel } from "effect"
import pg from "pg"
import * as Database from "../src/database/Database.ts"
import { RecordingSender } from "../src/delivery/Sender.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import * as RunSession from "../src/store/RunSession.ts"
import * as Kind from "../src/kinds/Kind.ts"
import { outsideTransaction } from "../src/store/Transactions.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as Cli from "./support/Cli.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { Nudge } from "./support/NudgeKind.ts"
import { migratedUrl, truncateAll } from "./support/TestDatabase.ts"
import * as TestSite from "./support/TestSite.ts"

/** 11:00 in Moscow. */
const SLOT = "2026-03-10T08:00:00.000Z"
const slot = DateTime.unsafeMake(SLOT)
const minutesBefore = (m: number) => new Date(Date.parse(SLOT) - m * 60_000).toISOString()

/** An attempt recorded as a run would before its POST (no POST start), stamped with `token`. */
const unstartedAttempt = (orderUid: string, token: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO pronto_notify.notifications (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action,
        performed_action, text, status, attempted_at, run_token)
      VALUES ('feedback', 'feedback', ${orderUid}, 1, ${orderUid}::uuid, '89160000001', 1, 1, 'text', 'in_doubt',
        ${new Date(SLOT)}, ${token})
    `)

const statuses = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ orderUid: string; status: string; started: boolean }>`
    SELECT order_uid::text AS "orderUid", status, post_started_at IS NOT NULL AS started
    FROM pronto_notify.notifications ORDER BY notifications.id
  `)

const quiet = Layer.merge(Harness.layer, Logger.minimumLogLevel(LogLevel.Error))

layer(quiet, { timeout: "120 seconds", excludeTestServices: true })("attempts whose POST never started", (it) => {
  it.effect("are kept while their run lives, released and sent once it is gone; one whose POST started stays in doubt", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const [unstarted, started] = [
        yield* insertOrder({ clientId: 1, closedAt: minutesBefore(30) }),
        yield* insertOrder({ clientId: 1, closedAt: minutesBefore(20) })
      ]
      const sql = yield* SqlClient.SqlClient
      const before = (yield* recorder.sent).length
      yield* Effect.scoped(Effect.gen(function*() {
        // Another run, alive: its attempts must be left alone.
        const other = yield* RunSession.acquire
        yield* unstartedAttempt(unstarted, other.token)
        yield* unstartedAttempt(started, other.token)
        yield* sql`UPDATE pronto_notify.notifications SET post_started_at = attempted_at WHERE order_uid = ${started}::uuid`
        const summary = yield* Jobs.run("feedback").pipe(withClockAt(slot))
        expect(summary).toMatchObject({ selected: 0, sent: 0 })
        expect((yield* statuses).map((s) => [s.orderUid, s.status])).toEqual([[unstarted, "in_doubt"], [started, "in_doubt"]])
      }))
      // That run is gone: its unstarted attempt is released and sent; the started one stays in doubt.
      const after = yield* Jobs.run("feedback").pipe(withClockAt(DateTime.unsafeMake(minutesBefore(-60))))
      expect(after).toMatchObject({ selected: 1, sent: 1, inDoubt: 0 })
      expect((yield* recorder.sent).length).toBe(before + 1)
      expect((yield* statuses).map((s) => [s.orderUid, s.status, s.started]).sort()).toEqual(
        [[unstarted, "sent", true], [started, "in_doubt", true]].sort()
      )
    }))

  it.effect("an attempt released by another run before its POST started is not sent", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const before = (yield* recorder.attempts).length
      // A kind whose action, inside the notification's transaction, lets another run release the
      // attempt (from a connection of its own), as one would that took this run for dead.
      const released = Kind.make({
        ...Nudge,
        plan: () => Effect.succeed({ performedAction: 1, text: "Загляни к нам!" }),
        perform: (_candidate, _plan, { notificationId }) =>
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            outsideTransaction(sql`DELETE FROM pronto_notify.notifications WHERE id = ${notificationId}`)).pipe(
              Effect.as(Kind.nothingGranted)
            )
      })
      const summary = yield* Jobs.run(released).pipe(withClockAt(slot))
      expect(summary).toMatchObject({ selected: 1, sent: 0, failed: 1, inDoubt: 0 })
      expect((yield* recorder.attempts).length).toBe(before)
      expect(yield* statuses).toEqual([])
    }))
})

describe("a process killed with SIGKILL mid-run", { timeout: 180_000 }, () => {
  it.scopedLive("leaves in doubt only what it started to post; the next run sends the rest, none twice", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const n = 60
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${n}) AS i`
        yield* sql`
          INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
          SELECT gen_random_uuid(), i, 'site', true, 'closed', ${new Date(SLOT)}::timestamptz - make_interval(secs => i), 1000
          FROM generate_series(1, ${n}) AS i
        `
      }).pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 2 })), Effect.orDie)
      // Once 20 messages are through, the table of order marks is locked: the deliveries then in
      // flight block in their actions, after recording their attempts and before their POSTs.
      const [locker, watcher] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })]
      for (const client of [locker, watcher]) {
        yield* Effect.promise(() => client.connect())
        yield* Effect.addFinalizer(() => Effect.promise(() => client.end()))
      }
      const site = yield* TestSite.make()
      let answered = 0
      site.answer(() => {
        if (++answered === 20) void locker.query("BEGIN; LOCK TABLE pronto_notify.order_marks IN ACCESS EXCLUSIVE MODE")
        return TestSite.OK
      })
      const env = { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: "k", NOTIFY_TIME_ZONE: "Europe/Moscow" }
      const child = Cli.start(["run", "feedback", "--at", SLOT], env)
      const blocked = () =>
        Effect.promise(() =>
          watcher.query<{ n: number }>(`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%order_marks%'
          `)
        ).pipe(Effect.map((r) => r.rows[0]!.n))
      while ((yield* blocked()) < 5) yield* Effect.sleep("50 millis")
      yield* Effect.sleep("500 millis")
      child.kill("SIGKILL")
      yield* Cli.finish(child)
      yield* Effect.promise(() => locker.query("ROLLBACK"))

      const left = yield* statusesAt(url)
      const inDoubt = left.filter((s) => s.status === "in_doubt")
      // The attempts in flight at the kill had not started their POSTs.
      expect(inDoubt.length).toBeGreaterThanOrEqual(5)
      expect(inDoubt.every((s) => !s.started)).toBe(true)
      const receivedAtKill = site.received().length

      const rerun = yield* Cli.run(["run", "feedback", "--at", SLOT, "--json"], env)
      expect(rerun.code, rerun.stderr).toBe(0)
      expect(rerun.stderr).toContain(`released ${inDoubt.length} attempts whose POST never started`)
      const final = yield* statusesAt(url)
      expect(final.filter((s) => s.status === "in_doubt")).toEqual([])
      expect(final.filter((s) => s.status === "sent")).toHaveLength(n)
      const phones = site.received().map((r) => new URLSearchParams(r.body).get("phones"))
      expect(phones).toHaveLength(n)
      expect(new Set(phones).size).toBe(n)
      expect(site.received().length - receivedAtKill).toBe(n - receivedAtKill)
    }))
})

const statusesAt = (url: string) =>
  statuses.pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 1 })), Effect.orDie)
