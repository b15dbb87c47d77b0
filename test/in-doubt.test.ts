import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { settleDelivered, settleNotDelivered } from "../src/store/InDoubt.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import { RecordingSender, SendInDoubt } from "../src/delivery/Sender.ts"
import { bonusRows, clientMarks, grants, insertClient, insertOrder, moscow } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const FEEDBACK_RUN = moscow("2026-03-10", "11:00")
const INVITE_RUN = moscow("2026-05-20", "12:00")

/** Runs a kind with the Site timing out on every message, then lets it answer again. */
const runInDoubt = (kind: "feedback" | "invite", at: string) =>
  Effect.gen(function*() {
    const recorder = yield* RecordingSender
    yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "no answer within 10s" })))
    const summary = yield* Effect.zipRight(Harness.at(at), Jobs.run(kind))
    yield* recorder.answerWith(() => Effect.void)
    expect(summary.inDoubt).toBe(1)
    const [stored] = yield* Harness.notifications
    return stored!
  })

const orderMarks = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ orderUid: string }>`SELECT order_uid::text AS "orderUid" FROM pronto_notify.order_marks`)

layer(Harness.layer, { timeout: "120 seconds" })("settling a message left in doubt", (it) => {
  it.effect("delivered: the mark is set, the message is sent as of its attempt, and it is never sent again", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") })
      const stored = yield* runInDoubt("feedback", FEEDBACK_RUN)
      expect(yield* orderMarks).toEqual([])

      yield* settleDelivered(stored.id)
      const [after] = yield* Harness.notifications
      expect(after).toMatchObject({ id: stored.id, status: "sent", orderUid: uid })
      expect(after!.sentAt?.toISOString()).toBe(new Date(FEEDBACK_RUN).toISOString())
      expect(yield* orderMarks).toEqual([{ orderUid: uid }])
      expect(yield* Effect.zipRight(Harness.at(moscow("2026-03-10", "12:00")), Jobs.run("feedback"))).toMatchObject({
        selected: 0,
        sent: 0
      })
    }))

  it.effect("delivered: an invite's gift is accrued as of the attempt, expiring 14 days after it", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // Lapsed 20 days (band B) with no balance: action 1 falls back to the gift.
      yield* insertClient({ id: 7, lastOrderAt: moscow("2026-04-30", "12:00") })
      yield* insertOrder({ clientId: 7, closedAt: moscow("2026-04-30", "12:00") })
      const stored = yield* runInDoubt("invite", INVITE_RUN)
      expect(stored).toMatchObject({ chosenAction: 1, performedAction: 2 })
      expect(yield* bonusRows).toEqual([])

      yield* settleDelivered(stored.id)
      const rows = yield* bonusRows
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ table: "temporary", clientId: "7", amount: "100.00", reason: "invite" })
      expect(rows[0]!.createdAt.toISOString()).toBe(new Date(INVITE_RUN).toISOString())
      expect(rows[0]!.expiresAt?.toISOString()).toBe(new Date(Date.parse(INVITE_RUN) + 14 * 86_400_000).toISOString())
      expect((yield* grants)[0]).toMatchObject({ bonusGranted: "100.00" })
      expect((yield* clientMarks)[0]?.inviteLapse?.toISOString()).toBe(new Date(moscow("2026-04-30", "12:00")).toISOString())
    }))

  it.effect("not delivered: the attempt is forgotten and the next run sends the message", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") })
      const stored = yield* runInDoubt("feedback", FEEDBACK_RUN)
      yield* settleNotDelivered(stored.id)
      expect(yield* Harness.notifications).toEqual([])

      const sentBefore = (yield* recorder.sent).length
      yield* Effect.zipRight(Harness.at(moscow("2026-03-10", "12:00")), Jobs.run("feedback"))
      expect((yield* Harness.notifications).map((n) => [n.orderUid, n.status])).toEqual([[uid, "sent"]])
      expect((yield* recorder.sent).length).toBe(sentBefore + 1)
    }))

  it.effect("a message that is not in doubt cannot be settled, and nothing changes", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") })
      yield* Effect.zipRight(Harness.at(FEEDBACK_RUN), Jobs.run("feedback"))
      const [sent] = yield* Harness.notifications
      const notInDoubt = yield* Effect.flip(settleNotDelivered(sent!.id))
      expect(notInDoubt.message).toBe(`notification ${sent!.id} is sent, not in doubt: nothing to settle`)
      expect((yield* Effect.flip(settleDelivered(sent!.id)))._tag).toBe("NotInDoubt")
      expect((yield* Effect.flip(settleDelivered("999999"))).message).toBe("there is no notification 999999")
      expect((yield* Harness.notifications).map((n) => n.status)).toEqual(["sent"])
    }))
})
