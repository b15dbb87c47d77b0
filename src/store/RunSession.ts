/**
 * A run's own database session: a reserved connection that holds the run's token lock (a session
 * advisory lock in `RUN_LOCK_SPACE`) for as long as the run lives, and on which the run records its
 * attempts and the start of their POSTs, each statement committed on its own, outside every
 * message's transaction (so a delivery never waits for a second pooled connection while it holds
 * one). Its statements run one at a time; the POST starts asked for while one is running go
 * together in the next (a group commit), so the messages in flight share its round trips. Another
 * run that finds a token's lock free knows that run is gone, and releases its attempts whose POST
 * never started (`Attempts.releaseAbandoned`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError, Statement } from "@effect/sql"
import { DateTime, Deferred, Effect, Exit, Option, Queue, Schema, type Scope } from "effect"
import { heartbeat, onConnection, releaseOrClose } from "./AdvisoryLock.ts"
import type { NotificationId } from "./Ids.ts"
import * as Rows from "./Rows.ts"
import type { Executor } from "./Transactions.ts"

/**
 * The first key of a run's advisory lock (the second is its token): a run holds it for as long as
 * it lives, so a free lock means the run that made an attempt is gone.
 */
export const RUN_LOCK_SPACE = "pronto_notify runs"

/**
 * Whether the run that made the notification `n` has ended: its token's lock is free (or it has no
 * token, from before runs were recorded).
 */
export const runIsGone = (sql: SqlClient.SqlClient): Statement.Fragment =>
  sql`(n.run_token IS NULL OR NOT EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = hashtext(${RUN_LOCK_SPACE})::oid AND l.objid = n.run_token::oid AND l.objsubid = 2
  ))`

/** A message about to be attempted: the notification recorded, in doubt, before its POST. */
export interface Attempt {
  readonly kind: string
  /** The rotation counter its action came from: the kind, or the kind and band. */
  readonly actionSet: string
  readonly triggerKey: string
  readonly clientId: string
  readonly orderUid: string | null
  readonly phone: string
  readonly chosenAction: number
  readonly performedAction: number
  readonly text: string
  /** When the attempt is made. */
  readonly at: DateTime.Utc
}

export interface RunSession {
  /** Stamped on every attempt of the run. */
  readonly token: number
  /**
   * Records the run's attempts in one statement, committed on its own before any of their POSTs.
   * Each attempt's id, in order; none for one whose trigger already has a message (sent, in doubt,
   * or earlier in the same list): it must not be sent.
   */
  readonly record: (attempts: ReadonlyArray<Attempt>) => Effect.Effect<ReadonlyArray<Option.Option<NotificationId>>, SqlError.SqlError>
  /**
   * Records, committed, that the attempt's POST starts now: whether it was still there to post (a
   * later run may have released it, taking this one for dead).
   */
  readonly startPost: (id: NotificationId) => Effect.Effect<boolean, SqlError.SqlError>
  /**
   * Forgets the attempts of a kind this run made whose POST never started (it stopped before
   * them); a resend it claimed waits for the next run again. How many.
   */
  readonly forgetUnstarted: (kind: string) => Effect.Effect<number, SqlError.SqlError>
  /**
   * Takes the kind's messages waiting to go out once more (settled as not delivered): each becomes
   * an attempt of this run, with the client's phone as it is now.
   */
  readonly claimResends: (kind: string) => Effect.Effect<ReadonlyArray<Resend>, SqlError.SqlError>
}

/** A message settled as not delivered, claimed by a run to go out once more. */
export const Resend = Schema.Struct({
  id: Rows.Id,
  actionSet: Schema.String,
  triggerKey: Schema.String,
  clientId: Rows.Id,
  orderUid: Schema.NullOr(Schema.String),
  /** The client's phone now, as stored by the host. */
  phone: Schema.String,
  chosenAction: Rows.Int,
  performedAction: Rows.Int,
  text: Schema.String
})
export type Resend = typeof Resend.Type
const decodeResends = Rows.decodeRows(Resend)

/**
 * What gives an attempt back when it did not go out: a resend waits for the next run again, any
 * other attempt is forgotten. `n` is the notification; `which` narrows to the attempts meant.
 */
export const giveBack = (sql: SqlClient.SqlClient, which: Statement.Fragment) =>
  sql`
    WITH back AS (
      UPDATE pronto_notify.notifications n SET status = 'resend', run_token = NULL, post_started_at = NULL
      WHERE ${which} AND n.resend_requested_at IS NOT NULL
      RETURNING n.id
    ), forgotten AS (
      DELETE FROM pronto_notify.notifications n WHERE ${which} AND n.resend_requested_at IS NULL
      RETURNING n.id
    )
    SELECT id::text AS id FROM back UNION ALL SELECT id::text AS id FROM forgotten
  `

const decodeId = Rows.decodeRows(Schema.Struct({ id: Rows.Id }))
const decodeReserved = Rows.decodeRows(Schema.Struct({ id: Rows.Id, kind: Schema.String, trigger: Schema.String }))

