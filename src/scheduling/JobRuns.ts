/**
 * One run per (job, scheduled slot). A cron tick may arrive more than once (ClusterCron delivers at
 * least once: a crash mid-run repeats the tick), and several processes may be asked for the same
 * slot at once; this makes each slot run to completion once, and makes any repeat a no-op.
 *
 * A run holds a PostgreSQL advisory lock for its job on a reserved connection for as long as it
 * lasts: runs of one job never overlap, a concurrent duplicate waits for the lock and then finds
 * the slot done, and a process killed mid-run loses the lock with its connection, so the next
 * attempt takes over. The engine's own guarantees (one message per trigger, attempts recorded
 * before the POST) make that take-over send nothing twice. A release that fails is logged and the
 * lock's connection closed (`releaseOrClose`): a pooled connection never keeps a job's lock.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError, Statement } from "@effect/sql"
import { Cause, DateTime, Duration, Effect, Exit, Option, Schema } from "effect"
import { hostname } from "node:os"
import { describe, heartbeat, onConnection, releaseOrClose } from "../store/AdvisoryLock.ts"
import * as Metrics from "../observability/Metrics.ts"
import * as Rows from "../store/Rows.ts"
import * as TablesMissing from "../store/TablesMissing.ts"
import type { JobName } from "./Schedule.ts"

/** The first key of every job's advisory lock (the second is the job's name). */
const LOCK_SPACE = "pronto_notify job_runs"

/** Whether this session took the lock, and its backend (to close it should the release fail). */
interface AdvisoryLock {
  readonly locked: boolean
  readonly pid: number
}

/** How often a run waiting for its job's lock asks again. */
const LOCK_POLL = Duration.millis(500)

/**
 * Who is running a slot: host and process, for the operator (and the multi-process test). Asked
 * when a slot runs, not when the module loads (Deno asks for a permission to read the host name).
 */
const runnerName = Effect.sync(() => `${hostname()}/${process.pid}`)

export type SlotResult<A> =
  | { readonly _tag: "Ran"; readonly summary: A }
  /** The slot was already done; nothing was run. */
  | { readonly _tag: "AlreadyDone" }

export const JobRun = Schema.Struct({
  job: Schema.String,
  slot: Rows.Instant,
  status: Schema.Literal("running", "done", "failed", "interrupted"),
  attempts: Rows.Int,
  runner: Schema.String,
  startedAt: Rows.Instant,
  finishedAt: Schema.NullOr(Rows.Instant),
  summary: Schema.Unknown,
  error: Schema.NullOr(Schema.String)
})
export type JobRun = typeof JobRun.Type
const decodeRuns = Rows.decodeRows(JobRun)

export class JobRunFailed extends Schema.TaggedError<JobRunFailed>()("JobRunFailed", {
  job: Schema.String,
  slot: Schema.String,
  reason: Schema.String,
  /** Present when the run ended but left work a retry can do: how many messages it could not send. */
  unsent: Schema.optional(Schema.Number),
  /** Present when the run stopped because the Site's answers stayed ambiguous. */
  stoppedByBreaker: Schema.optional(Schema.Boolean)
}) {
  override get message() {
    return `${this.job} for the slot ${this.slot} failed: ${this.reason}; it runs again when the slot is asked for again`
  }
}

/** What a run that ended left to do: messages a retry would send (definite failures, a breaker's stop). */
export interface Leftover {
  readonly unsent: number
  readonly stoppedByBreaker: boolean
  readonly reason: string
}

/**
 * Runs `run` for the job's slot unless that slot is done; waits while another run of the same job
 * holds the lock. The summary is stored with the slot. A run whose summary has a `leftover` leaves
 * the slot failed, with its summary, so that asking for the slot again runs it again.
 */
