/**
 * A BonusServer over the bonus server's HTTP API (`BonusApi`), for a host whose bonus server runs
 * apart from the library's database.
 *
 * Reads (balance, first accruals) and spending go to the server directly. `accrue` checks the
 * accrual as the server would and queues it in the outbox (`Outbox.ts`) on the caller's
 * connection, so that it commits or rolls back with the notification (C10); it answers
 * `request:<key>`. This module posts the queued rows, with the row's key as `Idempotency-Key`, in
 * the background (every few seconds, and once more when the layer is released) until the bonus
 * server has them. A 4xx other than 408/429 is a refusal (the server will refuse the same request
 * again, so the row becomes a dead letter after MAX_REFUSALS of them); transport failures,
 * timeouts and 5xx are retried for as long as it takes. Every call is bounded in time.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
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
  Redacted,
  Schedule,
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
} from "../api/Api.ts"
import { type Accrual, BonusServer, BonusServerError, InsufficientBalance } from "../BonusServer.ts"
import { bonusServerUrlSetting } from "../../config/Deployment.ts"
import * as HttpUrl from "../../config/HttpUrl.ts"
import type { ClientId } from "../../store/Ids.ts"
import { BonusOutbox, make as makeOutbox, type OutboxRow, type Posted } from "./Outbox.ts"

export interface Options {
  /** The bonus server's base URL; the API lives under `/bonus`. No user or password in it: give `token`. */
  readonly baseUrl: string
  /** The bearer token every request carries, the outbox's retries too (`Authorization: Bearer …`). */
  readonly token?: Redacted.Redacted<string>
  /**
   * Changes every request's client, after the token is set: a host's own credentials (a signed
   * header, mTLS through its own HttpClient), tracing. Default: none.
   */
  readonly transformClient?: (client: HttpClient.HttpClient) => HttpClient.HttpClient
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

/** The BonusServer over HTTP and its outbox, with what the layer needs to deliver in the background. */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const baseUrl = yield* checkedBaseUrl(options.baseUrl)
    const token = options.token
    const credentials = (client: HttpClient.HttpClient) =>
      token === undefined ? client : HttpClient.mapRequest(client, HttpClientRequest.bearerToken(Redacted.value(token)))
    const client = yield* HttpApiClient.make(BonusApi, {
      baseUrl,
      transformClient: (client) =>
        // An error answer that is not JSON (a proxy's page, a plain-text 503) is none of BonusApi's
        // errors: report its status rather than a failure to parse it, and classify it by that status.
        HttpClient.filterOrFail(
          (options.transformClient ?? ((c) => c))(credentials(client)),
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

    /** Posts one queued row with its key as `Idempotency-Key`; every failure becomes an outcome. */
    const post = (row: OutboxRow): Effect.Effect<Posted> => {
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
          onSuccess: ({ operationId }): Posted => ({ _tag: "Delivered", operationId }),
          onFailure: (error): Posted => ({
            _tag: "Failed",
            error: failed("accrue")(error).reason,
            refused: isRefusal(error)
          })
        })
      )
    }

    const queue = yield* makeOutbox({ post, postTimeout: timeout })

    /** Checked, then queued in the caller's transaction. */
    const accrue = (accrual: Accrual) =>
      Effect.zipRight(
        check(accrual),
        queue.enqueue(accrual).pipe(
          Effect.mapError((error) => new BonusServerError({ operation: "accrue", reason: error.message }))
        )
      )

    const balance = (clientId: ClientId, at: DateTime.Utc) =>
      call("balance", client.bonus.balance({ urlParams: { clientId, at } })).pipe(Effect.map((r) => r.balance))

    const spend = (clientId: ClientId, amount: number, at: DateTime.Utc) =>
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
      outbox: BonusOutbox.of({ flush: queue.flush }),
      interval: options.deliveryInterval ?? Duration.seconds(5),
      timeout
    }
  })

/** The base URL, refused when it is not http(s) or carries a user or password; the message names neither. */
const checkedBaseUrl = (url: string): Effect.Effect<string, BonusServerError> =>
  Option.match(HttpUrl.problem(url, bonusServerUrlSetting("BonusServerHttp's baseUrl")), {
    onNone: () => Effect.succeed(url),
    onSome: (reason) => Effect.fail(new BonusServerError({ operation: "configure", reason }))
  })

const left = "accruals it did not post stay in pronto_notify.bonus_outbox for the next delivering process"

/**
 * The last delivery, as the layer is released: bounded in time, and said in the log when it does
 * not finish, since no pass of this process will come after it.
 */
const finalFlush = (outbox: BonusOutbox["Type"], within: Duration.Duration) =>
  Effect.interruptible(outbox.flush).pipe(
    Effect.timeoutOption(within),
    Effect.flatMap(Option.match({
      onNone: () =>
        Effect.logWarning(`the final bonus outbox delivery did not finish within ${Duration.format(within)}; ${left}`),
      onSome: () => Effect.void
    })),
    Effect.catchAllCause((cause) => Effect.logWarning(`the final bonus outbox delivery failed; ${left}`, cause))
  )

/**
 * The BonusServer over HTTP, with its outbox (needs the library's SqlClient). Unless
 * `deliver: false`, delivers due accruals every `deliveryInterval` while the layer lives (left
 * over from a crash too), and once more as it is released (a warning if that does not finish).
 */
export const layer = (options: Options): Layer.Layer<BonusServer | BonusOutbox, BonusServerError, SqlClient.SqlClient> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const { interval, outbox, server, timeout } = yield* make(options)
      if (options.deliver ?? true) {
        const logged = outbox.flush.pipe(
          Effect.catchAllCause((cause) => Effect.logError("bonus outbox delivery failed; will retry", cause))
        )
        // Released last: a final delivery, so that a short-lived process leaves nothing behind
        // when the bonus server is up. Bounded: rows it does not reach wait for the next process.
        yield* Effect.addFinalizer(() => finalFlush(outbox, Duration.times(timeout, 3)))
        yield* Effect.forkScoped(Effect.schedule(logged, Schedule.spaced(interval)))
      }
      return Context.make(BonusServer, server).pipe(Context.add(BonusOutbox, outbox))
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