const record = (sql: SqlClient.SqlClient, execute: Executor, token: number) => (attempts: ReadonlyArray<Attempt>) => {
  if (attempts.length === 0) return Effect.succeed([])
  const rows = JSON.stringify(attempts.map((a) => ({
    kind: a.kind,
    action_set: a.actionSet,
    trigger_key: a.triggerKey,
    client_id: a.clientId,
    order_uid: a.orderUid,
    phone: a.phone,
    chosen_action: a.chosenAction,
    performed_action: a.performedAction,
    text: a.text,
    attempted_at: DateTime.formatIso(a.at)
  })))
  return execute(sql`
    INSERT INTO pronto_notify.notifications
      (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action, performed_action, text, status,
       attempted_at, run_token)
    SELECT a.kind, a.action_set, a.trigger_key, a.client_id, a.order_uid, a.phone, a.chosen_action,
           a.performed_action, a.text, 'in_doubt', a.attempted_at, ${token}
    FROM jsonb_to_recordset(${rows}::jsonb) AS a(kind text, action_set text, trigger_key text, client_id bigint,
      order_uid uuid, phone text, chosen_action integer, performed_action integer, text text, attempted_at timestamptz)
    ON CONFLICT ON CONSTRAINT notifications_one_per_trigger DO NOTHING
    RETURNING id::text AS id, kind, trigger_key AS trigger
  `).pipe(
    Effect.flatMap(decodeReserved),
    Effect.map((reserved) => {
      const ids = new Map(reserved.map((r) => [`${r.kind}\u0000${r.trigger}`, r.id]))
      // A trigger twice in the list: the first gets the attempt.
      return attempts.map((a) => {
        const key = `${a.kind}\u0000${a.triggerKey}`
        const id = ids.get(key)
        ids.delete(key)
        return Option.fromNullable(id)
      })
    })
  )
}

/** The ids of these attempts whose POST start was recorded now: those still there to post. */
const startPosts = (sql: SqlClient.SqlClient, execute: Executor, ids: ReadonlyArray<NotificationId>, at: DateTime.Utc) =>
  execute(sql`
    UPDATE pronto_notify.notifications SET post_started_at = ${DateTime.toDateUtc(at)}
    WHERE id = ANY(${[...ids]}::bigint[]) AND status = 'in_doubt' AND post_started_at IS NULL
    RETURNING id::text AS id
  `).pipe(Effect.flatMap(decodeId), Effect.map((rows) => new Set(rows.map((r) => r.id))))

interface Waiting {
  readonly id: NotificationId
  readonly started: Deferred.Deferred<boolean, SqlError.SqlError>
}

/** The POST starts, recorded by one fiber per connection (`lanes`): each statement takes every start asked for meanwhile. */
const postStarts = (sql: SqlClient.SqlClient, lanes: ReadonlyArray<Executor>) =>
  Effect.gen(function*() {
    const waiting = yield* Queue.unbounded<Waiting>()
    const lane = (execute: Executor) =>
      Effect.gen(function*() {
        const batch = [yield* Queue.take(waiting), ...(yield* Queue.takeAll(waiting))]
        const started = yield* Effect.exit(startPosts(sql, execute, batch.map((w) => w.id), yield* DateTime.now))
        for (const w of batch) yield* Deferred.done(w.started, Exit.map(started, (ids) => ids.has(w.id)))
      })
    for (const execute of lanes) yield* Effect.forkScoped(Effect.forever(lane(execute)))
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
export const acquireWith = (postStartLanes: number): Effect.Effect<RunSession, SqlError.SqlError, SqlClient.SqlClient | Scope.Scope> =>
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
    yield* heartbeat(`the lock of run ${token}`, (statement) => execute(sql.unsafe(statement)))
    yield* Effect.annotateCurrentSpan({ runToken: token, backend: pid })
    const more = yield* Effect.forEach(Array.from({ length: postStartLanes - 1 }), () => Effect.map(sql.reserve, onConnection))
    return {
      token,
      record: record(sql, execute, token),
      startPost: yield* postStarts(sql, [execute, ...more]),
      // The kind and the status let the partial index of messages in doubt find them.
      forgetUnstarted: (kind) =>
        execute(giveBack(
          sql,
          sql`n.kind = ${kind} AND n.status = 'in_doubt' AND n.run_token = ${token} AND n.post_started_at IS NULL`
        )).pipe(Effect.map((rows) => rows.length)),
      claimResends: (kind) =>
        execute(sql`
          UPDATE pronto_notify.notifications n SET status = 'in_doubt', run_token = ${token}, post_started_at = NULL
          FROM jupiter.clients c
          WHERE n.kind = ${kind} AND n.status = 'resend' AND c.id = n.client_id
          RETURNING n.id::text AS id, n.action_set AS "actionSet", n.trigger_key AS "triggerKey", n.client_id::text AS "clientId",
                    n.order_uid::text AS "orderUid", c.phone, n.chosen_action AS "chosenAction",
                    n.performed_action AS "performedAction", n.text
        `).pipe(Effect.flatMap(decodeResends))
    }
  })

/** `acquireWith` one connection: the run's own. */
export const acquire = acquireWith(1)
