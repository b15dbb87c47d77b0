/**
 * Delivery that respects the customer (issue 23), each finding reproduced first:
 * - a message the Site refuses for good gets one POST per slot, however often the slot is retried,
 *   and takes one rotation turn; the next slot of its kind tries it again;
 * - no text outside the sending hours, on the library's path (a host's planner at any hour) and
 *   the command line's;
 * - an operator's "not delivered" a day after a feedback order reaches the customer once;
 * - a dead Site leaves at most the breaker's threshold in doubt at 8 and at 64 in flight, an outage
 *   mid-run at most what was in flight plus the threshold.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { DateTime, Effect, Fiber, Layer, Logger, LogLevel, Option, Redacted, TestClock } from "effect"
import * as Database from "../src/database/Database.ts"
import { poolSizeFor } from "../src/delivery/InFlight.ts"
import { RecordingSender, SendFailed, SendInDoubt } from "../src/delivery/Sender.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import { BREAKER_THRESHOLD } from "../src/engine/Breaker.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import * as JobRuns from "../src/scheduling/JobRuns.ts"
import * as Scheduler from "../src/scheduling/Scheduler.ts"
import { settleNotDelivered } from "../src/store/InDoubt.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as Cli from "./support/Cli.ts"
import { insertClient, insertOrder, moscow } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { migratedUrl, truncateAll } from "./support/TestDatabase.ts"
import * as TestSite from "./support/TestSite.ts"

const phoneOf = (id: number) => `8916${String(id).padStart(7, "0")}`

/** A client whose last order closed at `at`, on time for band B of an invite on 20 May (20 days before). */
const lapsed = (id: number, at = moscow("2026-04-30", "10:00")) =>
  Effect.zipRight(insertClient({ id, lastOrderAt: at }), insertOrder({ clientId: id, closedAt: at }))

const turnOf = (actionSet: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ next: string }>`SELECT next_turn::text AS next FROM pronto_notify.rotation WHERE action_set = ${actionSet}`).pipe(
      Effect.map((rows) => Number(rows[0]?.next ?? 0))
    )

/** Lets a retrying fiber's waits pass on the TestClock until it is done. */
const settle = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* Fiber.join(fiber)
      yield* TestClock.adjust("1 minute")
    }
    return yield* Effect.dieMessage("the slot never ended")
  })

const quiet = Layer.merge(Harness.layer, Logger.minimumLogLevel(LogLevel.Error))

