/**
 * A BonusServer over the bonus server's HTTP API (`BonusApi`), for a host whose bonus server runs
 * apart from the library's database.
 *
 * Atomicity (C10) in this deployment: an HTTP call cannot join the notification's transaction,
 * so an accrual is never made before the message is certainly sent. `accrue` writes the accrual
 * to `pronto_notify.bonus_outbox` on the caller's connection: inside the engine's transaction it
 * commits together with the sent notification and its marks, and a failed send rolls it back
 * with them, so nothing reaches the bonus server. Committed accruals are then posted, with the
 * outbox row's key as `Idempotency-Key`, by a background pass (every few seconds, and once more
 * when the layer is released) until the bonus server has them; a retry after a lost answer is
 * not accrued twice. A customer never gets bonuses for a message they did not get, and never a
 * promise without the bonus: it arrives moments after the message, with the accrual's own instant
 * and expiry.
 *
 * Reads (balance, first accruals) and spending go to the server directly. `accrue` answers
 * `request:<key>`; the outbox maps the key to the bonus server's operation id once delivered.
 */
import { FetchHttpClient, HttpApiClient } from "@effect/platform"
import { SqlClient, type SqlError } from "@effect/sql"
import {
  Array as Arr,
  Context,
  DateTime,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  ParseResult,
  Schema
} from "effect"
import {
  BonusApi,
  describeIssues,
  expiryProblem,
  InvalidRequest,
  MAX_LOOKUPS,
  PermanentAccrualRequest,
  TemporaryAccrualRequest
} from "./BonusApi.ts"
import { type Accrual, BonusServer, BonusServerError, InsufficientBalance } from "./BonusServer.ts"

/** Accruals waiting for the bonus server, written in the notification's transaction. */
export const OUTBOX_TABLE = `
CREATE TABLE pronto_notify.bonus_outbox (
  id           bigserial PRIMARY KEY,
  request_key  uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  type         text NOT NULL CHECK (type IN ('permanent', 'temporary')),
  client_id    bigint NOT NULL,
  amount       numeric(12,2) NOT NULL,
  reason       text NOT NULL,
  accrued_at   timestamptz NOT NULL,
  expires_at   timestamptz NULL CHECK ((type = 'temporary') = (expires_at IS NOT NULL)),
  order_uid    uuid NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text NULL,
  delivered_at timestamptz NULL,
  operation_id text NULL
);
CREATE INDEX bonus_outbox_undelivered ON pronto_notify.bonus_outbox (id) WHERE delivered_at IS NULL;
`

/** Outbox rows posted per pass (one transaction holds them locked meanwhile). */
const DELIVERY_BATCH = 100
/** Accrual requests in flight at once. */
const DELIVERY_CONCURRENCY = 4

export interface Options {
  /** The bonus server's base URL; the API lives under `/bonus`. */
  readonly baseUrl: string
  /** How long one call may take; default 10 seconds. */
  readonly timeout?: Duration.DurationInput
  /** How often undelivered accruals are posted; default 5 seconds. */
  readonly deliveryInterval?: Duration.DurationInput
}

export interface DeliveryReport {
  /** Accruals the bonus server took in this flush. */
  readonly delivered: number
  /** Attempts that failed (they stay in the outbox and are tried again). */
  readonly failed: number
  /** Accruals still undelivered after the flush. */
  readonly pending: number
}

/** The accruals queued for the bonus server. */
export class BonusOutbox extends Context.Tag("pronto-notify/BonusOutbox")<BonusOutbox, {
  /**
   * Posts every committed, undelivered accrual now (after a pass already running in this process
   * ends). The background pass does the same on its own; a host may call this after each job.
   */
  readonly flush: Effect.Effect<DeliveryReport, SqlError.SqlError>
}>() {}

interface OutboxRow {
  readonly id: number
  readonly key: string
  readonly type: "permanent" | "temporary"
  readonly clientId: number
  readonly amount: string
  readonly reason: string
  readonly accruedAt: Date
  readonly expiresAt: Date | null
  readonly orderUid: string | null
}

const describe = (error: unknown): string => {
  if (error instanceof InvalidRequest) return `the bonus server refused the request: ${error.message}`
  if (ParseResult.isParseError(error)) return `the bonus server's answer is not what BonusApi defines: ${error.message}`
  if (error instanceof Error) return error.message
  return String(error)
}

