import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Option } from "effect"
import { backfillLastOrder, orderClosed, ordersClosed } from "../src/host/Orders.ts"
import { clientMarks, insertClient, insertOrder, lastOrderAt } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const setLapseMark = (clientId: number, lapse: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO pronto_notify.client_marks (client_id, invite_lapse, birthday_year) VALUES (${clientId}, ${lapse}::timestamptz, 2026)
    `)

const iso = (d: Date | null) => d?.toISOString() ?? null

layer(Harness.layer, { timeout: "120 seconds" })("orders and the last order date", (it) => {
  it.effect("an order close sets the last order time, and never moves it back", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      const first = yield* insertOrder({ clientId: 1, closedAt: "2026-03-01T10:00:00Z" })
      const later = yield* insertOrder({ clientId: 1, closedAt: "2026-03-05T10:00:00Z" })

      const result = yield* orderClosed(first)
      expect(result).toMatchObject({ orderUid: first, clientId: Option.some("1"), moved: true, inviteMarkCleared: false })
      expect(Option.map(result.lastOrderAt, DateTime.formatIso)).toEqual(Option.some("2026-03-01T10:00:00.000Z"))
      expect(iso(yield* lastOrderAt(1))).toBe("2026-03-01T10:00:00.000Z")

      expect((yield* orderClosed(later)).moved).toBe(true)
      // A replayed older event leaves the later time alone.
      const replay = yield* orderClosed(first.toUpperCase())
      expect(replay.moved).toBe(false)
      expect(Option.map(replay.lastOrderAt, DateTime.formatIso)).toEqual(Option.some("2026-03-05T10:00:00.000Z"))
      expect(iso(yield* lastOrderAt(1))).toBe("2026-03-05T10:00:00.000Z")
    }))

  it.effect("keeps the close time to the microsecond", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: "2026-03-01T10:00:00Z" })
      yield* sql`UPDATE jupiter.orders SET closed_at = '2026-03-01T10:00:00.123456Z' WHERE uid = ${uid}`
      yield* orderClosed(uid)
      const [row] = yield* sql<{ same: boolean }>`
        SELECT c.last_order_at = o.closed_at AS same FROM jupiter.clients c JOIN jupiter.orders o ON o.client_id = c.id
      `
      expect(row!.same).toBe(true)
    }))

  it.effect("clears the inactivity mark only when the order closed after the marked lapse", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const lapse = "2026-02-01T10:00:00.000Z"
      yield* insertClient({ id: 1, lastOrderAt: lapse })
      const lapsed = yield* insertOrder({ clientId: 1, closedAt: lapse })
      const next = yield* insertOrder({ clientId: 1, closedAt: "2026-03-20T10:00:00Z" })
      yield* setLapseMark(1, lapse)

      // The lapsed order's own event replayed: the mark stays.
      expect((yield* orderClosed(lapsed)).inviteMarkCleared).toBe(false)
      expect((yield* clientMarks)[0]!.inviteLapse?.toISOString()).toBe(lapse)

      expect((yield* orderClosed(next)).inviteMarkCleared).toBe(true)
      // Only the inactivity mark: the birthday mark is untouched.
      expect(yield* clientMarks).toEqual([{ clientId: "1", inviteLapse: null, profileMonth: null, birthdayYear: 2026 }])
    }))

  it.effect("rejects an unknown, open, cancelled or malformed order with a message, changing nothing", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      const open = yield* insertOrder({ clientId: 1, status: "open", closedAt: null })
      const cancelled = yield* insertOrder({ clientId: 1, status: "cancelled", closedAt: "2026-03-01T10:00:00Z" })
      const missing = "0b6f1c2e-8d4a-4f7e-9c51-2a3b4c5d6e7f"

      const notFound = yield* Effect.flip(orderClosed(missing))
      expect(notFound._tag).toBe("OrderNotFound")
      expect(notFound.message).toBe(`order ${missing} is not in jupiter.orders: check the UID`)
      const notClosed = yield* Effect.flip(orderClosed(open))
      expect(notClosed).toMatchObject({ _tag: "OrderNotClosed", status: "open" })
      expect(notClosed.message).toContain("is open, not closed")
      expect(yield* Effect.flip(orderClosed(cancelled))).toMatchObject({ _tag: "OrderNotClosed", status: "cancelled" })
      const malformed = yield* Effect.flip(orderClosed("not-a-uuid'; --"))
      expect(malformed._tag).toBe("InvalidOrderUid")
      expect(malformed.message).toContain("is not an order UID")
      expect(yield* lastOrderAt(1)).toBeNull()
    }))

  it.effect("an order without a client changes nothing", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: null, closedAt: "2026-03-01T10:00:00Z" })
      expect(yield* orderClosed(uid)).toEqual({
        orderUid: uid,
        clientId: Option.none(),
        lastOrderAt: Option.none(),
        moved: false,
        inviteMarkCleared: false
      })
      expect(yield* lastOrderAt(1)).toBeNull()
    }))

  it.effect("the backfill recomputes every client from closed orders, counts the changes, and is idempotent", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // 1: two closed orders and a later open and cancelled one; last order unset.
      yield* insertClient({ id: 1 })
      yield* insertOrder({ clientId: 1, closedAt: "2026-01-10T10:00:00Z" })
      yield* insertOrder({ clientId: 1, closedAt: "2026-02-10T10:00:00Z" })
      yield* insertOrder({ clientId: 1, status: "open", closedAt: null })
      yield* insertOrder({ clientId: 1, status: "cancelled", closedAt: "2026-03-10T10:00:00Z" })
      // 2: already right.
      yield* insertClient({ id: 2, lastOrderAt: "2026-02-01T00:00:00Z" })
      yield* insertOrder({ clientId: 2, closedAt: "2026-02-01T00:00:00Z" })
      // 3: ahead of its history (set from an order since cancelled): the history wins.
      yield* insertClient({ id: 3, lastOrderAt: "2026-03-01T00:00:00Z" })
      yield* insertOrder({ clientId: 3, closedAt: "2026-01-01T00:00:00Z" })
      // 4: never ordered: left unset; 5: a value no closed order supports, its only order cancelled
      // (C8: the last order is from closed orders only): cleared.
      yield* insertClient({ id: 4 })
      yield* insertClient({ id: 5, lastOrderAt: "2025-06-01T00:00:00Z" })
      yield* insertOrder({ clientId: 5, status: "cancelled", closedAt: "2025-06-01T00:00:00Z" })
      // 6: invited for an old lapse, ordered since (the event was missed): the mark goes.
      yield* insertClient({ id: 6, lastOrderAt: "2026-01-01T00:00:00Z" })
      yield* insertOrder({ clientId: 6, closedAt: "2026-01-01T00:00:00Z" })
      yield* insertOrder({ clientId: 6, closedAt: "2026-02-20T00:00:00Z" })
      yield* setLapseMark(6, "2026-01-01T00:00:00Z")
      // 7: invited for its current lapse: the mark stays.
      yield* insertClient({ id: 7 })
      yield* insertOrder({ clientId: 7, closedAt: "2026-01-05T00:00:00Z" })
      yield* setLapseMark(7, "2026-01-05T00:00:00Z")

      expect(yield* backfillLastOrder).toEqual({ clientsChanged: 5, inviteMarksCleared: 1 })
      const after = yield* Effect.all([1, 2, 3, 4, 5, 6, 7].map(lastOrderAt))
      expect(after.map(iso)).toEqual([
        "2026-02-10T10:00:00.000Z",
        "2026-02-01T00:00:00.000Z",
        "2026-01-01T00:00:00.000Z",
        null,
        null,
        "2026-02-20T00:00:00.000Z",
        "2026-01-05T00:00:00.000Z"
      ])
      expect((yield* clientMarks).map((m) => [m.clientId, iso(m.inviteLapse)])).toEqual([
        ["6", null],
        ["7", "2026-01-05T00:00:00.000Z"]
      ])
      expect(yield* backfillLastOrder).toEqual({ clientsChanged: 0, inviteMarksCleared: 0 })
    }))

  it.effect("ordersClosed applies the same rules to a batch, and an unknown or open order in it writes nothing", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const lapse = "2026-02-01T10:00:00.000Z"
      yield* insertClient({ id: 1, lastOrderAt: lapse })
      yield* insertClient({ id: 2, lastOrderAt: "2026-03-30T10:00:00Z" })
      yield* insertClient({ id: 3 })
      yield* setLapseMark(1, lapse)
      const a1 = yield* insertOrder({ clientId: 1, closedAt: "2026-03-10T10:00:00Z" })
      const a2 = yield* insertOrder({ clientId: 1, closedAt: "2026-03-12T10:00:00Z" })
      const older = yield* insertOrder({ clientId: 2, closedAt: "2026-03-01T10:00:00Z" })
      const c3 = yield* insertOrder({ clientId: 3, closedAt: "2026-03-11T10:00:00Z" })
      const open = yield* insertOrder({ clientId: 3, status: "open", closedAt: null })

      const refused = yield* Effect.flip(ordersClosed([a1, open]))
      expect(refused._tag).toBe("OrderNotClosed")
      const unknown = yield* Effect.flip(ordersClosed([a1, "00000000-0000-4000-8000-000000000000"]))
      expect(unknown._tag).toBe("OrderNotFound")
      expect(iso(yield* lastOrderAt(1))).toBe(lapse)

      expect(yield* ordersClosed([a1, a2, older, c3])).toEqual({ clientsMoved: 2, inviteMarksCleared: 1 })
      expect(iso(yield* lastOrderAt(1))).toBe("2026-03-12T10:00:00.000Z")
      // Never moved back by an older order in the batch.
      expect(iso(yield* lastOrderAt(2))).toBe("2026-03-30T10:00:00.000Z")
      expect(iso(yield* lastOrderAt(3))).toBe("2026-03-11T10:00:00.000Z")
      expect((yield* clientMarks).find((m) => m.clientId === "1")?.inviteLapse ?? null).toBeNull()
      expect(yield* ordersClosed([])).toEqual({ clientsMoved: 0, inviteMarksCleared: 0 })
    }))
})
