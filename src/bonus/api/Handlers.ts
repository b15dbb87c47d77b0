/**
 * The bonus server's side of `BonusApi`: the handlers over whatever BonusServer the host provides
 * (the reference one is `BonusLedger`), idempotency keys kept in SQL, and the middleware that
 * answers an undecodable request with a one-line 400. Mount `layer` in any HttpServer;
 * `NodeServer.ts` does so with Node's.
 */
import { HttpApi, HttpApiBuilder, HttpApiError, type HttpApiGroup, HttpServerError } from "@effect/platform"
import * as SqlClient from "@effect/sql/SqlClient"
import { Cause, DateTime, Effect, Layer, Option } from "effect"
import { type Accrual, BonusServer, BonusServerError, type OperationId } from "../BonusServer.ts"
import { BonusApi, type BonusGroup, describeIssues, expiryProblem, InvalidRequest } from "./Api.ts"
import { type BonusAuth, requireWrite } from "./Access.ts"
import * as Idempotency from "./Idempotency.ts"

/**
 * Answers every request the framework could not decode (a schema mismatch, a body that is not
 * JSON) as an InvalidRequest with a one-line message, instead of a tree or a 500.
 */
const invalidRequests = HttpApiBuilder.middleware(BonusApi, (app) =>
  Effect.catchAllCause(app, (cause) => {
    // The app's type says it cannot fail; the router's decoding failures are there all the same.
    const failure = Cause.failureOption<unknown>(cause)
    if (Option.isSome(failure) && failure.value instanceof HttpApiError.HttpApiDecodeError) {
      return Effect.fail(new InvalidRequest({ message: describeIssues(failure.value.issues) }))
    }
    const defect = Cause.dieOption(cause)
    if (
      Option.isSome(defect) && HttpServerError.isServerError(defect.value) && defect.value._tag === "RequestError" &&
      defect.value.reason === "Decode"
    ) {
      return Effect.fail(new InvalidRequest({ message: "the request body is not valid JSON" }))
    }
    return Effect.failCause(cause)
  }))

const isoOf = (at: DateTime.Utc) => DateTime.formatIso(at)

