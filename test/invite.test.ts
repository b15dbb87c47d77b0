import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Stream } from "effect"
import * as Jobs from "../src/engine/Jobs.ts"
import { Invite } from "../src/kinds/invite/Invite.ts"
import { orderClosed } from "../src/host/Orders.ts"
import { RecordingSender, SendFailed } from "../src/delivery/Sender.ts"
import {
  bonusRows,
  byId,
  clientMarks,
  daysAfter,
  grants,
  insertBonusRow,
  insertClient,
  insertOrder,
  moscow
} from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const TEXT_GIFT = "Как насчет подарков? Дарим 100 бонусов на 2 недели"
const TEXT_PROMO = "Как насчет скидки? -10% по промокоду PRO10"
const balanceText = (n: string) => `На счету ${n} бонусов! Потрать их в новом заказе`

// 12:00 in Moscow on Wednesday 20 May 2026; the 3-month limit is 20 February.
const RUN = moscow("2026-05-20", "12:00")
const runInvite = (iso = RUN) => Effect.zipRight(Harness.at(iso), Jobs.run("invite"))

/** A client whose last order closed at a Moscow wall-clock time, with permanent bonuses if given. */
const lapsed = (id: number, lastOrderAt: string, balance?: number) =>
  Effect.gen(function*() {
    yield* insertClient({ id, lastOrderAt })
    yield* insertOrder({ clientId: id, closedAt: lastOrderAt })
    if (balance !== undefined) {
      yield* insertBonusRow({ table: "permanent", clientId: id, amount: balance, at: "2026-01-01T00:00:00Z", reason: "order" })
    }
  })

const sentTo = Effect.map(Harness.notifications, (ns) => ns.map((n) => n.clientId).sort(byId))

