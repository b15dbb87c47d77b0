import { expect, layer } from "@effect/vitest"
import { SqlClient, SqlError } from "@effect/sql"
import { Effect, Layer, Logger } from "effect"
import * as Jobs from "../src/engine/Jobs.ts"
import { Feedback } from "../src/kinds/Feedback.ts"
import { Attempts } from "../src/store/Attempts.ts"
import { RecordingSender, SendFailed, SendInDoubt } from "../src/delivery/Sender.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import { insertClient, insertOrder, instant } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

// 11:00 in Moscow.
const RUN = "2026-03-10T08:00:00Z"
const hoursBefore = (h: number, iso = RUN) => new Date(Date.parse(iso) - h * 3600_000).toISOString()
const TEXT_50 = "Все понравилось? Оцени заказ и получи 50 баллов!"
const TEXT_100 = "Все понравилось? Оцени заказ в приложении и получи 100 баллов!"

const runFeedback = (iso = RUN) => Effect.zipRight(Harness.at(iso), Jobs.run("feedback"))

const orderMarks = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ orderUid: string }>`SELECT order_uid::text AS "orderUid" FROM pronto_notify.order_marks ORDER BY 1`)

layer(Harness.layer, { timeout: "120 seconds" })("feedback", (it) => {
  it.effect("texts are the specification's, byte for byte", () =>
    Effect.sync(() => {
      expect(Feedback.rules.texts[1]).toBe(TEXT_50)
      expect(Feedback.rules.texts[2]).toBe(TEXT_100)
      expect(Buffer.from(Feedback.rules.texts[1]!, "utf8").toString("hex")).toBe(Buffer.from(TEXT_50, "utf8").toString("hex"))
    }))

  it.effect("asks about closed delivery orders from the site and both apps that have a client", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      const site = yield* insertOrder({ clientId: 1, source: "site", closedAt: hoursBefore(3) })
      const app = yield* insertOrder({ clientId: 1, source: "app", closedAt: hoursBefore(2) })
      const newApp = yield* insertOrder({ clientId: 1, source: "new_app", closedAt: hoursBefore(1) })
      // Out: other sources, pickup, no client, not closed.
      yield* insertOrder({ clientId: 1, source: "jupiter", closedAt: hoursBefore(1) })
      yield* insertOrder({ clientId: 1, source: "aggregator", closedAt: hoursBefore(1) })
      yield* insertOrder({ clientId: 1, isDelivery: false, closedAt: hoursBefore(1) })
      yield* insertOrder({ clientId: null, closedAt: hoursBefore(1) })
      yield* insertOrder({ clientId: 1, status: "open", closedAt: null })
      yield* insertOrder({ clientId: 1, status: "cancelled", closedAt: hoursBefore(1) })

      const summary = yield* runFeedback()
      expect(summary).toEqual({
        kind: "feedback",
        at: "2026-03-10T08:00:00.000Z",
        run: expect.any(Number),
        selected: 3,
        sent: 3,
        failed: 0,
        refused: 0,
        inDoubt: 0,
        invalid: 0,
        byAction: { "1": 2, "2": 1 }
      })
      const stored = yield* Harness.notifications
      expect(Object.fromEntries(stored.map((n) => [n.orderUid, n.text]))).toEqual({
        [site]: TEXT_50,
        [app]: TEXT_100,
        [newApp]: TEXT_50
      })
      expect(stored.every((n) => n.status === "sent" && n.clientId === "1" && n.phone === "89160000001")).toBe(true)
      expect(stored[0]!.sentAt?.toISOString()).toBe("2026-03-10T08:00:00.000Z")
      expect((yield* orderMarks).map((m) => m.orderUid).sort()).toEqual([site, app, newApp].sort())
      const sent = yield* Effect.flatMap(RecordingSender, (r) => r.sent)
      expect(sent.map((m) => m.text).sort()).toEqual([TEXT_50, TEXT_100, TEXT_50].sort())
    }))

  it.effect("takes only orders closed within the 24 hours before the run (C3)", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      yield* insertOrder({ clientId: 1, closedAt: hoursBefore(24) })
      const inside = yield* insertOrder({ clientId: 1, closedAt: new Date(Date.parse(hoursBefore(24)) + 1000).toISOString() })
      const atRun = yield* insertOrder({ clientId: 1, closedAt: RUN })
      yield* insertOrder({ clientId: 1, closedAt: new Date(Date.parse(RUN) + 1000).toISOString() })
      yield* insertOrder({ clientId: 1, closedAt: hoursBefore(24 * 30) })

      const summary = yield* runFeedback()
      expect(summary.sent).toBe(2)
      expect((yield* Harness.notifications).map((n) => n.orderUid).sort()).toEqual([inside, atRun].sort())
    }))

  it.effect("sends once per order: a second run sends nothing, several orders a day get several messages", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 7 })
      yield* insertOrder({ clientId: 7, closedAt: hoursBefore(5) })
      yield* insertOrder({ clientId: 7, closedAt: hoursBefore(4) })
      expect((yield* runFeedback()).sent).toBe(2)
      expect((yield* runFeedback(hoursBefore(-1))).selected).toBe(0)
      expect((yield* Harness.notifications).length).toBe(2)
    }))

  it.effect("rotates 1, 2, 1, 2 in close-time then UID order, continuing across runs (C2)", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      yield* insertClient({ id: 2 })
      const sameTime = hoursBefore(6)
      const a = yield* insertOrder({ uid: "00000000-0000-4000-8000-00000000000b", clientId: 1, closedAt: sameTime })
      const b = yield* insertOrder({ uid: "00000000-0000-4000-8000-00000000000a", clientId: 2, closedAt: sameTime })
      const c = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(3) })
      expect((yield* runFeedback()).byAction).toEqual({ "1": 2, "2": 1 })
      const first = yield* Harness.notifications
      // Sends run concurrently, so ids need not follow the order; the actions must.
      expect(Object.fromEntries(first.map((n) => [n.orderUid, n.chosenAction]))).toEqual({ [b]: 1, [a]: 2, [c]: 1 })

      const d = yield* insertOrder({ clientId: 2, closedAt: RUN })
      yield* runFeedback(new Date(Date.parse(RUN) + 3600_000).toISOString())
      const all = yield* Harness.notifications
      expect(all.at(-1)).toMatchObject({ orderUid: d, chosenAction: 2, performedAction: 2, text: TEXT_100 })
    }))

  it.effect("does not send to an invalid phone, and counts it", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1, phone: "12345" })
      yield* insertClient({ id: 2, phone: "+7 (909) 158-21-49" })
      yield* insertOrder({ clientId: 1, closedAt: hoursBefore(2) })
      yield* insertOrder({ clientId: 2, closedAt: hoursBefore(1) })
      const summary = yield* runFeedback()
      expect(summary).toMatchObject({ selected: 2, sent: 1, invalid: 1 })
      const stored = yield* Harness.notifications
      expect(stored.map((n) => [n.clientId, n.phone, n.chosenAction])).toEqual([["2", "89091582149", 1]])
    }))

  it.effect("an invalid phone is reported once per trigger, in a bounded line, and counted in every run", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1, phone: "7".repeat(100_000) })
      yield* insertClient({ id: 2, phone: "12345" })
      const first = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(3) })
      yield* insertOrder({ clientId: 2, closedAt: hoursBefore(2) })
      const lines: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message))))
      const runs = [yield* runFeedback().pipe(Effect.provide(capture))]
      expect(lines.filter((l) => l.includes("invalid phone"))).toEqual([
        `not sent: invalid phone 7777*********…77 (100000 digits) for client 1 order ${first}; reported once, counted as invalid until corrected`,
        expect.stringContaining("invalid phone ***** for client 2")
      ])
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(300)
      // The next runs select the same rows and count them, but say nothing more of them.
      lines.length = 0
      runs.push(yield* runFeedback(hoursBefore(-1)).pipe(Effect.provide(capture)))
      runs.push(yield* runFeedback(hoursBefore(-2)).pipe(Effect.provide(capture)))
      expect(lines.filter((l) => l.includes("invalid phone"))).toEqual([])
      expect(runs.map((r) => [r.selected, r.invalid, r.sent])).toEqual([[2, 2, 0], [2, 2, 0], [2, 2, 0]])
      // Corrected on file, it is sent.
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE jupiter.clients SET phone = '89091582149' WHERE id = 1`)
      expect(yield* runFeedback(hoursBefore(-3))).toMatchObject({ selected: 2, invalid: 1, sent: 1 })
    }))

  it.effect("a failed send leaves no notification and no mark, and the next run sends it (C10)", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(2) })
      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "HTTP 500" })))
      expect(yield* runFeedback()).toMatchObject({ selected: 1, sent: 0, failed: 1 })
      expect(yield* Harness.notifications).toEqual([])
      expect(yield* orderMarks).toEqual([])

      yield* recorder.answerWith(() => Effect.void)
      expect(yield* runFeedback(hoursBefore(-1))).toMatchObject({ sent: 1 })
      expect((yield* Harness.notifications).map((n) => [n.orderUid, n.status])).toEqual([[uid, "sent"]])
    }))

  it.effect("an ambiguous send stays in doubt and is never sent again", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(2) })
      yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "timeout" })))
      expect(yield* runFeedback()).toMatchObject({ selected: 1, sent: 0, inDoubt: 1 })
      expect((yield* Harness.notifications).map((n) => [n.orderUid, n.status, n.sentAt])).toEqual([[uid, "in_doubt", null]])
      expect(yield* orderMarks).toEqual([])

      yield* recorder.answerWith(() => Effect.void)
      const attemptsBefore = (yield* recorder.attempts).length
      expect(yield* runFeedback(hoursBefore(-1))).toMatchObject({ selected: 0, sent: 0 })
      expect((yield* recorder.attempts).length).toBe(attemptsBefore)
    }))

  it.effect("a definite failure whose attempt cannot be released is reported in doubt, not as a retry", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(2) })
      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "HTTP 500" })))
      const releaseFails = Layer.effect(
        Attempts,
        Effect.map(Attempts, (real) => ({
          ...real,
          release: () => Effect.fail(new SqlError.SqlError({ message: "connection lost", cause: null }))
        }))
      )
      expect(yield* runFeedback().pipe(Effect.provide(releaseFails))).toMatchObject({ sent: 0, failed: 0, inDoubt: 1 })
      expect((yield* Harness.notifications).map((n) => [n.orderUid, n.status])).toEqual([[uid, "in_doubt"]])
      yield* recorder.answerWith(() => Effect.void)
    }))

  it.effect("the order's mark alone keeps it from a message", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* insertClient({ id: 1 })
      // The evening before, within the sending hours (22:00 in Moscow).
      yield* insertOrder({ clientId: 1, closedAt: hoursBefore(14) })
      yield* runFeedback(hoursBefore(13))
      const [{ id }] = (yield* Harness.notifications) as [Harness.StoredNotification]
      // An order marked as notified with no notification of its own (Jupiter's flag, say).
      const marked = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(2) })
      const unmarked = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(1) })
      yield* sql`INSERT INTO pronto_notify.order_marks (order_uid, notification_id) VALUES (${marked}, ${id})`
      expect(yield* runFeedback()).toMatchObject({ selected: 1, sent: 1 })
      expect((yield* Harness.notifications).map((n) => n.orderUid)).not.toContain(marked)
      expect((yield* Harness.notifications).map((n) => n.orderUid)).toContain(unmarked)
    }))

  it.effect("an attempt left by a crash (recorded, never confirmed) blocks a second message", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: hoursBefore(2) })
      const attemptsBefore = (yield* recorder.attempts).length
      // What a process that died after the Site's answer and before its commit leaves behind.
      yield* sql`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action, performed_action, text, status,
           attempted_at)
        VALUES ('feedback', 'feedback', ${uid}, 1, ${uid}, '89160000001', 1, 1, ${TEXT_50}, 'in_doubt', ${new Date(hoursBefore(1))})
      `
      expect(yield* runFeedback()).toMatchObject({ selected: 0, sent: 0 })
      expect((yield* recorder.attempts).length).toBe(attemptsBefore)
    }))

  it.effect("two runs at once send each order once", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      const before = (yield* recorder.sent).length
      for (let id = 1; id <= 40; id++) {
        yield* insertClient({ id })
        yield* insertOrder({ clientId: id, closedAt: hoursBefore(1 + id / 100) })
      }
      yield* recorder.answerWith(() => Effect.sleep("5 millis"))
      const [a, b] = yield* Effect.all([Jobs.run("feedback"), Jobs.run("feedback")], { concurrency: 2 }).pipe(
        withClockAt(instant(RUN))
      )
      expect(a.sent + b.sent).toBe(40)
      const sent = (yield* recorder.sent).slice(before)
      expect(new Set(sent.map((m) => m.phone)).size).toBe(40)
      expect(sent.length).toBe(40)
      expect((yield* Harness.notifications).length).toBe(40)
      yield* recorder.answerWith(() => Effect.void)
    }))
})