/** The handlers of `BonusGroup`, over whatever BonusServer the host provides; SQL only for idempotency keys. */
const build = (
  handlers: HttpApiBuilder.Handlers.FromGroup<InvalidRequest | HttpApiError.HttpApiDecodeError, never, typeof BonusGroup>
) =>
  Effect.gen(function*() {
    const bonus = yield* BonusServer
    const sql = yield* SqlClient.SqlClient

    const once = Idempotency.accrueOnce(sql)

    /** With an Idempotency-Key, the accrual is made once per key (see `Idempotency.ts`). */
    const accrueOnce = (key: string | undefined, request: Record<string, unknown>, accrual: Accrual) =>
      key === undefined
        ? bonus.accrue(accrual)
        : once(key, request, bonus.accrue(accrual)).pipe(
          Effect.catchTags({
            KeyReused: () =>
              Effect.fail(
                new InvalidRequest({
                  message: `Idempotency-Key "${key}" was already used for a different accrual; use a new key`
                })
              ),
            SqlError: (error) => Effect.fail(new BonusServerError({ operation: "accrue", reason: error.message }))
          })
        )

    const nowOr = (at: DateTime.Utc | undefined) => (at === undefined ? DateTime.now : Effect.succeed(at))

    const answer = (operationId: OperationId) => ({ operationId })

    return handlers
      .handle("accruePermanent", ({ headers, payload }) =>
        Effect.gen(function*() {
          yield* requireWrite
          const at = yield* nowOr(payload.at)
          const request = {
            type: "permanent",
            clientId: payload.clientId,
            amount: payload.amount,
            reason: payload.reason,
            at: payload.at === undefined ? null : isoOf(payload.at),
            orderUid: payload.orderUid ?? null
          }
          return answer(
            yield* accrueOnce(headers["idempotency-key"], request, {
              type: "permanent",
              clientId: payload.clientId,
              amount: payload.amount,
              reason: payload.reason,
              at,
              ...(payload.orderUid === undefined ? {} : { orderUid: payload.orderUid })
            })
          )
        }))
      .handle("accrueTemporary", ({ headers, payload }) =>
        Effect.gen(function*() {
          yield* requireWrite
          const at = yield* nowOr(payload.at)
          const badExpiry = expiryProblem(at, payload.expiresAt)
          if (badExpiry !== undefined) return yield* new InvalidRequest({ message: badExpiry })
          const request = {
            type: "temporary",
            clientId: payload.clientId,
            amount: payload.amount,
            reason: payload.reason,
            at: payload.at === undefined ? null : isoOf(payload.at),
            expiresAt: isoOf(payload.expiresAt)
          }
          return answer(
            yield* accrueOnce(headers["idempotency-key"], request, {
              type: "temporary",
              clientId: payload.clientId,
              amount: payload.amount,
              reason: payload.reason,
              at,
              expiresAt: payload.expiresAt
            })
          )
        }))
      .handle("balance", ({ urlParams }) =>
        Effect.gen(function*() {
          const at = yield* nowOr(urlParams.at)
          return { clientId: urlParams.clientId, at, balance: yield* bonus.balance(urlParams.clientId, at) }
        }))
      .handle("firstAccrual", ({ urlParams }) =>
        Effect.gen(function*() {
          const until = yield* nowOr(urlParams.until)
          if (DateTime.lessThan(until, urlParams.after)) {
            return yield* new InvalidRequest({
              message: `until (${isoOf(until)}) must not be before after (${isoOf(urlParams.after)})`
            })
          }
          const [found] = yield* bonus.firstAccruals([{
            clientId: urlParams.clientId,
            reason: urlParams.reason,
            after: urlParams.after,
            until
          }])
          return { accrual: Option.getOrNull(found ?? Option.none()) }
        }))
      .handle("firstAccruals", ({ payload }) =>
        Effect.gen(function*() {
          const reversed = payload.lookups.findIndex((l) => DateTime.lessThan(l.until, l.after))
          if (reversed >= 0) {
            const l = payload.lookups[reversed]!
            return yield* new InvalidRequest({
              message: `lookups[${reversed}]: until (${isoOf(l.until)}) must not be before after (${isoOf(l.after)})`
            })
          }
          const found = yield* bonus.firstAccruals(payload.lookups)
          return { accruals: found.map(Option.getOrNull) }
        }))
      .handle("spend", ({ payload }) =>
        Effect.zipRight(requireWrite, Effect.flatMap(nowOr(payload.at), (at) => bonus.spend(payload.clientId, payload.amount, at))))
  })

/**
 * The handlers for any HttpApi that holds `BonusGroup`: the host's own API, say, beside its own
 * groups (`HttpApi.make("jupiter").add(HostGroup).add(BonusApi.BonusGroup)`), with no cast.
 */
export const handlersFor = <Api extends HttpApi.HttpApi.Any>(
  api: Api & (typeof BonusGroup extends GroupsOf<Api> ? unknown : "the API must hold BonusApi.BonusGroup")
): Layer.Layer<HttpApiGroup.ApiGroup<IdOf<Api>, "bonus">, never, BonusServer | SqlClient.SqlClient | BonusAuth> =>
  // The group's routes are the same whichever API holds it; only the API's name in the type differs.
  HttpApiBuilder.group(api as unknown as typeof BonusApi, "bonus", build) as unknown as Layer.Layer<
    HttpApiGroup.ApiGroup<IdOf<Api>, "bonus">,
    never,
    BonusServer | SqlClient.SqlClient | BonusAuth
  >

type IdOf<Api> = Api extends HttpApi.HttpApi<infer Id, infer _Groups, infer _E, infer _R> ? Id : never
type GroupsOf<Api> = Api extends HttpApi.HttpApi<infer _Id, infer Groups, infer _E, infer _R> ? Groups : never

/** The handlers of the library's own `BonusApi`. */
export const handlers = handlersFor(BonusApi)

/** The API with its handlers, for `HttpApiBuilder.serve()`: needs the ledger, SQL and the callers' check (`BonusAuth`). */
export const layer: Layer.Layer<HttpApi.Api, never, BonusServer | SqlClient.SqlClient | BonusAuth> = Layer.merge(
  HttpApiBuilder.api(BonusApi).pipe(Layer.provide(handlers)),
  invalidRequests
)