export const make = (options: Options) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const client = yield* HttpApiClient.make(BonusApi, { baseUrl: options.baseUrl })
    const timeout = options.timeout ?? Duration.seconds(10)

    const timedOut = (operation: string) => () =>
      new BonusServerError({ operation, reason: `no answer from ${options.baseUrl} within ${Duration.format(timeout)}` })

    const failed = (operation: string) => (error: unknown) =>
      error instanceof BonusServerError ? error : new BonusServerError({ operation, reason: describe(error) })

    /** One call: bounded in time; every failure a BonusServerError that says where and why. */
    const call = <A, E>(operation: string, effect: Effect.Effect<A, E>): Effect.Effect<A, BonusServerError> =>
      effect.pipe(Effect.timeoutFail({ duration: timeout, onTimeout: timedOut(operation) }), Effect.mapError(failed(operation)))

    /** The server's own checks, made before queuing: a queued accrual must never be refused. */
    const check = (accrual: Accrual): Effect.Effect<void, BonusServerError> => {
      const checked = accrual.type === "permanent"
        ? Schema.validateEither(PermanentAccrualRequest)(accrual)
        : Schema.validateEither(TemporaryAccrualRequest)(accrual)
      const problem = Either.isLeft(checked)
        ? describeIssues(ParseResult.ArrayFormatter.formatErrorSync(checked.left))
        : accrual.type === "temporary"
        ? expiryProblem(accrual.at, accrual.expiresAt)
        : undefined
      return problem === undefined ? Effect.void : Effect.fail(new BonusServerError({ operation: "accrue", reason: problem }))
    }

    const accrue = (accrual: Accrual) =>
      Effect.zipRight(
        check(accrual),
        sql<{ key: string }>`
          INSERT INTO pronto_notify.bonus_outbox (type, client_id, amount, reason, accrued_at, expires_at, order_uid)
          VALUES (${accrual.type}, ${accrual.clientId}, ${accrual.amount.toFixed(2)}::numeric, ${accrual.reason},
                  ${DateTime.toDateUtc(accrual.at)},
                  ${accrual.type === "temporary" ? DateTime.toDateUtc(accrual.expiresAt) : null},
                  ${accrual.type === "permanent" ? accrual.orderUid ?? null : null}::uuid)
          RETURNING request_key::text AS key
        `.pipe(
          Effect.map((rows) => `request:${rows[0]!.key}`),
          Effect.mapError((error) => new BonusServerError({ operation: "accrue", reason: error.message }))
        )
      )

    const post = (row: OutboxRow) => {
      const common = {
        clientId: row.clientId,
        amount: Number(row.amount),
        reason: row.reason,
        at: DateTime.unsafeFromDate(row.accruedAt)
      }
      const headers = { "idempotency-key": row.key }
      return call(
        "accrue",
        row.type === "permanent" || row.expiresAt === null
          ? client.bonus.accruePermanent({
            payload: row.orderUid === null ? common : { ...common, orderUid: row.orderUid },
            headers
          })
          : client.bonus.accrueTemporary({
            payload: { ...common, expiresAt: DateTime.unsafeFromDate(row.expiresAt) },
            headers
          })
      )
    }

    /** Posts the next block of undelivered rows after `afterId`, holding them locked meanwhile. */
    const pass = (afterId: number) =>
      Effect.gen(function*() {
        const rows = yield* sql<OutboxRow>`
          SELECT id, request_key::text AS key, type, client_id AS "clientId", amount::text AS amount, reason,
                 accrued_at AS "accruedAt", expires_at AS "expiresAt", order_uid::text AS "orderUid"
          FROM pronto_notify.bonus_outbox
          WHERE delivered_at IS NULL AND id > ${afterId}
          ORDER BY id
          LIMIT ${DELIVERY_BATCH}
          FOR UPDATE SKIP LOCKED
        `
        const outcomes = yield* Effect.forEach(rows, (row) => Effect.either(post(row)), {
          concurrency: DELIVERY_CONCURRENCY
        })
        const delivered = Arr.filterMap(
          Arr.zip(rows, outcomes),
          ([row, o]) => Either.isRight(o) ? Option.some({ id: row.id, operation_id: o.right.operationId }) : Option.none()
        )
        const failed = Arr.filterMap(
          Arr.zip(rows, outcomes),
          ([row, o]) => Either.isLeft(o) ? Option.some({ row, error: o.left.reason }) : Option.none()
        )
        if (delivered.length > 0) {
          yield* sql`
            UPDATE pronto_notify.bonus_outbox o
            SET delivered_at = now(), operation_id = d.operation_id, last_error = NULL
            FROM jsonb_to_recordset(${JSON.stringify(delivered)}::jsonb) AS d(id bigint, operation_id text)
            WHERE o.id = d.id
          `
        }
        if (failed.length > 0) {
          yield* sql`
            UPDATE pronto_notify.bonus_outbox o
            SET attempts = o.attempts + 1, last_error = d.error
            FROM jsonb_to_recordset(${
            JSON.stringify(failed.map((f) => ({ id: f.row.id, error: f.error })))
          }::jsonb) AS d(id bigint, error text)
            WHERE o.id = d.id
          `
          yield* Effect.forEach(failed, ({ error, row }) =>
            Effect.logWarning(
              `bonus accrual request:${row.key} (client ${row.clientId}, ${row.amount} ${row.type}, reason ${
                JSON.stringify(row.reason)
              }) not delivered yet: ${error}; will retry`
            ))
        }
        return { lastId: rows.at(-1)?.id, delivered: delivered.length, failed: failed.length }
      }).pipe(sql.withTransaction)

    const semaphore = yield* Effect.makeSemaphore(1)

    /** Every undelivered row once, block after block. */
    const flush = Effect.gen(function*() {
      let afterId = 0
      let delivered = 0
      let failed = 0
      for (;;) {
        const result = yield* pass(afterId)
        delivered += result.delivered
        failed += result.failed
        if (result.lastId === undefined) break
        afterId = result.lastId
      }
      const [left] = yield* sql<{ pending: number }>`
        SELECT count(*)::int AS pending FROM pronto_notify.bonus_outbox WHERE delivered_at IS NULL
      `
      return { delivered, failed, pending: left!.pending } satisfies DeliveryReport
    }).pipe(semaphore.withPermits(1))

    const balance = (clientId: number, at: DateTime.Utc) =>
      call("balance", client.bonus.balance({ urlParams: { clientId, at } })).pipe(Effect.map((r) => r.balance))

    const spend = (clientId: number, amount: number, at: DateTime.Utc) =>
      client.bonus.spend({ payload: { clientId, amount, at } }).pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: timedOut("spend") }),
        Effect.mapError((error) => (error instanceof InsufficientBalance ? error : failed("spend")(error)))
      )

    const firstAccruals = (lookups: Parameters<BonusServer["Type"]["firstAccruals"]>[0]) =>
      Effect.forEach(Arr.chunksOf(lookups, MAX_LOOKUPS), (chunk) =>
        call("firstAccruals", client.bonus.firstAccruals({ payload: { lookups: chunk } })).pipe(
          Effect.filterOrFail(
            (answer) => answer.accruals.length === chunk.length,
            (answer) =>
              new BonusServerError({
                operation: "firstAccruals",
                reason: `asked ${chunk.length} look-ups, the bonus server answered ${answer.accruals.length}`
              })
          ),
          Effect.map((answer) => answer.accruals.map((a) => Option.fromNullable(a)))
        )).pipe(Effect.map(Arr.flatten))

    return {
      server: BonusServer.of({ balance, accrue, spend, firstAccruals }),
      outbox: BonusOutbox.of({ flush }),
      interval: options.deliveryInterval ?? Duration.seconds(5),
      timeout
    }
  })

/**
 * The BonusServer over HTTP, with its outbox (needs the library's SqlClient). Delivers committed
 * accruals every `deliveryInterval` while the layer lives (left over from a crash too), and once
 * more as it is released.
 */
export const layer = (options: Options): Layer.Layer<BonusServer | BonusOutbox, never, SqlClient.SqlClient> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const { interval, outbox, server, timeout } = yield* make(options)
      const logged = outbox.flush.pipe(
        Effect.catchAllCause((cause) => Effect.logError("bonus outbox delivery failed; will retry", cause))
      )
      // Released last: a final delivery, so that a short-lived process leaves nothing behind
      // when the bonus server is up.
      yield* Effect.addFinalizer(() => Effect.timeout(logged, Duration.times(timeout, 3)).pipe(Effect.ignore))
      yield* Effect.forkScoped(Effect.forever(Effect.delay(logged, interval)))
      return Context.make(BonusServer, server).pipe(Context.add(BonusOutbox, outbox))
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