layer(quiet, { timeout: "120 seconds" })("a message the Site refuses for good", (it) => {
  it.effect("gets one POST in a slot that is retried, takes one rotation turn, and is tried again at the next slot", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      for (const id of [1, 2, 3, 4, 5, 6]) yield* lapsed(id)
      // Client 3's phone is refused for good; client 5's send fails once in a way that may pass.
      let failedOnce = false
      yield* recorder.answerWith((m) => {
        if (m.phone === phoneOf(3)) return Effect.fail(new SendFailed({ reason: "the Site sent 0 messages", lasting: true }))
        if (m.phone === phoneOf(5) && !failedOnce) {
          failedOnce = true
          return Effect.fail(new SendFailed({ reason: "the Site answered HTTP 503" }))
        }
        return Effect.void
      })
      const before = (yield* recorder.attempts).length
      yield* Harness.at(moscow("2026-05-20", "12:00"))
      const fiber = yield* Effect.fork(Scheduler.runLatestRetrying("invite"))
      const result = yield* settle(fiber)
      expect(Option.map(result, (r) => r._tag)).toEqual(Option.some("Ran"))
      const posts = (yield* recorder.attempts).slice(before).map((m) => m.phone)
      expect(posts.filter((p) => p === phoneOf(3))).toHaveLength(1)
      expect(posts.filter((p) => p === phoneOf(5))).toHaveLength(2)
      expect(posts).toHaveLength(7)
      // Six turns in the first try, one in the retry (client 5 alone): the refused one took one.
      expect(yield* turnOf("invite:B")).toBe(7)
      const [row] = yield* JobRuns.list({ job: "invite" })
      expect(row).toMatchObject({ status: "done", attempts: 2, summary: { sent: 1, refused: 1, failed: 0 } })

      // The next day's slot tries the refused one again, once.
      yield* Harness.at(moscow("2026-05-21", "12:00"))
      const next = yield* Jobs.run("invite")
      expect(next).toMatchObject({ selected: 1, refused: 1, sent: 0 })
      expect((yield* recorder.attempts).slice(before + 7).map((m) => m.phone)).toEqual([phoneOf(3)])
      yield* recorder.answerWith(() => Effect.void)
    }))

  it.effect("feedback: a refused order is posted once per hourly slot, not once per retry", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      for (const id of [1, 2]) {
        yield* insertClient({ id })
        yield* insertOrder({ clientId: id, closedAt: moscow("2026-03-10", "11:30") })
      }
      let failures = 0
      yield* recorder.answerWith((m) =>
        m.phone === phoneOf(1)
          ? Effect.fail(new SendFailed({ reason: "the Site answered HTTP 400", lasting: true }))
          : failures++ < 3
          ? Effect.fail(new SendFailed({ reason: "the Site could not be reached (ECONNREFUSED)" }))
          : Effect.void
      )
      const before = (yield* recorder.attempts).length
      for (const hour of ["12:00", "13:00"]) {
        yield* Harness.at(moscow("2026-03-10", hour))
        yield* settle(yield* Effect.fork(Scheduler.runLatestRetrying("feedback")))
      }
      const posts = (yield* recorder.attempts).slice(before).map((m) => m.phone)
      expect(posts.filter((p) => p === phoneOf(1))).toHaveLength(2)
      expect(posts.filter((p) => p === phoneOf(2))).toHaveLength(4)
      yield* recorder.answerWith(() => Effect.void)
    }))
})

layer(quiet, { timeout: "120 seconds" })("the sending hours, on the library's path", (it) => {
  for (const at of [moscow("2026-03-15", "03:00"), moscow("2026-03-15", "22:30"), moscow("2026-03-15", "10:59")]) {
    it.effect(`a run asked for at ${at} texts nobody and says why`, () =>
      Effect.gen(function*() {
        yield* truncateAll
        const recorder = yield* RecordingSender
        yield* insertClient({ id: 1 })
        yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-14", "21:00") })
        const before = (yield* recorder.attempts).length
        yield* Harness.at(at)
        expect(yield* Jobs.run("feedback")).toMatchObject({ selected: 0, sent: 0, stopped: "sending-hours" })
        expect(yield* Jobs.resend("feedback")).toMatchObject({ sent: 0, stopped: "sending-hours" })
        expect((yield* recorder.attempts).length).toBe(before)
        expect(yield* turnOf("feedback")).toBe(0)
        // At the first minute of the hours, and the last, the same order goes out.
        yield* Harness.at(moscow("2026-03-15", "11:00"))
        expect(yield* Jobs.run("feedback")).toMatchObject({ selected: 1, sent: 1 })
      }))
  }

  it.effect("22:00 is the last minute: a run at 22:00:59 sends, one at 22:01 does not", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-15", "21:00") })
      yield* Harness.at(moscow("2026-03-15", "22:01"))
      expect(yield* Jobs.run("feedback")).toMatchObject({ sent: 0, stopped: "sending-hours" })
      yield* Harness.at(new Date(Date.parse(moscow("2026-03-15", "22:01")) - 1).toISOString())
      expect(yield* Jobs.run("feedback")).toMatchObject({ sent: 1 })
    }))
})

