/**
 * The outbox of accruals for a bonus server reached over the network: the table
 * `pronto_notify.bonus_outbox` and every statement over it. It posts nothing itself: it is given
 * the function that posts one row (`Client.ts` posts over HTTP).
 *
 * Atomicity (C10): an HTTP call cannot join the notification's transaction, so an accrual is
 * never made before the message is certainly sent. `enqueue` writes the accrual here on the
 * caller's connection: inside the engine's transaction it commits together with the sent
 * notification and its marks, and a failed send rolls it back with them, so nothing reaches the
 * bonus server. Committed accruals are then posted, with the row's key as idempotency key, until
 * the bonus server has them; a retry after a lost answer is not accrued twice. The caller gets
 * `request:<key>` as the operation id; the row maps the key to the bonus server's operation id
 * once delivered.
 *
 * A pass claims a block of rows for a lease and commits, posts outside any transaction (no
 * connection or lock is held across HTTP calls; a concurrent pass of another process skips
 * claimed rows), then records each outcome in short statements. A failed attempt is retried
 * after a backoff (5 s doubling, at most 10 min). A refusal (the server will refuse the same
 * request again) is retried too, but after MAX_REFUSALS of them the row is a dead letter: marked
 * failed, logged as an error with its outbox id, kept, never posted again automatically. Other
 * failures are retried for as long as it takes.
 *
 * The table (migration 2): a pass claims rows for a lease (`claimed_until`), so two processes
 * never post one row at once; a failed attempt backs off (`next_attempt_at`); a row refused too
 * many times is a dead letter (`failed_at`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Array as Arr, Clock, Context, DateTime, Duration, Effect, Option, Schema } from "effect"
import type { Accrual, OperationId } from "../BonusServer.ts"
import * as Rows from "../../store/Rows.ts"
import { outsideTransaction } from "../../store/Transactions.ts"

/** Outbox rows one pass claims. */
const DELIVERY_BATCH = 20
/** Accrual requests in flight at once. */
const DELIVERY_CONCURRENCY = 4
/** After the n-th failed attempt a row waits BASE · 2^(n−1) seconds, at most MAX. */
export const RETRY_BASE_SECONDS = 5
export const RETRY_MAX_SECONDS = 600
/** Refusals after which a row is a dead letter (over HTTP: 4xx other than 408/429). */
export const MAX_REFUSALS = 10

export interface DeliveryReport {
  /** Accruals the bonus server took in this flush. */
  readonly delivered: number
  /** Attempts that failed (the rows are tried again after their backoff, or dead-lettered). */
  readonly failed: number
  /** Rows this flush marked failed (dead letters): refused MAX_REFUSALS times. */
  readonly deadLettered: number
  /** Accruals still to deliver after the flush (dead letters not counted). */
  readonly pending: number
}

/** The accruals queued for the bonus server. */
export class BonusOutbox extends Context.Tag("pronto-notify/BonusOutbox")<BonusOutbox, {
  /**
   * Posts every committed accrual that is due (not delivered, not dead-lettered, past its
   * backoff, not claimed by another pass) now, after a pass already running in this process ends.
   * Runs outside any transaction of the caller. The background pass does the same on its own.
   */
  readonly flush: Effect.Effect<DeliveryReport, SqlError.SqlError>
}>() {}

/** A queued accrual, as a post sends it. */
export const OutboxRow = Schema.Struct({
  /** The queue's own sequence (selected as text): far below 2^53. */
  id: Schema.NumberFromString,
  key: Schema.String,
  type: Schema.Literal("permanent", "temporary"),
  clientId: Rows.Id,
  amount: Schema.String,
  reason: Schema.NullOr(Schema.String),
  accruedAt: Rows.Instant,
  expiresAt: Schema.NullOr(Rows.Instant),
  orderUid: Schema.NullOr(Schema.String)
})
export type OutboxRow = typeof OutboxRow.Type

const decodeOutboxRows = Rows.decodeRows(OutboxRow)
const decodeKey = Rows.decodeRows(Schema.Struct({ key: Schema.String }))
const decodeMarked = Rows.decodeRows(Schema.Struct({
  id: Schema.NumberFromString,
  key: Schema.String,
  clientId: Rows.Id,
  amount: Schema.String,
  type: Schema.String,
  refusals: Rows.Int,
  dead: Schema.Boolean,
  nextAttemptAt: Rows.Instant
}))
const decodePending = Rows.decodeRows(Schema.Struct({ pending: Rows.Int }))

