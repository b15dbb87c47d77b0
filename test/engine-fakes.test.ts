/**
 * The engine's pipeline on swapped-in fake layers, no database: the attempts in memory
 * (`Attempts.layerTest`), the rotation's counters in memory (`Rotation.layerTest`), the recording
 * Sender, and a kind whose candidates are a list. What is tested here is the run itself: every
 * candidate passes each stage once, the rotation follows the selector's order whatever the sends'
 * order, the stopper stops at the breaker and at the end of the sending hours, and the senders
 * never hold more messages in flight than the setting allows. The same rules against PostgreSQL
 * are in the kind, in-flight, retries and connection-loss tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { InFlight } from "../src/delivery/InFlight.ts"
import { RecordingSender, SendFailed, SendInDoubt } from "../src/delivery/Sender.ts"
import { TURN_BLOCK } from "../src/engine/Candidates.ts"
import { Outcome } from "../src/engine/Outcome.ts"
import { Rotation } from "../src/engine/Rotation.ts"
import * as Run from "../src/engine/Run.ts"
import * as Breaker from "../src/engine/Breaker.ts"
import * as Stopper from "../src/engine/Stopper.ts"
import { MemoryAttempts } from "../src/store/Attempts.ts"
import { candidates, fakes, listKind, phoneOf } from "./support/EngineFakes.ts"

const AT = DateTime.unsafeMake("2026-03-10T09:00:00Z")

describe("the run's pipeline on fake layers", () => {
  it.effect("takes every candidate through its stages once: invalid phones counted, the rest recorded and sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(DateTime.toEpochMillis(AT))
      const performed = yield* Ref.make<ReadonlyArray<string>>([])
      const summary = yield* Run.run(listKind(candidates(600, [7, 300]), performed))
      expect(summary).toMatchObject({ kind: "fake", selected: 600, sent: 598, failed: 0, inDoubt: 0, invalid: 2 })
      expect(summary.byAction).toEqual({ "1": 299, "2": 299 })
      const stored = yield* Effect.flatMap(MemoryAttempts, (m) => m.rows)
      expect(stored).toHaveLength(598)
      expect(stored.every((r) => r.status === "sent" && r.postStarted && r.confirmation !== null)).toBe(true)
      const sent = yield* Effect.flatMap(RecordingSender, (r) => r.sent)
      expect(new Set(sent.map((m) => m.phone)).size).toBe(598)
      expect([...(yield* Ref.get(performed))].sort()).toEqual(stored.map((r) => r.attempt.clientId).sort())
    }).pipe(Effect.provide(fakes())))

  it.effect("gives actions in the selector's order across blocks, whatever order the sends finish in, and goes on next run", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(DateTime.toEpochMillis(AT))
      const recorder = yield* RecordingSender
      // Later clients answer sooner: the sends finish out of order.
      yield* recorder.answerWith((m) => Effect.sleep(Duration.millis(1000 - Number(m.phone.slice(-3)) % 1000)))
      const n = 2 * TURN_BLOCK + 11
      const run = yield* Effect.fork(Run.run(listKind(candidates(n))))
      yield* TestClock.adjust("10 minutes")
      yield* Fiber.join(run)
      const stored = yield* Effect.flatMap(MemoryAttempts, (m) => m.rows)
      const byClient = [...stored].sort((a, b) => Number(a.attempt.clientId) - Number(b.attempt.clientId))
      expect(byClient.map((r) => r.attempt.chosenAction)).toEqual(Array.from({ length: n }, (_, i) => (i % 2) + 1))
      // n is odd: the counter stands at action 2 for the next run.
      expect(yield* Effect.flatMap(Rotation, (r) => r.peek("fake"))).toBe(n)
    }).pipe(Effect.provide(fakes())))

  it.effect("a candidate whose send failed for certain leaves nothing; one in doubt keeps its attempt", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(DateTime.toEpochMillis(AT))
      const recorder = yield* RecordingSender
      yield* recorder.answerWith((m) =>
        m.phone === phoneOf("2")
          ? Effect.fail(new SendFailed({ reason: "HTTP 500" }))
          : m.phone === phoneOf("3")
          ? Effect.fail(new SendInDoubt({ reason: "no answer" }))
          : Effect.void
      )
      const summary = yield* Run.run(listKind(candidates(4)))
      expect(summary).toMatchObject({ selected: 4, sent: 2, failed: 1, inDoubt: 1 })
      const stored = yield* Effect.flatMap(MemoryAttempts, (m) => m.rows)
      expect(stored.map((r) => [r.attempt.clientId, r.status]).sort()).toEqual([["1", "sent"], ["3", "in_doubt"], ["4", "sent"]])
    }).pipe(Effect.provide(fakes())))
})

describe("the stopper", () => {
  it.effect("trips after BREAKER_THRESHOLD ambiguous answers in a row; a clean or failed one in between resets the count", () =>
    Effect.gen(function*() {
      const doubt = Outcome.InDoubt({ reason: "no answer", blame: "site" })
      const breaker = yield* Breaker.make("fake", 8)
      const stopper = yield* Stopper.make("fake", breaker, undefined)
      // Each outcome gives back the room its message took.
      const send = (outcome: Outcome) => Effect.zipRight(breaker.admit, breaker.record(outcome))
      for (let i = 0; i < Breaker.BREAKER_THRESHOLD - 1; i++) yield* send(doubt)
      yield* send(Outcome.Failed({ reason: "HTTP 500" }))
      for (let i = 0; i < Breaker.BREAKER_THRESHOLD - 1; i++) yield* send(doubt)
      yield* send(Outcome.Sent({ performedAction: 1 }))
      for (let i = 0; i < Breaker.BREAKER_THRESHOLD - 1; i++) yield* send(doubt)
      // A skipped trigger is no answer from the Site, nor is the database's failure: neither counts nor resets.
      yield* send(Outcome.Skipped())
      yield* send(Outcome.InDoubt({ reason: "the commit failed", blame: "database" }))
      expect(yield* stopper.stopping).toBe(false)
      yield* send(doubt)
      expect(yield* stopper.stopping).toBe(true)
      expect(yield* stopper.reason).toEqual(Option.some("circuit-breaker"))
    }))

  it.effect("the window starts at the threshold, widens by one per clean answer to the setting, and narrows to one at a doubt", () =>
    Effect.gen(function*() {
      const breaker = yield* Breaker.make("fake", 8)
      /** How many can be admitted now without waiting. */
      const room = Effect.gen(function*() {
        let n = 0
        while (Option.isSome(yield* Effect.timeoutOption(breaker.admit, 0))) n++
        for (let i = 0; i < n; i++) yield* breaker.withdraw
        return n
      })
      expect(yield* room).toBe(Breaker.BREAKER_THRESHOLD)
      for (let i = 0; i < 2; i++) yield* Effect.zipRight(breaker.admit, breaker.record(Outcome.Sent({ performedAction: 1 })))
      expect(yield* room).toBe(7)
      for (let i = 0; i < 5; i++) yield* Effect.zipRight(breaker.admit, breaker.record(Outcome.Refused({ reason: "HTTP 400" })))
      expect(yield* room).toBe(8)
      yield* Effect.zipRight(breaker.admit, breaker.record(Outcome.InDoubt({ reason: "no answer", blame: "site" })))
      expect(yield* room).toBe(1)
    }))

  it.effect("stops taking candidates at `until`, not a millisecond before", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(DateTime.toEpochMillis(AT))
      const stopper = yield* Stopper.make("fake", yield* Breaker.make("fake", 8), DateTime.add(AT, { minutes: 1 }))
      yield* TestClock.adjust("59999 millis")
      expect(yield* stopper.stopping).toBe(false)
      expect(yield* stopper.reason).toEqual(Option.none())
      yield* TestClock.adjust("1 millis")
      expect(yield* stopper.stopping).toBe(true)
      expect(yield* stopper.reason).toEqual(Option.some("sending-hours"))
    }))

  it.effect("a run against a Site that never answers stops at the breaker and forgets what it prepared and did not send", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(DateTime.toEpochMillis(AT))
      const recorder = yield* RecordingSender
      yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "no answer" })))
      const summary = yield* Run.run(listKind(candidates(100)))
      expect(summary.stopped).toBe("circuit-breaker")
      // The window starts at the threshold: a Site dead from the first message leaves no more in doubt.
      expect(summary.inDoubt).toBe(Breaker.BREAKER_THRESHOLD)
      expect((yield* recorder.attempts).length).toBe(summary.inDoubt)
      const stored = yield* Effect.flatMap(MemoryAttempts, (m) => m.rows)
      // Only the attempts whose POST started are left, in doubt.
      expect(stored.every((r) => r.status === "in_doubt" && r.postStarted)).toBe(true)
      expect(stored).toHaveLength(summary.inDoubt)
    }).pipe(Effect.provide(fakes())))

  it.effect("a run whose sending hours end stops there; the message in flight completes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(DateTime.toEpochMillis(AT))
      const recorder = yield* RecordingSender
      // Each send takes 10 seconds; the sending hours end after 25.
      yield* recorder.answerWith(() => Effect.sleep("10 seconds"))
      const run = yield* Effect.fork(Run.run(listKind(candidates(10)), { until: DateTime.add(AT, { seconds: 25 }) }).pipe(
        Effect.provide(InFlight.layer(1))
      ))
      yield* TestClock.adjust("1 minute")
      const summary = yield* Fiber.join(run)
      expect(summary).toMatchObject({ stopped: "sending-hours", sent: 3, selected: 3 })
      expect((yield* recorder.sent)).toHaveLength(3)
    }).pipe(Effect.provide(fakes())))
})

describe("the senders", () => {
  for (const inFlight of [1, 3, 8]) {
    it.effect(`hold at most ${inFlight} messages in flight, and reach it`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(DateTime.toEpochMillis(AT))
        const recorder = yield* RecordingSender
        const active = yield* Ref.make(0)
        const most = yield* Ref.make(0)
        yield* recorder.answerWith(() =>
          Effect.acquireUseRelease(
            Effect.flatMap(Ref.updateAndGet(active, (n) => n + 1), (n) => Ref.update(most, (m) => Math.max(m, n))),
            () => Effect.sleep("1 second"),
            () => Ref.update(active, (n) => n - 1)
          )
        )
        const run = yield* Effect.fork(Run.run(listKind(candidates(40))))
        yield* TestClock.adjust("1 minute")
        expect(yield* Fiber.join(run)).toMatchObject({ sent: 40 })
        expect(yield* Ref.get(most)).toBe(inFlight)
      }).pipe(Effect.provide(fakes(inFlight))))
  }
})