export const runSlot = <A, E extends { readonly message: string }, R>(
  job: JobName,
  slot: DateTime.Utc,
  run: Effect.Effect<A, E, R>,
  leftover: (summary: A) => Option.Option<Leftover> = () => Option.none(),
  summaryOfFailure: (error: E) => unknown = () => null
): Effect.Effect<SlotResult<A>, JobRunFailed | SqlError.SqlError | TablesMissing.TablesMissing, R | SqlClient.SqlClient> =>
  TablesMissing.named(Effect.scoped(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const conn = yield* sql.reserve
      // Statements of the lock's own connection, one at a time (its heartbeat among them).
      const oneAtATime = yield* Effect.makeSemaphore(1)
      const onLock = <Row extends object>(statement: Statement.Statement<Row>) =>
        oneAtATime.withPermits(1)(onConnection(conn)(statement))
      const slotIso = DateTime.formatIso(slot)
      const slotDate = DateTime.toDateUtc(slot)

      const tryLock = onLock(sql<AdvisoryLock>`
        SELECT pg_try_advisory_lock(hashtext(${LOCK_SPACE}), hashtext(${job})) AS locked, pg_backend_pid() AS pid
      `).pipe(Effect.map((rows) => rows[0]!))
      // Taken and its release registered in one uninterruptible step; only the wait between tries
      // can be interrupted.
      const waitForLock: Effect.Effect<AdvisoryLock, SqlError.SqlError> = tryLock.pipe(
        Effect.flatMap((l) =>
          l.locked ? Effect.succeed(l) : Effect.zipRight(Effect.interruptible(Effect.sleep(LOCK_POLL)), waitForLock)
        )
      )
      const unlock = onLock(sql<{ unlocked: boolean }>`
        SELECT pg_advisory_unlock(hashtext(${LOCK_SPACE}), hashtext(${job})) AS unlocked
      `).pipe(Effect.map((rows) => rows[0]?.unlocked === true))
      yield* Effect.acquireRelease(
        Effect.flatMap(tryLock, (l) =>
          l.locked
            ? Effect.succeed(l)
            : Effect.zipRight(
              Effect.logInfo(`${job} for ${slotIso}: another run of ${job} is in progress; waiting for it`),
              Effect.suspend(() => waitForLock)
            )),
        (lock) => releaseOrClose(conn, lock.pid, `the advisory lock of job ${job} (${LOCK_SPACE})`, unlock)
      )
      yield* heartbeat(`the advisory lock of job ${job}`, (statement) => onLock(sql.unsafe(statement)))

      const [existing] = yield* onLock(sql<{ status: string }>`
        SELECT status FROM pronto_notify.job_runs WHERE job = ${job} AND slot = ${slotDate}
      `)
      if (existing?.status === "done") return { _tag: "AlreadyDone" } as SlotResult<A>

      // A row left running belongs to a process that died holding the lock: this run takes over.
      const startedAt = yield* DateTime.now
      const [started] = yield* onLock(sql<{ attempts: number }>`
        INSERT INTO pronto_notify.job_runs (job, slot, status, runner, started_at)
        VALUES (${job}, ${slotDate}, 'running', ${yield* runnerName}, ${DateTime.toDateUtc(startedAt)})
        ON CONFLICT (job, slot) DO UPDATE
          SET status = 'running', attempts = job_runs.attempts + 1, runner = EXCLUDED.runner,
              started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL
        RETURNING attempts
      `)
      // How late the slot started: its first run only (a retry's wait is the retry's, not lateness).
      if (Number(started?.attempts) === 1) yield* Metrics.slotStarted(job, DateTime.distanceDuration(slot, startedAt))
      const finish = (status: "done" | "failed" | "interrupted", summary: unknown, error: string | null) =>
        Effect.flatMap(DateTime.now, (now) =>
          onLock(sql`
            UPDATE pronto_notify.job_runs
            SET status = ${status}, finished_at = ${DateTime.toDateUtc(now)},
                summary = ${summary === null ? null : JSON.stringify(summary)}::jsonb, error = ${error}
            WHERE job = ${job} AND slot = ${slotDate}
          `))

      // The run itself uses the pool, not the lock's connection. A stop (SIGTERM) interrupts it
      // between notifications; the slot is then recorded interrupted and runs again later.
      const exit = yield* run.pipe(
        Effect.onInterrupt(() =>
          finish("interrupted", null, "stopped before the end").pipe(
            // The row then says running; the next run of the slot takes over all the same.
            Effect.catchAll((error) =>
              Effect.logError(`${job} for ${slotIso}: could not record the run as interrupted: ${describe(error)}`)
            )
          )
        ),
        Effect.exit
      )
      if (Exit.isSuccess(exit)) {
        const left = leftover(exit.value)
        if (Option.isSome(left)) {
          yield* finish("failed", exit.value, left.value.reason)
          return yield* new JobRunFailed({ job, slot: slotIso, ...left.value })
        }
        yield* finish("done", exit.value, null)
        return { _tag: "Ran", summary: exit.value } as SlotResult<A>
      }
      const failure = Exit.causeOption(exit).pipe(Option.flatMap(Cause.failureOption))
      const reason = Option.match(failure, {
        onNone: () => Exit.causeOption(exit).pipe(Option.map(Cause.pretty), Option.getOrElse(() => "unknown")),
        onSome: (e) => e.message
      })
      yield* finish("failed", Option.match(failure, { onNone: () => null, onSome: summaryOfFailure }), reason)
      return yield* new JobRunFailed({ job, slot: slotIso, reason })
    })
  ))