layer(Harness.layer, { timeout: "120 seconds" })("invite", (it) => {
  it.effect("texts are the specification's, byte for byte", () =>
    Effect.sync(() => {
      expect(Invite.rules.texts[2]).toBe(TEXT_GIFT)
      expect(Invite.rules.texts[3]).toBe(TEXT_PROMO)
      expect(Invite.rules.balanceText(250)).toBe(balanceText("250"))
      expect(Buffer.from(Invite.rules.texts[2]!, "utf8").toString("hex")).toBe(Buffer.from(TEXT_GIFT, "utf8").toString("hex"))
    }))

  it.effect("band B is 14 < d < 28 days and band A 28 < d within 3 calendar months, on Moscow dates", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // 00:30 in Moscow is the day before in UTC; 23:30 in Moscow is the day after in the
      // database's Kiritimati. Either zone would move a client across a boundary below.
      yield* lapsed(1, moscow("2026-05-06", "00:30"), 10) // d = 14: out
      yield* lapsed(2, moscow("2026-05-05", "23:30"), 10) // d = 15: B
      yield* lapsed(3, moscow("2026-04-23", "00:30"), 10) // d = 27: B
      yield* lapsed(4, moscow("2026-04-22", "00:30"), 10) // d = 28: out
      yield* lapsed(5, moscow("2026-04-21", "23:30"), 10) // d = 29: A
      yield* lapsed(6, moscow("2026-02-21", "00:30"), 10) // the day after 3 months before: A
      yield* lapsed(7, moscow("2026-02-20", "23:30"), 10) // exactly 3 months before: out
      yield* lapsed(8, moscow("2026-01-10"), 10) // long gone: out
      yield* lapsed(9, moscow("2026-05-19"), 10) // yesterday: out
      yield* insertClient({ id: 10 }) // never ordered: out

      const lines = yield* Stream.runCollect(yield* Effect.zipRight(Harness.at(RUN), Jobs.preview("invite")))
      // Band A first, then band B, each by client id.
      expect([...lines].map((l) => l.clientId)).toEqual(["5", "6", "2", "3"])

      const summary = yield* runInvite()
      expect(summary).toMatchObject({ kind: "invite", selected: 4, sent: 4, failed: 0 })
      expect(yield* sentTo).toEqual(["2", "3", "5", "6"])
    }))

  it.effect("a run just after midnight in Moscow counts days from the Moscow date", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // 00:30 on 21 May in Moscow, still 20 May in UTC: 6 May is 15 days back in Moscow, 14 in UTC.
      yield* lapsed(1, moscow("2026-05-06"), 10)
      expect((yield* Harness.selectAt(Invite, moscow("2026-05-21", "00:30"))).length).toBe(1)
      // Selected, but not texted at that hour.
      expect((yield* runInvite(moscow("2026-05-21", "00:30"))).sent).toBe(0)
    }))

  it.effect("each band rotates its own actions across runs: A 1, 2, 3, 1 and B 1, 2, 1 (C2)", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* lapsed(1, moscow("2026-04-10"), 500) // A
      yield* lapsed(2, moscow("2026-04-11"), 500) // A
      yield* lapsed(11, moscow("2026-05-01"), 500) // B
      yield* lapsed(12, moscow("2026-05-02"), 500) // B
      expect((yield* runInvite()).byAction).toEqual({ "1": 2, "2": 2 })

      yield* lapsed(3, moscow("2026-04-12"), 500) // A
      yield* lapsed(4, moscow("2026-04-13"), 500) // A
      yield* lapsed(13, moscow("2026-05-03"), 500) // B
      yield* runInvite(daysAfter(RUN, 1))

      const stored = yield* Harness.notifications
      const byClient = Object.fromEntries(stored.map((n) => [n.clientId, [n.chosenAction, n.performedAction, n.text]]))
      expect(byClient).toEqual({
        1: [1, 1, balanceText("500")],
        2: [2, 2, TEXT_GIFT],
        3: [3, 3, TEXT_PROMO],
        4: [1, 1, balanceText("500")],
        11: [1, 1, balanceText("500")],
        12: [2, 2, TEXT_GIFT],
        13: [1, 1, balanceText("500")]
      })
    }))

  it.effect("action 1 shows a positive balance as a whole number, rounded down, and grants nothing", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* lapsed(1, moscow("2026-05-01"), 200)
      // Temporary bonuses count while unexpired; an expired one does not.
      yield* insertBonusRow({ table: "temporary", clientId: 1, amount: 50.75, at: daysAfter(RUN, -3) })
      yield* insertBonusRow({ table: "temporary", clientId: 1, amount: 1000, at: daysAfter(RUN, -14) })
      yield* runInvite()
      const [n] = yield* Harness.notifications
      expect(n).toMatchObject({ chosenAction: 1, performedAction: 1, text: balanceText("250") })
      expect((yield* grants)[0]).toMatchObject({ bonusGranted: null, bonusOperation: null })
      expect((yield* bonusRows).length).toBe(3)
    }))

  it.effect("a balance below one whole bonus would read 0: it falls back to action 2 like zero", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* lapsed(1, moscow("2026-05-01"), 0.5)
      yield* runInvite()
      const stored = yield* Harness.notifications
      expect(stored.map((n) => [n.clientId, n.chosenAction, n.performedAction, n.text])).toEqual([["1", 1, 2, TEXT_GIFT]])
      expect((yield* grants)[0]!.bonusGranted).toBe("100.00")
    }))

  it.effect("action 1 with a zero or negative balance performs action 2: both accrue 100 temporary bonuses, reason invite, for 14 days", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* lapsed(1, moscow("2026-05-01")) // B slot 0: action 1, balance 0
      yield* lapsed(2, moscow("2026-04-10"), -5) // A slot 0: action 1, balance -5
      yield* lapsed(3, moscow("2026-04-11"), 40) // A slot 1: action 2
      yield* runInvite()
      const stored = yield* Harness.notifications
      expect(stored.map((n) => [n.clientId, n.chosenAction, n.performedAction, n.text]).sort()).toEqual([
        ["1", 1, 2, TEXT_GIFT],
        ["2", 1, 2, TEXT_GIFT],
        ["3", 2, 2, TEXT_GIFT]
      ])
      const accrued = (yield* bonusRows).filter((r) => r.table === "temporary")
      expect(accrued.map((r) => [r.clientId, r.amount, r.reason, r.createdAt.toISOString(), r.expiresAt!.toISOString()]).sort())
        .toEqual(["1", "2", "3"].map((c) => [c, "100.00", "invite", RUN, daysAfter(RUN, 14)]))
      const granted = yield* grants
      expect(granted.map((g) => g.bonusGranted)).toEqual(["100.00", "100.00", "100.00"])
      const operations = new Set(accrued.map((r) => `temporary:${r.id}`))
      expect(new Set(granted.map((g) => g.bonusOperation))).toEqual(operations)
    }))

  it.effect("once per lapse: a re-run sends nothing; the next closed order clears the mark; a new lapse is invited", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const lapse = moscow("2026-05-01")
      yield* lapsed(1, lapse, 10)
      expect((yield* runInvite()).sent).toBe(1)
      expect((yield* clientMarks).map((m) => m.inviteLapse?.toISOString())).toEqual([lapse])
      expect((yield* runInvite(daysAfter(RUN, 0.1))).selected).toBe(0)
      // Still the same lapse a day later, and in band A two weeks later.
      expect((yield* runInvite(daysAfter(RUN, 1))).selected).toBe(0)
      expect((yield* runInvite(daysAfter(RUN, 14))).selected).toBe(0)

      const next = yield* insertOrder({ clientId: 1, closedAt: moscow("2026-06-05") })
      expect((yield* orderClosed(next)).inviteMarkCleared).toBe(true)
      expect((yield* clientMarks).map((m) => m.inviteLapse)).toEqual([null])
      // Ordered 5 June: not lapsed on 10 June, lapsed (band B) on 21 June.
      expect((yield* runInvite(moscow("2026-06-10"))).selected).toBe(0)
      expect((yield* runInvite(moscow("2026-06-21"))).sent).toBe(1)
      const stored = yield* Harness.notifications
      expect(stored.map((n) => n.triggerKey)).toEqual([
        `1@${new Date(lapse).toISOString().replace(".000Z", ".000000Z")}`,
        `1@${new Date(moscow("2026-06-05")).toISOString().replace(".000Z", ".000000Z")}`
      ])
    }))

  it.effect("a trigger that already has a message (an attempt left in doubt) is not selected", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* lapsed(1, moscow("2026-05-01"), 10)
      yield* sql`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at)
        VALUES ('invite', 'invite:A', '1@2026-05-01T09:00:00.000000Z', 1, '89160000001', 3, 3, ${TEXT_PROMO}, 'in_doubt',
                ${new Date(daysAfter(RUN, -1))})
      `
      expect((yield* runInvite()).selected).toBe(0)
    }))

  it.effect("the mark alone decides too: marked for this lapse, out; marked for an older lapse, in", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* lapsed(1, moscow("2026-05-01"), 10)
      yield* lapsed(2, moscow("2026-05-02"), 10)
      // As Jupiter's own flag would be, with no notification row behind it.
      yield* sql`
        INSERT INTO pronto_notify.client_marks (client_id, invite_lapse)
        VALUES (1, ${new Date(moscow("2026-05-01"))}), (2, ${new Date(moscow("2026-03-01"))})
      `
      expect((yield* runInvite()).selected).toBe(1)
      expect(yield* sentTo).toEqual(["2"])
      expect((yield* clientMarks).map((m) => m.inviteLapse?.toISOString())).toEqual([
        moscow("2026-05-01"),
        moscow("2026-05-02")
      ])
    }))

  it.effect("a failed send leaves no accrual, no mark and no notification; the next run sends (C10)", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* lapsed(1, moscow("2026-05-01")) // balance 0: the gift, with its accrual
      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "HTTP 502" })))
      expect(yield* runInvite()).toMatchObject({ selected: 1, sent: 0, failed: 1 })
      expect(yield* Harness.notifications).toEqual([])
      expect(yield* bonusRows).toEqual([])
      expect(yield* clientMarks).toEqual([])

      yield* recorder.answerWith(() => Effect.void)
      expect(yield* runInvite(daysAfter(RUN, 0.1))).toMatchObject({ sent: 1 })
      expect((yield* bonusRows).map((r) => [r.table, r.amount, r.reason])).toEqual([["temporary", "100.00", "invite"]])
      const sent = yield* recorder.sent
      expect(sent.at(-1)).toEqual({ phone: "89160000001", text: TEXT_GIFT })
    }))
})
