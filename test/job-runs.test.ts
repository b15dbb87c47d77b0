import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Deferred, Effect, Fiber, Option, Ref } from "effect"
import { withClockAt } from "../src/BusinessTime.ts"
import * as JobRuns from "../src/JobRuns.ts"
import * as Scheduler from "../src/Scheduler.ts"
import { RecordingSender } from "../src/Sender.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

// 11:00 in Moscow.
const SLOT = "2026-03-10T08:00:00Z"
const slot = DateTime.unsafeMake(SLOT)
const hoursBefore = (h: number, iso = SLOT) => new Date(Date.parse(iso) - h * 3600_000).toISOString()

/** Empties the tables; the recording Sender lives as long as the file, so `sent` counts from here. */
const reset = Effect.gen(function*() {
  yield* truncateAll
  yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
  yield* Effect.flatMap(RecordingSender, (r) => Effect.flatMap(r.sent, (all) => Ref.set(sentBefore, all.length)))
})
const sentBefore = Ref.unsafeMake(0)
const sent = Effect.flatMap(RecordingSender, (r) =>
  Effect.flatMap(r.sent, (all) => Effect.map(Ref.get(sentBefore), (n) => all.slice(n))))
const runs = JobRuns.list()
const seedOrders = (n: number, closedHoursBefore = 2) =>
  Effect.gen(function*() {
    yield* insertClient({ id: 1 })
    for (let i = 0; i < n; i++) yield* insertOrder({ clientId: 1, closedAt: hoursBefore(closedHoursBefore + i / 10) })
  })

