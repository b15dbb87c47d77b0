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
 * A pass claims a block of rows for a lease and commits, posts outside any transaction (no
 * connection or lock is held across HTTP calls; a concurrent pass of another process skips
 * claimed rows), then records each outcome in short statements. A failed attempt is retried
 * after a backoff (5 s doubling, at most 10 min). A refusal (4xx other than 408/429: the server
 * will refuse the same request again) is retried too, but after MAX_REFUSALS of them the row is a
 * dead letter: marked failed, logged as an error with its outbox id, kept, never posted again
 * automatically. Transport failures, timeouts and 5xx are retried for as long as it takes.
 *
 * Reads (balance, first accruals) and spending go to the server directly. `accrue` answers
 * `request:<key>`; the outbox maps the key to the bonus server's operation id once delivered.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientError } from "@effect/platform"
import { SqlClient, type SqlError } from "@effect/sql"
import {
  Array as Arr,
  Clock,
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
} from "./api/Api.ts"
import { storedReason } from "./BonusLedger.ts"
import { type Accrual, BonusServer, BonusServerError, InsufficientBalance } from "./BonusServer.ts"
import { outsideTransaction } from "../store/Transactions.ts"

/**
 * Accruals waiting for the bonus server, written in the notification's transaction. A delivery
 * pass claims rows for a lease (`claimed_until`), so two processes never post one row at once;
 * a failed attempt backs off (`next_attempt_at`); a row refused too many times is a dead letter
 * (`failed_at`): kept for a person to look at, never posted again automatically.
 */
export const OUTBOX_TABLE = `
CREATE TABLE pronto_notify.bonus_outbox (
  id              bigserial PRIMARY KEY,
  request_key     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  type            text NOT NULL CHECK (type IN ('permanent', 'temporary')),
  client_id       bigint NOT NULL,
  amount          numeric(12,2) NOT NULL,
  reason          text NULL,
  accrued_at      timestamptz NOT NULL,
  expires_at      timestamptz NULL CHECK ((type = 'temporary') = (expires_at IS NOT NULL)),
  order_uid       uuid NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  refusals        integer NOT NULL DEFAULT 0,
  last_error      text NULL,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until   timestamptz NULL,
  delivered_at    timestamptz NULL,
  operation_id    text NULL,
  failed_at       timestamptz NULL CHECK (failed_at IS NULL OR delivered_at IS NULL)
);
CREATE INDEX bonus_outbox_pending ON pronto_notify.bonus_outbox (id) WHERE delivered_at IS NULL AND failed_at IS NULL;
`

/** Outbox rows one pass claims. */
const DELIVERY_BATCH = 20
/** Accrual requests in flight at once. */
const DELIVERY_CONCURRENCY = 4
/** After the n-th failed attempt a row waits BASE · 2^(n−1) seconds, at most MAX. */
export const RETRY_BASE_SECONDS = 5
export const RETRY_MAX_SECONDS = 600
/** Refusals (4xx other than 408/429) after which a row is a dead letter. */
export const MAX_REFUSALS = 10

export interface Options {
  /** The bonus server's base URL; the API lives under `/bonus`. */
  readonly baseUrl: string
  /** How long one call (request and answer) may take; default 10 seconds. */
  readonly timeout?: Duration.DurationInput
  /** How often due accruals are posted; default 5 seconds. */
  readonly deliveryInterval?: Duration.DurationInput
  /**
   * Default true: deliver the outbox in the background while the layer lives and once more as it
   * is released. False for read-only uses (a dry run, listing, the report): nothing is posted;
   * `accrue` still queues in the caller's transaction, for a delivering process to post.
   */
  readonly deliver?: boolean
}

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

interface OutboxRow {
  readonly id: number
  readonly key: string
  readonly type: "permanent" | "temporary"
  readonly clientId: number
  readonly amount: string
  readonly reason: string | null
  readonly accruedAt: Date
  readonly expiresAt: Date | null
  readonly orderUid: string | null
}

type Outcome =
  | { readonly _tag: "Delivered"; readonly operationId: string }
  | { readonly _tag: "Failed"; readonly error: string; readonly refused: boolean }
  /** Not started: too close to the end of the pass's lease. */
  | { readonly _tag: "Skipped" }