describe("the sending hours, on the command line", { timeout: 120_000 }, () => {
  it.scopedLive("run at 03:00 and at 22:30 texts nobody and exits 6; run at 22:00:58 stops posting at 22:01", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const site = yield* TestSite.make()
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, 20) AS i`
        yield* sql`
          INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
          SELECT gen_random_uuid(), i, 'site', true, 'closed', ${new Date(moscow("2026-03-14", "21:30"))}, 1000
          FROM generate_series(1, 20) AS i
        `
      }).pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 2 })), Effect.orDie)
      const env = { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: "k", NOTIFY_TIME_ZONE: "Europe/Moscow" }
      for (const at of ["2026-03-15T03:00:00+03:00", "2026-03-14T22:30:00+03:00"]) {
        const run = yield* Cli.run(["run", "feedback", "--at", at, "--json"], env)
        expect(run.code, run.stderr).toBe(6)
        expect(JSON.parse(run.stdout)).toMatchObject({ selected: 0, sent: 0, stopped: "sending-hours" })
      }
      expect(site.received()).toHaveLength(0)

      // One message at a time, each taking 700 ms: from 22:00:58 three start before 22:01, no more.
      site.answer(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{\"mesages_sent\":1}", delayMs: 700 }))
      const late = yield* Cli.run(["run", "feedback", "--at", "2026-03-14T22:00:58+03:00", "--json"], { ...env, SITE_IN_FLIGHT: "1" })
      const summary = JSON.parse(late.stdout)
      expect(summary).toMatchObject({ stopped: "sending-hours" })
      expect(summary.sent).toBeGreaterThanOrEqual(1)
      expect(summary.sent).toBeLessThanOrEqual(3)
      expect(site.received()).toHaveLength(summary.sent)
      expect(late.code).toBe(6)
    }))
})

layer(quiet, { timeout: "120 seconds" })("an operator's \"not delivered\"", (it) => {
  it.effect("a day after a feedback order: sent once by the next run, its order marked once", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "10:00") })
      yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "no answer within 10s" })))
      yield* Harness.at(moscow("2026-03-10", "11:00"))
      expect(yield* Jobs.run("feedback")).toMatchObject({ inDoubt: 1 })
      yield* recorder.answerWith(() => Effect.void)
      const [stored] = yield* Harness.notifications
      const before = (yield* recorder.sent).length

      // The next evening, outside the 24 hours the selector looks back (and after the sending hours).
      yield* Harness.at(moscow("2026-03-11", "23:00"))
      yield* settleNotDelivered(stored!.id)
      yield* Harness.at(moscow("2026-03-12", "11:00"))
      expect(yield* Jobs.run("feedback")).toMatchObject({ selected: 1, sent: 1 })
      yield* Harness.at(moscow("2026-03-12", "12:00"))
      expect(yield* Jobs.run("feedback")).toMatchObject({ selected: 0, sent: 0 })
      expect((yield* recorder.sent).slice(before).map((m) => m.phone)).toEqual([phoneOf(1)])
      expect((yield* Harness.notifications).map((n) => [n.id, n.orderUid, n.status])).toEqual([[stored!.id, uid, "sent"]])
      const marks = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pronto_notify.order_marks WHERE order_uid = ${uid}::uuid`
      expect(marks[0]!.n).toBe(1)
    }))
})