layer(Harness.layer, { timeout: "120 seconds", excludeTestServices: true })("job runs: once per (job, slot)", (it) => {
  it.effect("a repeated slot runs nothing: not even for orders that arrived since", () =>
    Effect.gen(function*() {
      yield* reset
      yield* seedOrders(2)
      const first = yield* Scheduler.runSlot("feedback", slot).pipe(withClockAt(slot))
      expect(first._tag).toBe("Ran")
      expect(first._tag === "Ran" && first.summary).toMatchObject({ kind: "feedback", selected: 2, sent: 2 })
      yield* insertOrder({ clientId: 1, closedAt: hoursBefore(1) })
      // The same tick delivered again, a little later (at-least-once delivery).
      const again = yield* Scheduler.runSlot("feedback", slot).pipe(withClockAt(DateTime.unsafeMake(hoursBefore(-0.2))))
      expect(again).toEqual({ _tag: "AlreadyDone" })
      expect((yield* sent).length).toBe(2)
      const [row, ...rest] = yield* runs
      expect(rest).toEqual([])
      expect(row).toMatchObject({ job: "feedback", status: "done", attempts: 1, error: null })
      expect(row!.slot.toISOString()).toBe("2026-03-10T08:00:00.000Z")
      expect(row!.summary).toMatchObject({ kind: "feedback", sent: 2, byAction: { "1": 1, "2": 1 } })
      // The next slot is another slot: it takes the new order.
      const next = yield* Scheduler.runSlot("feedback", DateTime.unsafeMake(hoursBefore(-1))).pipe(
        withClockAt(DateTime.unsafeMake(hoursBefore(-1)))
      )
      expect(next._tag === "Ran" && next.summary).toMatchObject({ sent: 1 })
    }))

  it.effect("a concurrent duplicate waits for the lock, then finds the slot done and runs nothing", () =>
    Effect.gen(function*() {
      yield* reset
      const executions = yield* Ref.make(0)
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const job = Effect.gen(function*() {
        yield* Ref.update(executions, (n) => n + 1)
        yield* Deferred.succeed(started, undefined)
        yield* Deferred.await(release)
        return { done: true }
      })
      const first = yield* Effect.fork(JobRuns.runSlot("feedback", slot, job))
      yield* Deferred.await(started)
      const second = yield* Effect.fork(JobRuns.runSlot("feedback", slot, job))
      // The duplicate is blocked while the first holds the job's lock.
      yield* Effect.sleep("1200 millis")
      expect(yield* Fiber.poll(second)).toEqual(Option.none())
      expect((yield* runs).map((r) => r.status)).toEqual(["running"])
      yield* Deferred.succeed(release, undefined)
      expect(yield* Fiber.join(first)).toEqual({ _tag: "Ran", summary: { done: true } })
      expect(yield* Fiber.join(second)).toEqual({ _tag: "AlreadyDone" })
      expect(yield* Ref.get(executions)).toBe(1)
    }))

  it.effect("two real feedback runs of one slot at once send each message once", () =>
    Effect.gen(function*() {
      yield* reset
      yield* seedOrders(30)
      const [a, b] = yield* Effect.all(
        [Scheduler.runSlot("feedback", slot), Scheduler.runSlot("feedback", slot)],
        { concurrency: 2 }
      ).pipe(withClockAt(slot))
      expect([a._tag, b._tag].sort()).toEqual(["AlreadyDone", "Ran"])
      const messages = yield* sent
      expect(messages.length).toBe(30)
      expect((yield* Harness.notifications).length).toBe(30)
    }))

  it.effect("a slot left running by a process that died is taken over, and what was sent is not sent again", () =>
    Effect.gen(function*() {
      yield* reset
      yield* seedOrders(4)
      const sql = yield* SqlClient.SqlClient
      // A first attempt sent two of the four, then its process died (its lock went with its connection).
      const firstTwo = yield* sql<{ uid: string }>`SELECT uid::text AS uid FROM jupiter.orders ORDER BY closed_at LIMIT 2`
      yield* sql`
        INSERT INTO pronto_notify.notifications (kind, trigger_key, client_id, order_uid, phone, chosen_action,
          performed_action, text, status, attempted_at, sent_at)
        SELECT 'feedback', u.uid, 1, u.uid::uuid, '89160000001', 1, 1, 'earlier', 'sent', now(), now()
        FROM unnest(${firstTwo.map((r) => r.uid)}::text[]) AS u(uid)
      `
      yield* sql`
        INSERT INTO pronto_notify.order_marks (order_uid, notification_id)
        SELECT order_uid, id FROM pronto_notify.notifications
      `
      yield* sql`
        INSERT INTO pronto_notify.job_runs (job, slot, status, runner, started_at)
        VALUES ('feedback', ${new Date(SLOT)}, 'running', 'dead-host/1', ${new Date(SLOT)})
      `
      const result = yield* Scheduler.runSlot("feedback", slot).pipe(withClockAt(slot))
      expect(result._tag === "Ran" && result.summary).toMatchObject({ selected: 2, sent: 2 })
      expect((yield* sent).length).toBe(2)
      const [row] = yield* runs
      expect(row).toMatchObject({ status: "done", attempts: 2 })
      expect(row!.runner).not.toBe("dead-host/1")
    }))

  it.effect("a failed run is recorded and runs again when the slot is asked for again", () =>
    Effect.gen(function*() {
      yield* reset
      const failing = Effect.fail({ message: "the database went away" })
      const error = yield* Effect.flip(JobRuns.runSlot("invite", slot, failing))
      expect(error._tag).toBe("JobRunFailed")
      expect(error.message).toContain("the database went away")
      expect((yield* runs)[0]).toMatchObject({ status: "failed", error: "the database went away", attempts: 1 })
      const retried = yield* JobRuns.runSlot("invite", slot, Effect.succeed({ ok: 1 }))
      expect(retried).toEqual({ _tag: "Ran", summary: { ok: 1 } })
      expect((yield* runs)[0]).toMatchObject({ status: "done", error: null, attempts: 2, summary: { ok: 1 } })
    }))

  it.effect("a run stopped mid-way is recorded interrupted, releases the lock, and runs again later", () =>
    Effect.gen(function*() {
      yield* reset
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        JobRuns.runSlot("birthday", slot, Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect((yield* runs)[0]).toMatchObject({ status: "interrupted" })
      const again = yield* JobRuns.runSlot("birthday", slot, Effect.succeed({ ok: 2 })).pipe(Effect.timeout("5 seconds"))
      expect(again).toEqual({ _tag: "Ran", summary: { ok: 2 } })
    }))
})

layer(Harness.layer, { timeout: "120 seconds", excludeTestServices: true })("missed slots, at fixed instants (Europe/Moscow)", (it) => {
  const at = (iso: string) => DateTime.unsafeMake(iso)
  const latest = (job: "feedback" | "invite", iso: string) => Scheduler.runLatest(job).pipe(withClockAt(at(iso)))

  it.effect("feedback back 40 minutes after its slot runs that slot once; a repeat does nothing", () =>
    Effect.gen(function*() {
      yield* reset
      yield* seedOrders(3)
      // 11:40 Moscow: the 11:00 slot was missed.
      const result = yield* latest("feedback", "2026-03-10T08:40:00Z")
      expect(Option.map(result, (r) => r._tag)).toEqual(Option.some("Ran"))
      expect(Option.map(yield* latest("feedback", "2026-03-10T08:50:00Z"), (r) => r._tag)).toEqual(Option.some("AlreadyDone"))
      expect((yield* runs).map((r) => r.slot.toISOString())).toEqual(["2026-03-10T08:00:00.000Z"])
      expect((yield* sent).length).toBe(3)
    }))

  it.effect("feedback down from 10:50 to 14:10 runs once, for 14:00, and the 24-hour look-back still finds the orders", () =>
    Effect.gen(function*() {
      yield* reset
      yield* seedOrders(3)
      yield* latest("feedback", "2026-03-10T11:10:00Z")
      expect((yield* runs).map((r) => r.slot.toISOString())).toEqual(["2026-03-10T11:00:00.000Z"])
      expect((yield* sent).length).toBe(3)
    }))

  it.effect("feedback back at 23:30 sends nothing at night", () =>
    Effect.gen(function*() {
      yield* reset
      yield* seedOrders(3)
      expect(yield* latest("feedback", "2026-03-10T20:30:00Z")).toEqual(Option.none())
      expect(yield* runs).toEqual([])
      expect((yield* sent).length).toBe(0)
    }))

  it.effect("invite missed by a day is not replayed the next morning", () =>
    Effect.gen(function*() {
      yield* reset
      // 08:00 Moscow on the 11th: the 10th's 12:00 is past its window; the 11th's 12:00 will run.
      expect(yield* latest("invite", "2026-03-11T05:00:00Z")).toEqual(Option.none())
      expect(yield* runs).toEqual([])
    }))

  it.effect("on start, catch-up runs each job's latest slot within its window, once", () =>
    Effect.gen(function*() {
      yield* reset
      yield* seedOrders(2)
      // 13:20 Moscow on 1 April: feedback 13:00, invite 12:00, profile 12:30, birthday 13:00 and
      // reactions 04:00 are all within their windows.
      yield* Scheduler.catchUp.pipe(withClockAt(at("2026-04-01T10:20:00Z")))
      yield* Scheduler.catchUp.pipe(withClockAt(at("2026-04-01T10:25:00Z")))
      const rows = yield* runs
      expect(rows.map((r) => `${r.job} ${r.slot.toISOString()} ${r.status} ${r.attempts}`).sort()).toEqual([
        "birthday 2026-04-01T10:00:00.000Z done 1",
        "feedback 2026-04-01T10:00:00.000Z done 1",
        "invite 2026-04-01T09:00:00.000Z done 1",
        "profile 2026-04-01T09:30:00.000Z done 1",
        "reactions 2026-04-01T01:00:00.000Z done 1"
      ])
    }))
})
