import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import {
  Chunk,
  DateTime,
  Deferred,
  Effect,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Ref,
  TestClock,
  TestServices
} from "effect"
import { BonusServer, BonusServerError } from "../src/bonus/BonusServer.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as JobRuns from "../src/scheduling/JobRuns.ts"
import * as Scheduler from "../src/scheduling/Scheduler.ts"
import { RecordingSender } from "../src/delivery/Sender.ts"
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

/** The library over the test database, quiet below warnings (no test here reads the info logs). */
const quiet = Layer.merge(Harness.layer, Logger.minimumLogLevel(LogLevel.Warning))

/** Collects the log lines of an effect instead of printing them. */
const capturingLogs = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )

layer(quiet, { timeout: "120 seconds", excludeTestServices: true })("job runs: once per (job, slot)", (it) => {
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
        INSERT INTO pronto_notify.notifications (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action,
          performed_action, text, status, attempted_at, sent_at)
        SELECT 'feedback', 'feedback', u.uid, 1, u.uid::uuid, '89160000001', 1, 1, 'earlier', 'sent', now(), now()
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

layer(quiet, { timeout: "120 seconds", excludeTestServices: true })("missed slots, at fixed instants (Europe/Moscow)", (it) => {
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

/** The reactions job needs the BonusServer when a feedback message waits for its reaction. */
const pendingFeedbackMessage = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* insertClient({ id: 1 })
  const uid = yield* insertOrder({ clientId: 1, closedAt: "2026-03-08T10:00:00Z" })
  yield* sql`
    INSERT INTO pronto_notify.notifications (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action,
      performed_action, text, status, attempted_at, sent_at)
    VALUES ('feedback', 'feedback', ${uid}, 1, ${uid}::uuid, '89160000001', 1, 1, 'earlier', 'sent',
      '2026-03-09T10:00:00Z', '2026-03-09T10:00:00Z')
  `
})

/** A bonus server whose look-ups fail `failures` times (unreachable), then answer from the ledger. */
const flakyBonusServer = (failures: number) =>
  Effect.gen(function*() {
    const real = yield* BonusServer
    const calls = yield* Ref.make(0)
    const server = BonusServer.of({
      ...real,
      firstAccruals: (lookups) =>
        Effect.flatMap(Ref.getAndUpdate(calls, (n) => n + 1), (n) =>
          n < failures
            ? Effect.fail(new BonusServerError({ operation: "firstAccruals", reason: "connection refused" }))
            : real.firstAccruals(lookups))
    })
    return { server, calls: Ref.get(calls) }
  })

/** Waits (in real time) until the forked run sleeps before a retry; the seconds until it wakes. */
const nextRetryIn = Effect.gen(function*() {
  for (let i = 0; i < 400; i++) {
    const sleeps = yield* TestClock.sleeps()
    if (Chunk.isNonEmpty(sleeps)) {
      const now = yield* TestClock.currentTimeMillis
      return (Chunk.unsafeHead(sleeps) - now) / 1000
    }
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

const runRows = Effect.map(JobRuns.list(), (rows) => rows.map((r) => `${r.job} ${r.slot.toISOString()} ${r.status} ${r.attempts}`))

layer(quiet, { timeout: "120 seconds" })("a failed slot is retried within its catch-up window (TestClock, Europe/Moscow)", (it) => {
  // 04:00 Moscow on 10 March: the reaction job's slot; its window lasts until 04:00 on the 11th.
  const REACTIONS_SLOT = "2026-03-10T01:00:00.000Z"

  it.effect("a run that fails is retried after 10 s, 20 s, 40 s, and the slot ends done", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
      yield* pendingFeedbackMessage
      const bonus = yield* flakyBonusServer(3)
      const logs: Array<string> = []
      yield* Harness.at(REACTIONS_SLOT)
      const fiber = yield* Effect.fork(
        Scheduler.runLatestRetrying("reactions").pipe(
          Effect.provideService(BonusServer, bonus.server),
          Effect.provide(capturingLogs(logs))
        )
      )
      for (const wait of [10, 20, 40]) {
        expect(yield* nextRetryIn).toBe(wait)
        expect(yield* runRows).toEqual([`reactions ${REACTIONS_SLOT} failed ${wait === 10 ? 1 : wait === 20 ? 2 : 3}`])
        yield* TestClock.adjust(`${wait} seconds`)
      }
      const result = yield* settled(fiber)
      expect(Option.map(result, (r) => r._tag)).toEqual(Option.some("Ran"))
      expect(yield* runRows).toEqual([`reactions ${REACTIONS_SLOT} done 4`])
      expect(yield* bonus.calls).toBe(4)
      expect(logs.filter((l) => l.startsWith("WARN"))).toEqual([
        `WARN reactions for ${REACTIONS_SLOT} failed: bonus server firstAccruals failed: connection refused; trying again in 10s`,
        expect.stringContaining("trying again in 20s"),
        expect.stringContaining("trying again in 40s")
      ])
      expect(logs.some((l) => l.startsWith("ERROR"))).toBe(false)
    }))

  it.effect("the waits double up to 5 minutes and stay there", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
      yield* pendingFeedbackMessage
      const bonus = yield* flakyBonusServer(Number.POSITIVE_INFINITY)
      yield* Harness.at(REACTIONS_SLOT)
      const fiber = yield* Effect.fork(
        Scheduler.runLatestRetrying("reactions").pipe(
          Effect.provideService(BonusServer, bonus.server),
          Effect.provide(capturingLogs([]))
        )
      )
      const waits: Array<number> = []
      for (let i = 0; i < 8; i++) {
        const wait = yield* nextRetryIn
        waits.push(wait)
        yield* TestClock.adjust(`${wait} seconds`)
      }
      expect(waits).toEqual([10, 20, 40, 80, 160, 300, 300, 300])
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a slot still failing when its window ends is given up, with an error naming the job and the slot", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
      yield* pendingFeedbackMessage
      const bonus = yield* flakyBonusServer(Number.POSITIVE_INFINITY)
      const logs: Array<string> = []
      // 03:58 Moscow on the 11th: two minutes before the window of the 10th's 04:00 slot ends.
      yield* Harness.at("2026-03-11T00:58:00Z")
      const fiber = yield* Effect.fork(
        Scheduler.runLatestRetrying("reactions").pipe(
          Effect.provideService(BonusServer, bonus.server),
          Effect.provide(capturingLogs(logs))
        )
      )
      // Attempts at 03:58:00, 03:58:10, 03:58:30 and 03:59:10; the next would be at 04:00:30, past the window.
      for (const wait of [10, 20, 40]) {
        expect(yield* nextRetryIn).toBe(wait)
        yield* TestClock.adjust(`${wait} seconds`)
      }
      expect(yield* settled(fiber)).toEqual(Option.none())
      expect(yield* runRows).toEqual([`reactions ${REACTIONS_SLOT} failed 4`])
      expect(logs.filter((l) => l.startsWith("ERROR"))).toEqual([
        expect.stringContaining(`reactions for ${REACTIONS_SLOT}: given up`)
      ])
      expect(logs.find((l) => l.startsWith("ERROR"))).toBe(
        `ERROR reactions for ${REACTIONS_SLOT}: given up: its catch-up window (at any time until the next slot) ends ` +
          "before another attempt; the next slot does the work. Last error: bonus server firstAccruals failed: connection refused"
      )
    }))

  it.effect("just inside the window the retry still happens: a run failing once at 03:59:45 is retried at 03:59:55", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
      yield* pendingFeedbackMessage
      const bonus = yield* flakyBonusServer(1)
      yield* Harness.at("2026-03-11T00:59:45Z")
      const fiber = yield* Effect.fork(
        Scheduler.runLatestRetrying("reactions").pipe(
          Effect.provideService(BonusServer, bonus.server),
          Effect.provide(capturingLogs([]))
        )
      )
      expect(yield* nextRetryIn).toBe(10)
      yield* TestClock.adjust("10 seconds")
      expect(Option.map(yield* settled(fiber), (r) => r._tag)).toEqual(Option.some("Ran"))
      expect(yield* runRows).toEqual([`reactions ${REACTIONS_SLOT} done 2`])
    }))

  it.effect("catch-up retries a job that failed on start, and the other jobs are not held up", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`TRUNCATE pronto_notify.job_runs`)
      yield* pendingFeedbackMessage
      const bonus = yield* flakyBonusServer(1)
      // 13:20 Moscow on 1 April: every job has a slot within its window.
      yield* Harness.at("2026-04-01T10:20:00Z")
      const fiber = yield* Effect.fork(
        Scheduler.catchUp.pipe(Effect.provideService(BonusServer, bonus.server), Effect.provide(capturingLogs([])))
      )
      expect(yield* nextRetryIn).toBe(10)
      expect((yield* runRows).sort()).toEqual([
        "birthday 2026-04-01T10:00:00.000Z done 1",
        "feedback 2026-04-01T10:00:00.000Z done 1",
        "invite 2026-04-01T09:00:00.000Z done 1",
        "profile 2026-04-01T09:30:00.000Z done 1",
        "reactions 2026-04-01T01:00:00.000Z failed 1"
      ])
      yield* TestClock.adjust("10 seconds")
      yield* settled(fiber)
      expect((yield* runRows).filter((r) => r.startsWith("reactions"))).toEqual(["reactions 2026-04-01T01:00:00.000Z done 2"])
    }))
})