export { releaseOrClose }

/** The recorded runs, newest slot first (for operators and tests). */
export const list = (options: { readonly job?: JobName } = {}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      SELECT job, slot, status, attempts, runner, started_at AS "startedAt", finished_at AS "finishedAt", summary, error
      FROM pronto_notify.job_runs
      ${options.job ? sql`WHERE job = ${options.job}` : sql``}
      ORDER BY slot DESC, job
    `.pipe(Effect.flatMap(decodeRuns)))

/** Per job: when its latest successful run finished, and its first recorded slot (when the schedule started being kept). */
export const JobHistory = Schema.Struct({ job: Schema.String, lastSuccess: Schema.NullOr(Rows.Instant), firstSlot: Rows.Instant })
export type JobHistory = typeof JobHistory.Type
const decodeHistories = Rows.decodeRows(JobHistory)
const decodeDone = Rows.decodeRows(Schema.Struct({ job: Schema.String, slot: Rows.Instant }))

/** Each recorded job's history (for the gauges), in one statement. */
export const histories: Effect.Effect<ReadonlyArray<JobHistory>, SqlError.SqlError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql`
      SELECT job, max(finished_at) FILTER (WHERE status = 'done') AS "lastSuccess", min(slot) AS "firstSlot"
      FROM pronto_notify.job_runs GROUP BY job
    `.pipe(Effect.flatMap(decodeHistories))
)

/** Which of these (job, slot) pairs ran to success, as `job@ISO slot`. */
export const doneOf = (
  slots: ReadonlyArray<{ readonly job: JobName; readonly slot: DateTime.Utc }>
): Effect.Effect<ReadonlySet<string>, SqlError.SqlError, SqlClient.SqlClient> =>
  slots.length === 0 ? Effect.succeed(new Set()) : Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      SELECT r.job, r.slot FROM pronto_notify.job_runs r
      JOIN unnest(${slots.map((s) => s.job)}::text[], ${slots.map((s) => DateTime.formatIso(s.slot))}::timestamptz[]) AS w(job, slot)
        ON r.job = w.job AND r.slot = w.slot
      WHERE r.status = 'done'
    `.pipe(Effect.flatMap(decodeDone), Effect.map((rows) => new Set(rows.map((r) => doneKey(r.job, r.slot))))))

/** How `doneOf` names a (job, slot). */
export const doneKey = (job: JobName, slot: Date): string => `${job}@${slot.toISOString()}`
