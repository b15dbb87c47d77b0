/**
 * A slot whose sends failed is not done: it is retried within its catch-up window, selecting only
 * what is still unsent, and what still fails when the window closes is logged as one error naming
 * the kind, the slot and the count (C10). A run stops taking candidates when the Site's answers
 * stay ambiguous (the circuit breaker) and at the end of the sending hours (22:00). At fixed
 * instants through the TestClock (Europe/Moscow).
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Chunk, DateTime, Effect, Fiber, Layer, Logger, LogLevel, Option, TestClock, TestServices } from "effect"
import { RecordingSender, SendFailed, SendInDoubt } from "../src/delivery/Sender.ts"
import { DEFAULT_IN_FLIGHT } from "../src/delivery/InFlight.ts"
import { BREAKER_THRESHOLD } from "../src/engine/Stopper.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import * as JobRuns from "../src/scheduling/JobRuns.ts"
import * as Scheduler from "../src/scheduling/Scheduler.ts"
import { insertClient, insertOrder, moscow } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const PROFILE_SLOT = moscow("2026-07-01", "12:30")

const reset = Effect.gen(function*() {
  yield* truncateAll
  yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
  yield* Effect.flatMap(RecordingSender, (r) => r.answerWith(() => Effect.void))
})

/** Clients 1..n who ordered in June and have no birthday: July's profile candidates. */
const orderedInJune = (n: number) =>
  Effect.forEach(Array.from({ length: n }, (_, i) => i + 1), (id) =>
    Effect.zipRight(insertClient({ id }), insertOrder({ clientId: id, closedAt: moscow("2026-06-15") })), { discard: true })

const runRows = Effect.map(JobRuns.list(), (rows) => rows.map((r) => `${r.job} ${r.slot.toISOString()} ${r.status} ${r.attempts}`))

/** The phones the Site accepted since `from` messages ago. */
const sentSince = (from: number) => Effect.flatMap(RecordingSender, (r) => Effect.map(r.sent, (all) => all.slice(from).map((m) => m.phone)))
const sentCount = Effect.flatMap(RecordingSender, (r) => Effect.map(r.sent, (all) => all.length))

const capturingLogs = (lines: Array<string>) =>
  Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => lines.push(`${logLevel.label} ${String(message)}`)))

/** Waits (in real time) until the forked run sleeps before a retry; the seconds until it wakes. */
const nextRetryIn = Effect.gen(function*() {
  for (let i = 0; i < 400; i++) {
    const sleeps = yield* TestClock.sleeps()
    if (Chunk.isNonEmpty(sleeps)) return (Chunk.unsafeHead(sleeps) - (yield* TestClock.currentTimeMillis)) / 1000
    yield* TestServices.provideLive(Effect.sleep("25 millis"))
  }
  return yield* Effect.die(new Error("the run never waited for a retry"))
})

/** Lets the forked run finish (in real time) while the TestClock stands still. */
const settled = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) return yield* exit.value
      if (Chunk.isNonEmpty(yield* TestClock.sleeps())) return yield* Effect.die(new Error("the run is still retrying"))
      yield* TestServices.provideLive(Effect.sleep("25 millis"))
    }
    return yield* Effect.die(new Error("the run never finished"))
  })

const quiet = Layer.merge(Harness.layer, Logger.minimumLogLevel(LogLevel.Warning))

