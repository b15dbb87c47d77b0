/**
 * A run's own database session: a reserved connection that holds the run's token lock (a session
 * advisory lock in `RUN_LOCK_SPACE`) for as long as the run lives, and on which the run records its
 * attempts and the start of their POSTs, each statement committed on its own, outside every
 * notification's transaction (so a delivery never waits for a second pooled connection while it
 * holds one). Its statements run one at a time; the POST starts asked for while one is running go
 * together in the next (a group commit), so the messages in flight share its round trips. Another
 * run that finds a token's lock free knows that run is gone, and releases its attempts whose POST
 * never started (`Notifications.releaseAbandoned`).
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { DateTime, Deferred, Effect, Exit, Queue, Schema, type Scope } from "effect"
import type { NotificationId } from "../kinds/Kind.ts"
import { onConnection, releaseOrClose } from "../store/AdvisoryLock.ts"
import { Notifications, RUN_LOCK_SPACE } from "../store/Notifications.ts"
import type { Executor } from "../store/Transactions.ts"
import * as Rows from "../store/Rows.ts"

export interface RunSession {
  /** Stamped on every attempt of the run. */
  readonly token: number
  /** Runs a statement on the session's connection, after those before it. */
  readonly execute: Executor
  /**
   * Records, committed, that the attempt's POST starts now: whether it was still there to post (a
   * later run may have released it, taking this one for dead).
   */
  readonly startPost: (id: NotificationId) => Effect.Effect<boolean, SqlError.SqlError>
}

interface Waiting {
  readonly id: NotificationId
  readonly started: Deferred.Deferred<boolean, SqlError.SqlError>
}

/**
 * The POST starts, recorded by one fiber per connection (`lanes`): each statement takes every
 * start asked for meanwhile.
 */
const postStarts = (lanes: ReadonlyArray<Executor>) =>
  Effect.gen(function*() {
    const notifications = yield* Notifications
    const waiting = yield* Queue.unbounded<Waiting>()
    const record = (execute: Executor) => Effect.gen(function*() {
      const batch = [yield* Queue.take(waiting), ...(yield* Queue.takeAll(waiting))]
      const started = yield* Effect.exit(notifications.startPosts(batch.map((w) => w.id), yield* DateTime.now, execute))
      for (const w of batch) yield* Deferred.done(w.started, Exit.map(started, (ids) => ids.has(w.id)))
    })
    for (const execute of lanes) yield* Effect.forkScoped(Effect.forever(record(execute)))
    return (id: NotificationId) =>
      Effect.flatMap(Deferred.make<boolean, SqlError.SqlError>(), (started) =>
        Effect.zipRight(Queue.offer(waiting, { id, started }), Deferred.await(started)))
  })

const Taken = Schema.Struct({ token: Rows.Int, locked: Schema.Boolean, pid: Rows.Int })
const decodeTaken = Rows.decodeRows(Taken)

/**
 * A new token, locked on a connection of its own until the scope closes; POST starts are recorded
 * on it and on `postStartLanes - 1` more connections taken now (the messages in flight need not
 * wait for one another's).
 */
export const acquireWith = (postStartLanes: number): Effect.Effect<
  RunSession,
  SqlError.SqlError,
  SqlClient.SqlClient | Notifications | Scope.Scope
> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const conn = yield* sql.reserve
    const oneAtATime = yield* Effect.makeSemaphore(1)
    const execute: Executor = (statement) => oneAtATime.withPermits(1)(onConnection(conn)(statement))
    const take = execute(sql`
      SELECT t.token, pg_try_advisory_lock(hashtext(${RUN_LOCK_SPACE}), t.token) AS locked, pg_backend_pid() AS pid
      FROM (SELECT nextval('pronto_notify.run_tokens')::int AS token) t
    `).pipe(Effect.flatMap(decodeTaken), Effect.map((rows) => rows[0]!))
    // A token is new, so its lock is free; only a sequence that has cycled into a live run's would not be.
    const { pid, token } = yield* Effect.acquireRelease(
      take.pipe(Effect.repeat({ until: (taken) => taken.locked })),
      ({ pid, token }) =>
        releaseOrClose(
          conn,
          pid,
          `the lock of run ${token} (${RUN_LOCK_SPACE})`,
          execute(sql<{ unlocked: boolean }>`
            SELECT pg_advisory_unlock(hashtext(${RUN_LOCK_SPACE}), ${token}) AS unlocked
          `).pipe(Effect.map((rows) => rows[0]?.unlocked === true))
        )
    )
    yield* Effect.annotateCurrentSpan({ runToken: token, backend: pid })
    const more = yield* Effect.forEach(Array.from({ length: postStartLanes - 1 }), () => Effect.map(sql.reserve, onConnection))
    return { token, execute, startPost: yield* postStarts([execute, ...more]) }
  })

/** `acquireWith` one connection: the run's own. */
export const acquire = acquireWith(1)