layer(quiet, { timeout: "120 seconds", excludeTestServices: true })("the job's advisory lock when its release fails", (it) => {
  const holder = (job: string) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ pid: number }>`
        SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted
          AND classid = hashtext('pronto_notify job_runs')::oid AND objid = hashtext(${job})::oid AND objsubid = 2
      `)

  it.effect("a release that fails is logged naming the lock, and the connection is closed so the lock ends", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const logs: Array<string> = []
      yield* Effect.gen(function*() {
        const conn = yield* sql.reserve
        const [locked] = (yield* conn.execute(
          `SELECT pg_advisory_lock(hashtext('pronto_notify job_runs'), hashtext('profile')), pg_backend_pid() AS pid`,
          [],
          undefined
        )) as ReadonlyArray<{ pid: number }>
        const pid = locked!.pid
        // The session still holds the lock, but every statement on it now fails: a transaction gone bad.
        yield* conn.executeRaw("BEGIN", [])
        yield* Effect.ignore(conn.executeRaw("SELECT 1 / 0", []))
        expect((yield* holder("profile")).map((r) => r.pid)).toEqual([pid])
        const unlock = Effect.map(
          conn.execute(`SELECT pg_advisory_unlock(hashtext('pronto_notify job_runs'), hashtext('profile')) AS unlocked`, [], undefined),
          (rows) => (rows as ReadonlyArray<{ unlocked: boolean }>)[0]?.unlocked === true
        )
        yield* JobRuns.releaseOrClose(conn, pid, "the advisory lock of job profile (pronto_notify job_runs)", unlock).pipe(
          Effect.provide(capturingLogs(logs))
        )
        expect(logs).toEqual([
          expect.stringMatching(
            new RegExp(`^ERROR could not release the advisory lock of job profile \\(pronto_notify job_runs\\): .*current transaction is aborted.*backend ${pid}\\)`)
          )
        ])
        // The lock ended with the connection, which can no longer be used.
        expect(yield* holder("profile")).toEqual([])
        expect((yield* Effect.either(conn.executeRaw("SELECT 1", [])))._tag).toBe("Left")
      }).pipe(Effect.scoped)
      // A run of the job takes the lock at once; the pool hands out working connections.
      const result = yield* JobRuns.runSlot("profile", slot, Effect.succeed({ ok: 1 })).pipe(Effect.timeout("5 seconds"))
      expect(result).toEqual({ _tag: "Ran", summary: { ok: 1 } })
      expect(yield* Effect.forEach([1, 2, 3, 4], () => sql`SELECT 1 AS one`, { concurrency: 4 })).toHaveLength(4)
    }))

  it.effect("a run whose lock connection dies mid-way: the failed release is logged, and the next run takes the slot over", () =>
    Effect.gen(function*() {
      yield* reset
      const sql = yield* SqlClient.SqlClient
      const logs: Array<string> = []
      const killLockConnection = Effect.gen(function*() {
        const [held] = yield* holder("invite")
        yield* sql`SELECT pg_terminate_backend(${held!.pid})`
        return { ok: 0 }
      })
      const first = yield* Effect.either(
        JobRuns.runSlot("invite", slot, killLockConnection).pipe(Effect.provide(capturingLogs(logs)))
      )
      expect(first._tag).toBe("Left")
      expect(logs.filter((l) => l.startsWith("ERROR"))).toEqual([
        expect.stringContaining("could not release the advisory lock of job invite (pronto_notify job_runs)")
      ])
      expect(yield* holder("invite")).toEqual([])
      const again = yield* JobRuns.runSlot("invite", slot, Effect.succeed({ ok: 1 })).pipe(Effect.timeout("5 seconds"))
      expect(again).toEqual({ _tag: "Ran", summary: { ok: 1 } })
      expect((yield* runs)[0]).toMatchObject({ job: "invite", status: "done", attempts: 2 })
    }))
})
