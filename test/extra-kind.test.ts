/**
 * Adding a kind is one file and one line in the registry: a kind defined here, in the tests, is
 * scheduled, sent, reacted to and reported by the library's own modules, none of them changed.
 */
import { expect, layer } from "@effect/vitest"
import { DateTime, Effect, Layer, Option } from "effect"
import { RecordingSender } from "../src/delivery/Sender.ts"
import { BUILT_IN, Kinds } from "../src/kinds/Kinds.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import * as Report from "../src/report/Report.ts"
import { due, scheduleOf } from "../src/scheduling/Schedule.ts"
import * as Scheduler from "../src/scheduling/Scheduler.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { Nudge } from "./support/NudgeKind.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const MOSCOW = DateTime.zoneUnsafeMakeNamed("Europe/Moscow")
// 15:00 in Moscow: the nudge's slot.
const SLOT = "2026-03-10T12:00:00Z"
const daysAfter = (days: number) => new Date(Date.parse(SLOT) + days * 86_400_000).toISOString()

layer(Layer.merge(Harness.layer, Kinds.layer([...BUILT_IN, Nudge])), { timeout: "120 seconds" })(
  "a kind defined outside the library",
  (it) => {
    it.effect("is on the schedule of the registry that holds it, and only there", () =>
      Effect.gen(function*() {
        const registry = yield* Kinds
        expect(registry.names).toEqual(["feedback", "invite", "profile", "birthday", "nudge"])
        // 15:00 is also one of feedback's hours.
        expect(due(DateTime.unsafeMake(SLOT), MOSCOW, scheduleOf(registry))).toEqual(["feedback", "nudge"])
        expect(due(DateTime.unsafeMake(SLOT), MOSCOW)).toEqual(["feedback"])
      }))

    it.effect("is run by the scheduler once per slot, reacted to, and reported", () =>
      Effect.gen(function*() {
        yield* truncateAll
        for (const id of [1, 2, 3]) yield* insertClient({ id })
        yield* insertClient({ id: 4, birthday: "1990-05-05" })
        const recorder = yield* RecordingSender
        const before = (yield* recorder.sent).length

        yield* Harness.at(SLOT)
        const first = yield* Scheduler.runLatest("nudge")
        expect(Option.map(first, (r) => (r._tag === "Ran" ? r.summary : r._tag))).toEqual(Option.some({
          kind: "nudge",
          at: "2026-03-10T12:00:00.000Z",
          run: expect.any(Number),
          selected: 3,
          sent: 3,
          failed: 0,
          refused: 0,
          inDoubt: 0,
          invalid: 0,
          byAction: { "1": 2, "2": 1 }
        }))
        expect(Option.map(yield* Scheduler.runLatest("nudge"), (r) => r._tag)).toEqual(Option.some("AlreadyDone"))
        expect((yield* recorder.sent).slice(before).map((m) => m.text).sort()).toEqual(
          [Nudge.rules.texts[1], Nudge.rules.texts[1], Nudge.rules.texts[2]].sort()
        )

        // Client 1 (action 1) orders two days later; the others do not.
        yield* insertOrder({ clientId: 1, closedAt: daysAfter(2) })
        yield* Harness.at(daysAfter(15))
        const reactions = yield* Reactions.run
        expect(reactions.byKind["nudge"]).toEqual({ examined: 3, reacted: 1, none: 2, pending: 0 })

        const report = yield* Report.compute()
        const group = report.groups.find((g) => g.kind === "nudge")!
        expect(group.title).toBe("nudge")
        expect(group.actions.map((a) => [a.action, a.sent, a.reacted, a.none])).toEqual([[1, 2, 1, 1], [2, 1, 0, 1]])
        expect(group.actions.every((a) => a.reactingOrders !== null)).toBe(true)
        expect(group.baseline).toBeNull()
        expect(Report.renderText(report)).toContain("nudge\n-----")
      }))
  }
)