describe("an operator's \"not delivered\" on the command line", { timeout: 120_000 }, () => {
  it.scopedLive("within the sending hours it goes out at once, once; a message whose order is gone is said so", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const site = yield* TestSite.make()
      const db = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
        effect.pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 1 })), Effect.orDie)
      const [kept, deleted] = yield* db(Effect.gen(function*() {
        yield* insertClient({ id: 1 })
        yield* insertClient({ id: 2 })
        return [
          yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "10:00") }),
          yield* insertOrder({ clientId: 2, closedAt: moscow("2026-03-10", "10:05") })
        ]
      }))
      const env = { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: "k", NOTIFY_TIME_ZONE: "Europe/Moscow" }
      site.answer(() => "hang")
      const first = yield* Cli.run(["run", "feedback", "--at", "2026-03-10T11:00:00+03:00", "--json"], env)
      expect(JSON.parse(first.stdout)).toMatchObject({ inDoubt: 2 })
      site.answer(() => TestSite.OK)
      yield* db(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`DELETE FROM jupiter.orders WHERE uid = ${deleted}::uuid`))
      const received = site.received().length

      // The next day at noon, within the sending hours.
      const noon = { start: "2026-03-11T09:00:00Z", anchor: new Date().toISOString() }
      const settled = yield* Cli.run(["settle", "--kind", "feedback", "--not-delivered"], env, noon)
      expect(settled.code, settled.stderr).toBe(0)
      const ids = yield* db(Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ id: string }>`SELECT id::text AS id FROM pronto_notify.notifications ORDER BY notifications.id`))
      expect(settled.stdout.trim().split("\n")).toEqual([
        "2 messages settled as not delivered",
        "  1 sent again now: 1 sent",
        expect.stringMatching(new RegExp(`^  notification \\d+ \\(feedback\\) cannot go out again: order ${deleted} is no longer in jupiter\\.orders; it is forgotten$`))
      ])
      expect(ids).toHaveLength(1)
      expect(site.received().slice(received).map((r) => new URLSearchParams(r.body).get("phones"))).toEqual([phoneOf(1)])
      // Nothing more goes out for it.
      const again = yield* Cli.run(["run", "feedback", "--at", "2026-03-11T13:00:00+03:00", "--json"], env)
      expect(JSON.parse(again.stdout)).toMatchObject({ selected: 0, sent: 0 })
      expect(site.received().length).toBe(received + 1)
      expect(kept).toBeDefined()
    }))
})

describe("bounded doubt", { timeout: 180_000 }, () => {
  const run = (url: string, siteUrl: string, inFlight: number) =>
    Jobs.run("feedback").pipe(
      withClockAt(DateTime.unsafeMake("2026-03-10T08:00:00.000Z")),
      Effect.provide(
        Layer.mergeAll(ProntoNotify.layer({ inFlight }), SiteSender.layer({ url: siteUrl, key: Redacted.make("k"), timeout: "300 millis" }))
          .pipe(Layer.provideMerge(Database.layerUrl(url, { maxConnections: poolSizeFor(inFlight) })))
      ),
      Logger.withMinimumLogLevel(LogLevel.None)
    )
  const seed = (url: string, n: number) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`TRUNCATE jupiter.orders, jupiter.clients, pronto_notify.notifications, pronto_notify.order_marks CASCADE`
      yield* sql`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${n}) AS i`
      yield* sql`
        INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
        SELECT gen_random_uuid(), i, 'site', true, 'closed', '2026-03-10T07:00:00Z'::timestamptz + make_interval(secs => i), 1000
        FROM generate_series(1, ${n}) AS i
      `
    }).pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 1 })), Effect.orDie)

  for (const inFlight of [8, 64]) {
    it.scopedLive(`at ${inFlight} in flight: a Site dead from the first message leaves at most ${BREAKER_THRESHOLD} in doubt`, () =>
      Effect.gen(function*() {
        const url = yield* migratedUrl
        const site = yield* TestSite.make()
        site.answer(() => "hang")
        yield* seed(url, 200)
        const summary = yield* run(url, site.url, inFlight)
        expect(summary).toMatchObject({ sent: 0, stopped: "circuit-breaker" })
        expect(summary.inDoubt).toBeLessThanOrEqual(BREAKER_THRESHOLD)
        expect(site.received().length).toBe(summary.inDoubt)
      }))

    it.scopedLive(`at ${inFlight} in flight: an outage mid-run leaves at most ${inFlight} + ${BREAKER_THRESHOLD} in doubt`, () =>
      Effect.gen(function*() {
        const url = yield* migratedUrl
        const site = yield* TestSite.make()
        let answered = 0
        site.answer(() => (++answered <= 150 ? TestSite.OK : "hang"))
        yield* seed(url, 400)
        const summary = yield* run(url, site.url, inFlight)
        expect(summary.sent).toBeGreaterThanOrEqual(100)
        expect(summary).toMatchObject({ stopped: "circuit-breaker" })
        expect(summary.inDoubt).toBeLessThanOrEqual(inFlight + BREAKER_THRESHOLD)
        expect(summary.sent + summary.inDoubt).toBe(site.received().length)
      }))
  }
})
