import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Jobs from "../src/engine/Jobs.ts"
import { Profile } from "../src/kinds/Profile.ts"
import { RecordingSender, SendFailed } from "../src/delivery/Sender.ts"
import { bonusRows, byId, clientMarks, grants, insertClient, insertOrder, moscow } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const TEXT = "Привет! Заполни дату рождения у себя в профиле и получи 100 бонусов на счет!"

// 12:30 in Moscow on 1 June 2026: the previous month is May.
const RUN = moscow("2026-06-01", "12:30")
const runProfile = (iso = RUN) => Effect.zipRight(Harness.at(iso), Jobs.run("profile"))

const ordered = (id: number, closedAt: string, more: { birthday?: string } = {}) =>
  Effect.zipRight(insertClient({ id, ...more }), insertOrder({ clientId: id, closedAt }))

const sentTo = Effect.map(Harness.notifications, (ns) => ns.map((n) => n.clientId).sort(byId))

layer(Harness.layer, { timeout: "120 seconds" })("profile", (it) => {
  it.effect("the text is the specification's, byte for byte, and the reaction reason is profile", () =>
    Effect.sync(() => {
      expect(Profile.rules.text).toBe(TEXT)
      expect(Buffer.from(Profile.rules.text, "utf8").toString("hex")).toBe(Buffer.from(TEXT, "utf8").toString("hex"))
      expect(Profile.rules.reactionReason).toBe("profile")
    }))

  it.effect("asks clients with an order closed in the previous month (Moscow) and no birthday", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // Month edges that differ between Moscow, UTC and the database's Kiritimati.
      yield* ordered(1, moscow("2026-04-30", "23:30")) // April in Moscow (May in Kiritimati): out
      yield* ordered(2, moscow("2026-05-01", "00:30")) // May in Moscow (April in UTC): in
      yield* ordered(3, moscow("2026-05-31", "23:30")) // May in Moscow (June in Kiritimati): in
      yield* ordered(4, moscow("2026-06-01", "00:30")) // June in Moscow (May in UTC): out
      yield* ordered(5, moscow("2026-05-15"), { birthday: "1990-07-01" }) // has a birthday: out
      yield* insertClient({ id: 6 })
      yield* insertOrder({ clientId: 6, status: "open", closedAt: null, createdAt: moscow("2026-05-15") }) // out
      yield* insertOrder({ clientId: 6, status: "cancelled", closedAt: moscow("2026-05-15") }) // out
      yield* insertClient({ id: 7 }) // never ordered: out
      yield* ordered(8, moscow("2026-05-10")) // two orders in May: one message
      yield* insertOrder({ clientId: 8, closedAt: moscow("2026-05-20") })

      const summary = yield* runProfile()
      expect(summary).toMatchObject({ kind: "profile", selected: 3, sent: 3, failed: 0, byAction: { "1": 3 } })
      const stored = yield* Harness.notifications
      expect(stored.map((n) => [n.clientId, n.triggerKey, n.chosenAction, n.performedAction, n.text]).sort()).toEqual([
        ["2", "2@2026-05", 1, 1, TEXT],
        ["3", "3@2026-05", 1, 1, TEXT],
        ["8", "8@2026-05", 1, 1, TEXT]
      ])
      expect((yield* clientMarks).map((m) => [m.clientId, m.profileMonth])).toEqual([
        ["2", "2026-05-01"],
        ["3", "2026-05-01"],
        ["8", "2026-05-01"]
      ])
      // The action grants nothing: the app accrues the bonus when the profile is filled in.
      expect((yield* grants).every((g) => g.bonusGranted === null)).toBe(true)
      expect(yield* bonusRows).toEqual([])
    }))

  it.effect("the previous month is the Moscow one: a run at 00:30 on 1 June in Moscow (31 May in UTC) looks at May", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* ordered(1, moscow("2026-05-15"))
      yield* ordered(2, moscow("2026-04-15"))
      const selected = yield* Harness.selectAt(Profile, moscow("2026-06-01", "00:30"))
      expect(selected.length).toBe(1)
      expect(selected.map((c) => c.trigger)).toEqual(["1@2026-05"])
    }))

  it.effect("once per month: a re-run sends nothing; a mark for an earlier month does not block; next month asks again", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* ordered(1, moscow("2026-05-10"))
      yield* ordered(2, moscow("2026-05-11"))
      yield* sql`INSERT INTO pronto_notify.client_marks (client_id, profile_month) VALUES (2, '2026-04-01'), (1, '2026-05-01')`
      // Client 1 is marked for May (Jupiter's flag): out. Client 2's April mark does not count.
      expect((yield* runProfile()).sent).toBe(1)
      expect(yield* sentTo).toEqual(["2"])
      expect((yield* runProfile(moscow("2026-06-01", "18:00"))).selected).toBe(0)

      // July: only who ordered in June.
      yield* insertOrder({ clientId: 1, closedAt: moscow("2026-06-20") })
      expect((yield* runProfile(moscow("2026-07-01", "12:30"))).sent).toBe(1)
      expect((yield* Harness.notifications).map((n) => n.triggerKey)).toEqual(["2@2026-05", "1@2026-06"])
      expect((yield* clientMarks).map((m) => [m.clientId, m.profileMonth])).toEqual([
        ["1", "2026-06-01"],
        ["2", "2026-05-01"]
      ])
    }))

  it.effect("a failed send leaves no mark and no notification; the next run sends (C10)", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* ordered(1, moscow("2026-05-10"))
      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "HTTP 500" })))
      expect(yield* runProfile()).toMatchObject({ selected: 1, sent: 0, failed: 1 })
      expect(yield* Harness.notifications).toEqual([])
      expect(yield* clientMarks).toEqual([])
      yield* recorder.answerWith(() => Effect.void)
      expect((yield* runProfile(moscow("2026-06-01", "13:30"))).sent).toBe(1)
      expect((yield* recorder.sent).at(-1)).toEqual({ phone: "89160000001", text: TEXT })
    }))
})