layer(quiet, { timeout: "120 seconds" })("a slot whose sends failed", (it) => {
  it.effect("is not done: asked again a minute later, after the Site recovered, it sends what failed, once", () =>
    Effect.gen(function*() {
      yield* reset
      const recorder = yield* RecordingSender
      yield* orderedInJune(2)
      const before = yield* sentCount
      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "the Site answered HTTP 500" })))
      const slot = DateTime.unsafeMake(PROFILE_SLOT)
      yield* Harness.at(PROFILE_SLOT)
      const failed = yield* Effect.flip(Scheduler.runSlot("profile", slot))
      expect(failed).toMatchObject({ _tag: "JobRunFailed", unsent: 2, stoppedByBreaker: false })
      const [row] = yield* JobRuns.list()
      expect(row).toMatchObject({ status: "failed", attempts: 1, error: "2 messages not sent (definite failures)" })
      expect(row!.summary).toMatchObject({ kind: "profile", selected: 2, sent: 0, failed: 2 })

      yield* recorder.answerWith(() => Effect.void)
      yield* Harness.at(moscow("2026-07-01", "12:31"))
      const again = yield* Scheduler.runLatest("profile")
      expect(Option.map(again, (r) => (r._tag === "Ran" ? r.summary : r._tag))).toEqual(
        Option.some(expect.objectContaining({ selected: 2, sent: 2, failed: 0 }))
      )
      expect(yield* runRows).toEqual([`profile ${new Date(PROFILE_SLOT).toISOString()} done 2`])
      expect((yield* sentSince(before)).sort()).toEqual(["89160000001", "89160000002"])
      // A repeat of the slot does nothing, and August asks nobody for June.
      expect(Option.map(yield* Scheduler.runLatest("profile"), (r) => r._tag)).toEqual(Option.some("AlreadyDone"))
      yield* Harness.at(moscow("2026-08-01", "12:30"))
      expect(yield* Jobs.run("profile")).toMatchObject({ selected: 0 })
    }))

  it.effect("a birthday failing on the day is retried 10 s later within the window, and the slot ends done", () =>
    Effect.gen(function*() {
      yield* reset
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1, birthday: "1990-03-10" })
      const before = yield* sentCount
      let calls = 0
      yield* recorder.answerWith(() => (calls++ === 0 ? Effect.fail(new SendFailed({ reason: "HTTP 500" })) : Effect.void))
      yield* Harness.at(moscow("2026-03-10", "13:00"))
      const fiber = yield* Effect.fork(Scheduler.runLatestRetrying("birthday"))
      expect(yield* nextRetryIn).toBe(10)
      expect(yield* runRows).toEqual([`birthday ${new Date(moscow("2026-03-10", "13:00")).toISOString()} failed 1`])
      yield* TestClock.adjust("10 seconds")
      expect(Option.map(yield* settled(fiber), (r) => r._tag)).toEqual(Option.some("Ran"))
      expect(yield* runRows).toEqual([`birthday ${new Date(moscow("2026-03-10", "13:00")).toISOString()} done 2`])
      expect(yield* sentSince(before)).toEqual(["89160000001"])
    }))

  it.effect("what still fails when the window closes is one error naming the kind, the slot and the count", () =>
    Effect.gen(function*() {
      yield* reset
      const recorder = yield* RecordingSender
      yield* orderedInJune(3)
      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "HTTP 500" })))
      const logs: Array<string> = []
      yield* Harness.at("2026-07-01T18:59:30.000Z")
      const fiber = yield* Effect.fork(Scheduler.runLatestRetrying("profile").pipe(Effect.provide(capturingLogs(logs))))
      // Attempts at 21:59:30 and 21:59:40; the next would be at 22:00:00, when the window has closed.
      expect(yield* nextRetryIn).toBe(10)
      yield* TestClock.adjust("10 seconds")
      expect(yield* settled(fiber)).toEqual(Option.none())
      expect(yield* runRows).toEqual([`profile ${new Date(PROFILE_SLOT).toISOString()} failed 2`])
      expect(logs.filter((l) => l.startsWith("ERROR"))).toEqual([
        `ERROR profile for ${new Date(PROFILE_SLOT).toISOString()}: its catch-up window (until 22:00 on the same 1st) closed ` +
        "with 3 messages still not sent; later runs of the job select what is still due"
      ])
    }))
})