const describe = (error: unknown): string => {
  if (error instanceof InvalidRequest) return `the bonus server refused the request: ${error.message}`
  if (ParseResult.isParseError(error)) return `the bonus server's answer is not what BonusApi defines: ${error.message}`
  if (HttpClientError.isHttpClientError(error) && error._tag === "ResponseError") {
    return `the bonus server answered HTTP ${error.response.status} to ${error.request.method} ${error.request.url}`
  }
  if (error instanceof Error) return error.message
  return String(error)
}

/**
 * A definite refusal: the bonus server (or whatever answers at its address) will refuse the same
 * request again. 408 and 429 say "not now", 5xx and transport failures "not yet".
 */
const isRefusal = (error: unknown): boolean => {
  const status = error instanceof InvalidRequest
    ? 400
    : HttpClientError.isHttpClientError(error) && error._tag === "ResponseError"
    ? error.response.status
    : undefined
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429
}

export const make = (options: Options) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const client = yield* HttpApiClient.make(BonusApi, {
      baseUrl: options.baseUrl,
      // An error answer that is not JSON (a proxy's page, a plain-text 503) is none of BonusApi's
      // errors: report its status rather than a failure to parse it, and classify it by that status.
      transformClient: HttpClient.filterOrFail(
        (response) => response.status < 400 || (response.headers["content-type"] ?? "").includes("json"),
        (response) => new HttpClientError.ResponseError({ request: response.request, response, reason: "StatusCode" })
      )
    })
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(10))

    const timedOut = (operation: string) => () =>
      new BonusServerError({ operation, reason: `no answer from ${options.baseUrl} within ${Duration.format(timeout)}` })

    const failed = (operation: string) => (error: unknown) =>
      error instanceof BonusServerError ? error : new BonusServerError({ operation, reason: describe(error) })

    /**
     * One request and the reading of its answer, bounded in time. Interruptible, because the
     * engine runs a notification's work uninterruptibly (SIGTERM waits for it): a timeout can only
     * interrupt an interruptible effect, and would otherwise wait for a server that never answers.
     */
    const bounded = <A, E>(operation: string, effect: Effect.Effect<A, E>) =>
      Effect.interruptible(effect).pipe(Effect.timeoutFail({ duration: timeout, onTimeout: timedOut(operation) }))

    /** One call: bounded in time; every failure a BonusServerError that says where and why. */
    const call = <A, E>(operation: string, effect: Effect.Effect<A, E>): Effect.Effect<A, BonusServerError> =>
      bounded(operation, effect).pipe(Effect.mapError(failed(operation)))

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

    /** Queued with the reason the bonus server will store (`order` for an order accrual). */
    const accrue = (accrual: Accrual) =>
      Effect.zipRight(
        check(accrual),
        sql<{ key: string }>`
          INSERT INTO pronto_notify.bonus_outbox (type, client_id, amount, reason, accrued_at, expires_at, order_uid)
          VALUES (${accrual.type}, ${accrual.clientId}, ${accrual.amount.toFixed(2)}::numeric,
                  ${storedReason(accrual)}, ${DateTime.toDateUtc(accrual.at)},
                  ${accrual.type === "temporary" ? DateTime.toDateUtc(accrual.expiresAt) : null},
                  ${accrual.type === "permanent" ? accrual.orderUid ?? null : null}::uuid)
          RETURNING request_key::text AS key
        `.pipe(
          Effect.map((rows) => `request:${rows[0]!.key}`),
          Effect.mapError((error) => new BonusServerError({ operation: "accrue", reason: error.message }))
        )
      )

    const post = (row: OutboxRow): Effect.Effect<Outcome> => {
      const common = {
        clientId: row.clientId,
        amount: Number(row.amount),
        reason: row.reason,
        at: DateTime.unsafeFromDate(row.accruedAt)
      }
      const headers = { "idempotency-key": row.key }
      return bounded(
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
      ).pipe(
        Effect.match({
          onSuccess: ({ operationId }): Outcome => ({ _tag: "Delivered", operationId }),
          onFailure: (error): Outcome => ({
            _tag: "Failed",
            error: failed("accrue")(error).reason,
            refused: isRefusal(error)
          })
        })
      )
    }

    // Every post ends within `timeout`, so a batch is posted within `postingTime`; the lease
    // outlasts it, and a post is only started while it can end inside the lease: no other pass
    // can claim a row while this one may still be posting it. Leases are on the database's clock,
    // the one clock every process shares.
    const postingTime = Duration.times(timeout, Math.ceil(DELIVERY_BATCH / DELIVERY_CONCURRENCY) + 1)
    const leaseSeconds = Duration.toSeconds(postingTime) + 30

    /** Claims the next due rows after `afterId` for this pass (committed at once: no lock is kept). */
    const claim = (afterId: number) =>
      sql<OutboxRow>`
        UPDATE pronto_notify.bonus_outbox o
        SET claimed_until = now() + ${leaseSeconds}::float8 * interval '1 second'
        WHERE o.id IN (
          SELECT id FROM pronto_notify.bonus_outbox
          WHERE delivered_at IS NULL AND failed_at IS NULL AND id > ${afterId}
            AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until <= now())
          ORDER BY id
          LIMIT ${DELIVERY_BATCH}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING o.id, o.request_key::text AS key, o.type, o.client_id AS "clientId", o.amount::text AS amount,
                  o.reason, o.accrued_at AS "accruedAt", o.expires_at AS "expiresAt", o.order_uid::text AS "orderUid"
      `.pipe(Effect.map((rows) => [...rows].sort((a, b) => a.id - b.id)))

    const markDelivered = (delivered: ReadonlyArray<{ readonly id: number; readonly operation_id: string }>) =>
      sql`
        UPDATE pronto_notify.bonus_outbox o
        SET delivered_at = now(), operation_id = d.operation_id, last_error = NULL, claimed_until = NULL
        FROM jsonb_to_recordset(${JSON.stringify(delivered)}::jsonb) AS d(id bigint, operation_id text)
        WHERE o.id = d.id
      `

    /** Records failed attempts: backoff, and a dead letter after MAX_REFUSALS refusals. */
    const markFailed = (failures: ReadonlyArray<{ readonly id: number; readonly error: string; readonly refused: boolean }>) =>
      sql<{ id: number; key: string; clientId: number; amount: string; type: string; refusals: number; dead: boolean; nextAttemptAt: Date }>`
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
        RETURNING o.id, o.request_key::text AS key, o.client_id AS "clientId", o.amount::text AS amount, o.type,
                  o.refusals, o.failed_at IS NOT NULL AS dead, o.next_attempt_at AS "nextAttemptAt"
      `

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
              now + Duration.toMillis(timeout) <= deadline ? post(row) : Effect.succeed<Outcome>({ _tag: "Skipped" })),
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
      const [left] = yield* sql<{ pending: number }>`
        SELECT count(*)::int AS pending FROM pronto_notify.bonus_outbox WHERE delivered_at IS NULL AND failed_at IS NULL
      `
      return { delivered, failed, deadLettered, pending: left!.pending } satisfies DeliveryReport
    }).pipe(semaphore.withPermits(1), outsideTransaction)

    const balance = (clientId: number, at: DateTime.Utc) =>
      call("balance", client.bonus.balance({ urlParams: { clientId, at } })).pipe(Effect.map((r) => r.balance))

    const spend = (clientId: number, amount: number, at: DateTime.Utc) =>
      bounded("spend", client.bonus.spend({ payload: { clientId, amount, at } })).pipe(
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
 * The BonusServer over HTTP, with its outbox (needs the library's SqlClient). Unless
 * `deliver: false`, delivers due accruals every `deliveryInterval` while the layer lives (left
 * over from a crash too), and once more as it is released.
 */
export const layer = (options: Options): Layer.Layer<BonusServer | BonusOutbox, never, SqlClient.SqlClient> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const { interval, outbox, server, timeout } = yield* make(options)
      if (options.deliver ?? true) {
        const logged = outbox.flush.pipe(
          Effect.catchAllCause((cause) => Effect.logError("bonus outbox delivery failed; will retry", cause))
        )
        // Released last: a final delivery, so that a short-lived process leaves nothing behind
        // when the bonus server is up. Bounded: rows it does not reach wait for the next process.
        yield* Effect.addFinalizer(() =>
          Effect.interruptible(logged).pipe(Effect.timeout(Duration.times(timeout, 3)), Effect.ignore)
        )
        yield* Effect.forkScoped(Effect.forever(Effect.delay(logged, interval)))
      }
      return Context.make(BonusServer, server).pipe(Context.add(BonusOutbox, outbox))
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
