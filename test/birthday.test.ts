import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Jobs from "../src/engine/Jobs.ts"
import { Birthday } from "../src/kinds/birthday/Birthday.ts"
import { RecordingSender, SendFailed } from "../src/delivery/Sender.ts"
import { bonusRows, byId, clientMarks, daysAfter, grants, insertClient, moscow } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const TEXT_DISCOUNT = "У вас скоро день рождения: дарим скидку 15% на всю следующую неделю"
const TEXT_BONUS = "С Днем рождения! Дарим 500 бонусов на 2 недели"

// 13:00 in Moscow on 10 March 2026.
const RUN = moscow("2026-03-10", "13:00")
const runBirthday = (iso = RUN) => Effect.zipRight(Harness.at(iso), Jobs.run("birthday"))

const sentTo = Effect.map(Harness.notifications, (ns) => ns.map((n) => n.clientId).sort(byId))

layer(Harness.layer, { timeout: "120 seconds" })("birthday", (it) => {
  it.effect("texts are the specification's, byte for byte", () =>
    Effect.sync(() => {
      expect(Birthday.rules.texts[1]).toBe(TEXT_DISCOUNT)
      expect(Birthday.rules.texts[2]).toBe(TEXT_BONUS)
      expect(Buffer.from(Birthday.rules.texts[1]!, "utf8").toString("hex")).toBe(Buffer.from(TEXT_DISCOUNT, "utf8").toString("hex"))
    }))

  it.effect("greets a birthday 0 to 14 days ahead (inclusive), not 15, not one just past", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1, birthday: "1990-03-10" }) // today: in
      yield* insertClient({ id: 2, birthday: "1985-03-24" }) // 14 days: in
      yield* insertClient({ id: 3, birthday: "1985-03-25" }) // 15 days: out
      yield* insertClient({ id: 4, birthday: "1985-03-09" }) // yesterday: out
      yield* insertClient({ id: 5 }) // no birthday: out
      const summary = yield* runBirthday()
      expect(summary).toMatchObject({ kind: "birthday", selected: 2, sent: 2 })
      const stored = yield* Harness.notifications
      expect(stored.map((n) => [n.clientId, n.triggerKey]).sort()).toEqual([["1", "1@2026"], ["2", "2@2026"]])
      expect((yield* clientMarks).map((m) => [m.clientId, m.birthdayYear])).toEqual([["1", 2026], ["2", 2026]])
    }))

  it.effect("counts days on the Moscow date, not the UTC or the database's date", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1, birthday: "1990-03-24" })
      yield* insertClient({ id: 2, birthday: "1990-03-10" })
      // 00:30 on 10 March in Moscow (9 March in UTC): 24 March is 14 days away, not 15.
      expect((yield* Harness.selectAt(Birthday, moscow("2026-03-10", "00:30"))).length).toBe(2)
      yield* truncateAll
      yield* insertClient({ id: 2, birthday: "1990-03-10" })
      // 23:30 on 10 March in Moscow (11 March in Kiritimati): still the birthday itself.
      expect((yield* Harness.selectAt(Birthday, moscow("2026-03-10", "23:30"))).length).toBe(1)
    }))

  it.effect("29 February is greeted as 28 February in a non-leap year and on the 29th in a leap year", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1, birthday: "2000-02-29" })
      expect((yield* runBirthday(moscow("2027-02-13", "13:00"))).selected).toBe(0) // 28 Feb 2027 is 15 days away
      expect((yield* runBirthday(moscow("2027-02-14", "13:00"))).sent).toBe(1)
      expect((yield* runBirthday(moscow("2028-02-14", "13:00"))).selected).toBe(0) // 29 Feb 2028 is 15 days away
      expect((yield* runBirthday(moscow("2028-02-15", "13:00"))).sent).toBe(1)
      expect((yield* Harness.notifications).map((n) => n.triggerKey)).toEqual(["1@2027", "1@2028"])
    }))

  it.effect("once per birthday: a 5 January birthday greeted on 25 December is not greeted on 1 January", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1, birthday: "1990-01-05" })
      expect((yield* runBirthday(moscow("2026-12-25", "13:00"))).sent).toBe(1)
      expect((yield* clientMarks).map((m) => m.birthdayYear)).toEqual([2027])
      expect((yield* runBirthday(moscow("2026-12-25", "18:00"))).selected).toBe(0)
      expect((yield* runBirthday(moscow("2027-01-01", "13:00"))).selected).toBe(0)
      expect((yield* runBirthday(moscow("2027-01-05", "13:00"))).selected).toBe(0)
      // The next year's birthday is greeted again.
      expect((yield* runBirthday(moscow("2027-12-25", "13:00"))).sent).toBe(1)
      expect((yield* Harness.notifications).map((n) => n.triggerKey)).toEqual(["1@2027", "1@2028"])
    }))

  it.effect("the mark alone decides too: marked for this birthday's year, out; for last year's, in", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* insertClient({ id: 1, birthday: "1990-03-12" })
      yield* insertClient({ id: 2, birthday: "1990-03-12" })
      yield* sql`INSERT INTO pronto_notify.client_marks (client_id, birthday_year) VALUES (1, 2026), (2, 2025)`
      expect((yield* runBirthday()).sent).toBe(1)
      expect(yield* sentTo).toEqual(["2"])
    }))

  it.effect("rotates 1, 2, 1 by client id across runs; action 2 accrues 500 temporary bonuses, reason birthday, for 14 days", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 2, birthday: "1990-03-15" })
      yield* insertClient({ id: 1, birthday: "1990-03-20" })
      expect((yield* runBirthday()).byAction).toEqual({ "1": 1, "2": 1 })
      yield* insertClient({ id: 3, birthday: "1990-03-21" })
      yield* runBirthday(daysAfter(RUN, 1))
      const stored = yield* Harness.notifications
      expect(Object.fromEntries(stored.map((n) => [n.clientId, [n.chosenAction, n.performedAction, n.text]]))).toEqual({
        1: [1, 1, TEXT_DISCOUNT],
        2: [2, 2, TEXT_BONUS],
        3: [1, 1, TEXT_DISCOUNT]
      })
      const rows = yield* bonusRows
      expect(rows.map((r) => [r.table, r.clientId, r.amount, r.reason, r.createdAt.toISOString(), r.expiresAt?.toISOString()]))
        .toEqual([["temporary", "2", "500.00", "birthday", RUN, daysAfter(RUN, 14)]])
      const granted = yield* grants
      expect(granted.map((g) => [g.clientId, g.bonusGranted, g.bonusOperation]).sort()).toEqual([
        ["1", null, null],
        ["2", "500.00", `temporary:${rows[0]!.id}`],
        ["3", null, null]
      ])
    }))

  it.effect("a failed send leaves no accrual, no mark and no notification; the next run sends (C10)", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      const recorder = yield* RecordingSender
      // Slot 1 is action 2, the one with the accrual.
      yield* sql`INSERT INTO pronto_notify.rotation (action_set, next_turn) VALUES ('birthday', 1)`
      yield* insertClient({ id: 1, birthday: "1990-03-12" })
      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "HTTP 500" })))
      expect(yield* runBirthday()).toMatchObject({ selected: 1, sent: 0, failed: 1 })
      expect(yield* Harness.notifications).toEqual([])
      expect(yield* bonusRows).toEqual([])
      expect(yield* clientMarks).toEqual([])
      yield* recorder.answerWith(() => Effect.void)
      // Slot 2 is action 1 again: the retry sends the discount.
      expect((yield* runBirthday(daysAfter(RUN, 0.1))).sent).toBe(1)
      expect((yield* recorder.sent).at(-1)).toEqual({ phone: "89160000001", text: TEXT_DISCOUNT })
      expect((yield* clientMarks).map((m) => m.birthdayYear)).toEqual([2026])
    }))
})