/** What one post of a row came to. */
export type Posted =
  | { readonly _tag: "Delivered"; readonly operationId: string }
  /** `refused`: the server will refuse the same request again (it counts towards a dead letter). */
  | { readonly _tag: "Failed"; readonly error: string; readonly refused: boolean }

type Outcome =
  | Posted
  /** Not started: too close to the end of the pass's lease. */
  | { readonly _tag: "Skipped" }

export interface Posting {
  /** Posts one row, idempotently by its key; never fails. */
  readonly post: (row: OutboxRow) => Effect.Effect<Posted>
  /** The longest one post may take: every post must end within it. */
  readonly postTimeout: Duration.Duration
}

/**
 * The outbox over the caller's SqlClient: `enqueue` for the BonusServer's `accrue`, `flush` for
 * `BonusOutbox`.
 */
export const make = ({ post, postTimeout }: Posting) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Queued with the reason as given: the bonus server stores it as is. */
    const enqueue = (accrual: Accrual): Effect.Effect<OperationId, SqlError.SqlError> =>
      sql`
        INSERT INTO pronto_notify.bonus_outbox (type, client_id, amount, reason, accrued_at, expires_at, order_uid)
        VALUES (${accrual.type}, ${accrual.clientId}, ${accrual.amount.toFixed(2)}::numeric,
                ${accrual.reason}, ${DateTime.toDateUtc(accrual.at)},
                ${accrual.type === "temporary" ? DateTime.toDateUtc(accrual.expiresAt) : null},
                ${accrual.type === "permanent" ? accrual.orderUid ?? null : null}::uuid)
        RETURNING request_key::text AS key
      `.pipe(Effect.flatMap(decodeKey), Effect.map((rows) => `request:${rows[0]!.key}`))

    // Every post ends within `postTimeout`, so a batch is posted within `postingTime`; the lease
    // outlasts it, and a post is only started while it can end inside the lease: no other pass
    // can claim a row while this one may still be posting it. Leases are on the database's clock,
    // the one clock every process shares.
    const postingTime = Duration.times(postTimeout, Math.ceil(DELIVERY_BATCH / DELIVERY_CONCURRENCY) + 1)
    const lease = Duration.sum(postingTime, Duration.seconds(30))

    /** Claims the next due rows after `afterId` for this pass (committed at once: no lock is kept). */
    const claim = (afterId: number) =>
      sql`
        UPDATE pronto_notify.bonus_outbox o
        SET claimed_until = now() + ${Duration.toSeconds(lease)}::float8 * interval '1 second'
        WHERE o.id IN (
          SELECT id FROM pronto_notify.bonus_outbox
          WHERE delivered_at IS NULL AND failed_at IS NULL AND id > ${afterId}
            AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until <= now())
          ORDER BY id
          LIMIT ${DELIVERY_BATCH}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING o.id::text AS id, o.request_key::text AS key, o.type, o.client_id::text AS "clientId",
                  o.amount::text AS amount, o.reason, o.accrued_at AS "accruedAt", o.expires_at AS "expiresAt",
                  o.order_uid::text AS "orderUid"
      `.pipe(Effect.flatMap(decodeOutboxRows), Effect.map((rows) => [...rows].sort((a, b) => a.id - b.id)))

    const markDelivered = (delivered: ReadonlyArray<{ readonly id: number; readonly operation_id: string }>) =>
      sql`
        UPDATE pronto_notify.bonus_outbox o
        SET delivered_at = now(), operation_id = d.operation_id, last_error = NULL, claimed_until = NULL
        FROM jsonb_to_recordset(${JSON.stringify(delivered)}::jsonb) AS d(id bigint, operation_id text)
        WHERE o.id = d.id
      `

    /** Records failed attempts: backoff, and a dead letter after MAX_REFUSALS refusals. */
    const markFailed = (failures: ReadonlyArray<{ readonly id: number; readonly error: string; readonly refused: boolean }>) =>
      sql`
        UPDATE pronto_notify.bonus_outbox o
        SET attempts = o.attempts + 1,
            refusals = o.refusals + d.refused::int,
            last_error = d.error,
            claimed_until = NULL,
            next_attempt_at = now() + least(${RETRY_MAX_SECONDS}::float8,
              ${RETRY_BASE_SECONDS}::float8 * 2 ^ least(o.attempts, 30)) * interval '1 second',
            failed_at = CASE WHEN d.refused AND o.refusals + 1 >= ${MAX_REFUSALS} THEN now() END
        FROM jsonb_to_recordset(${JSON.stringify(failures)}::jsonb) AS d(id bigint, error text, refused boolean)
        WHERE o.id = d.id AND o.delivered_at IS NULL
        RETURNING o.id::text AS id, o.request_key::text AS key, o.client_id::text AS "clientId", o.amount::text AS amount,
                  o.type, o.refusals, o.failed_at IS NOT NULL AS dead, o.next_attempt_at AS "nextAttemptAt"
      `.pipe(Effect.flatMap(decodeMarked))

    /** Hands unstarted rows back at once rather than at the end of the lease. */
    const release = (ids: ReadonlyArray<number>) =>
      sql`UPDATE pronto_notify.bonus_outbox SET claimed_until = NULL WHERE id IN ${sql.in(ids)}`

    /** Claims the next block after `afterId`, posts it outside any transaction, records the outcomes. */
    const pass = (afterId: number) =>
      Effect.gen(function*() {
        const rows = yield* claim(afterId)
        const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(postingTime)
        const outcomes = yield* Effect.forEach(
          rows,
          (row) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              now + Duration.toMillis(postTimeout) <= deadline ? post(row) : Effect.succeed<Outcome>({ _tag: "Skipped" })),
          { concurrency: DELIVERY_CONCURRENCY }
        )
        const paired = Arr.zip(rows, outcomes)
        const delivered = Arr.filterMap(paired, ([row, o]) =>
          o._tag === "Delivered" ? Option.some({ id: row.id, operation_id: o.operationId }) : Option.none())
        const failures = Arr.filterMap(paired, ([row, o]) =>
          o._tag === "Failed" ? Option.some({ id: row.id, error: o.error, refused: o.refused }) : Option.none())
        const skipped = Arr.filterMap(paired, ([row, o]) => (o._tag === "Skipped" ? Option.some(row.id) : Option.none()))
        if (delivered.length > 0) yield* markDelivered(delivered)
        if (skipped.length > 0) yield* release(skipped)
        const marked = failures.length > 0 ? yield* markFailed(failures) : []
        const errors = new Map(failures.map((f) => [f.id, f.error]))
        yield* Effect.forEach(marked, (row) => {
          const what = `bonus outbox row ${row.id} (request:${row.key}, client ${row.clientId}, ${row.amount} ${row.type})`
          return row.dead
            ? Effect.logError(
              `${what} was refused ${row.refusals} times and is marked failed; it will not be posted again ` +
                `automatically: ${errors.get(row.id)}`
            )
            : Effect.logWarning(
              `${what} not delivered yet: ${errors.get(row.id)}; will retry after ${row.nextAttemptAt.toISOString()}`
            )
        })
        return {
          lastId: rows.at(-1)?.id,
          delivered: delivered.length,
          failed: failures.length,
          deadLettered: marked.filter((row) => row.dead).length
        }
      })

    const semaphore = yield* Effect.makeSemaphore(1)

    /** Every due row once, block after block. */
    const flush = Effect.gen(function*() {
      let afterId = 0
      let delivered = 0
      let failed = 0
      let deadLettered = 0
      for (;;) {
        const result = yield* pass(afterId)
        delivered += result.delivered
        failed += result.failed
        deadLettered += result.deadLettered
        if (result.lastId === undefined) break
        afterId = result.lastId
      }
      const [left] = yield* sql`
        SELECT count(*)::int AS pending FROM pronto_notify.bonus_outbox WHERE delivered_at IS NULL AND failed_at IS NULL
      `.pipe(Effect.flatMap(decodePending))
      return { delivered, failed, deadLettered, pending: left!.pending } satisfies DeliveryReport
    }).pipe(semaphore.withPermits(1), outsideTransaction)

    return { enqueue, flush }
  })