layer(quiet, { timeout: "120 seconds" })("a run stops taking candidates", (it) => {
  it.effect("after 5 ambiguous outcomes in a row (the circuit breaker); the rest is selected by the next run", () =>
    Effect.gen(function*() {
      yield* reset
      const recorder = yield* RecordingSender
      yield* orderedInJune(40)
      const logs: Array<string> = []
      yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "no answer within 10s" })))
      yield* Harness.at(PROFILE_SLOT)
      const summary = yield* Jobs.run("profile").pipe(Effect.provide(capturingLogs(logs)))
      expect(summary.stopped).toBe("circuit-breaker")
      expect(summary.sent).toBe(0)
      expect(summary.inDoubt).toBeGreaterThanOrEqual(BREAKER_THRESHOLD)
      expect(summary.inDoubt).toBeLessThanOrEqual(BREAKER_THRESHOLD + DEFAULT_IN_FLIGHT - 1)
      expect(summary.selected).toBe(summary.inDoubt)
      expect(logs.filter((l) => l.includes("ambiguous outcomes in a row"))).toHaveLength(1)
      yield* recorder.answerWith(() => Effect.void)
      expect(yield* Jobs.run("profile")).toMatchObject({ selected: 40 - summary.inDoubt, sent: 40 - summary.inDoubt })
    }))

  it.effect("ambiguous outcomes that are not in a row do not stop it", () =>
    Effect.gen(function*() {
      yield* reset
      const recorder = yield* RecordingSender
      yield* orderedInJune(30)
      // Every other client's message goes through: never five ambiguous outcomes in a row.
      yield* recorder.answerWith((m) =>
        Number(m.phone.slice(-7)) % 2 === 0 ? Effect.void : Effect.fail(new SendInDoubt({ reason: "a gateway's 502" }))
      )
      yield* Harness.at(PROFILE_SLOT)
      const summary = yield* Jobs.run("profile")
      expect(summary.stopped).toBeUndefined()
      expect(summary.sent + summary.inDoubt).toBe(30)
    }))

  it.effect("a slot stopped by the breaker is retried after 5 minutes, not 10 seconds", () =>
    Effect.gen(function*() {
      yield* reset
      const recorder = yield* RecordingSender
      yield* orderedInJune(20)
      yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "no answer within 10s" })))
      yield* Harness.at(PROFILE_SLOT)
      const fiber = yield* Effect.fork(Scheduler.runLatestRetrying("profile"))
      expect(yield* nextRetryIn).toBe(300)
      const [row] = yield* JobRuns.list()
      expect(row).toMatchObject({ status: "failed", error: "stopped by the circuit breaker: the Site's answers stayed ambiguous" })
      yield* recorder.answerWith(() => Effect.void)
      yield* TestClock.adjust("5 minutes")
      expect(Option.map(yield* settled(fiber), (r) => r._tag)).toEqual(Option.some("Ran"))
    }))

  it.effect("at the end of its slot's sending hours (22:00), and a retry after it sends nothing", () =>
    Effect.gen(function*() {
      yield* reset
      const recorder = yield* RecordingSender
      yield* orderedInJune(40)
      // Each message takes the Site a second.
      yield* recorder.answerWith(() => TestClock.adjust("1 second"))
      yield* Harness.at("2026-07-01T18:59:50.000Z")
      const slot = DateTime.unsafeMake(PROFILE_SLOT)
      const result = yield* Scheduler.runSlot("profile", slot)
      const summary = result._tag === "Ran" ? result.summary : undefined
      expect(summary).toMatchObject({ stopped: "sending-hours", failed: 0 })
      const sent = summary !== undefined && "sent" in summary ? summary.sent : 0
      expect(sent).toBeGreaterThanOrEqual(10)
      expect(sent).toBeLessThanOrEqual(10 + DEFAULT_IN_FLIGHT)
      // The slot is done: the rest waits for a later run, never for the night.
      expect(yield* runRows).toEqual([`profile ${slot.pipe(DateTime.formatIso)} done 1`])
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
      const late = yield* Scheduler.runSlot("profile", slot)
      expect(late._tag === "Ran" && late.summary).toMatchObject({ selected: 0, sent: 0, stopped: "sending-hours" })
    }))
})
