/**
 * The bonus server's HTTP services (SPEC: "the bonus server gets a new service"; accrual requests
 * get `reason`), declared as an `@effect/platform` HttpApi: the schemas and endpoints that a
 * client and a server both need. The handlers are in `Handlers.ts`, a Node server in
 * `NodeServer.ts`; nothing here serves.
 *
 *   POST /bonus/accruals/permanent  {clientId, amount, reason?, at?, orderUid?}    -> {operationId}
 *   POST /bonus/accruals/temporary  {clientId, amount, reason?, at?, expiresAt}    -> {operationId}
 *   GET  /bonus/balance?clientId=&at=                                              -> {clientId, at, balance}
 *   GET  /bonus/first-accrual?clientId=&reason=&after=&until=                      -> {accrual: {operationId, at, amount} | null}
 *   POST /bonus/first-accruals      {lookups: [{clientId, reason, after, until}]}  -> {accruals: [... | null]}
 *   POST /bonus/spendings           {clientId, amount, at?}                        -> 204
 *
 * Instants are ISO-8601 with an offset; `at` defaults to the server's now. An accrual's reason
 * is never validated nor refused (SPEC): a string is stored exactly as given; absent or `null` is
 * stored as NULL (a client that does not send it yet keeps working); any other JSON value is
 * stored as its text (`5` as "5", `true` as "true", an object or array as its JSON). An
 * `orderUid` changes nothing about the reason: a review bonus that names the order it reviews is
 * stored as `feedback`, and the host's order accruals send `order` themselves. An accrual with an
 * `Idempotency-Key` header is made once per key: a retry returns the first answer (the library's
 * HTTP client always sends one).
 *
 * Every endpoint requires a caller's bearer token (`Access.ts`): 401 without a known one, 403 for
 * a caller who may only read and writes (accrues, spends).
 *
 * A malformed request gets 400 `{"_tag":"InvalidRequest","message":...}` saying what is wrong,
 * and nothing is written.
 */
import { HttpApi, HttpApiEndpoint, HttpApiError, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { DateTime, Option, ParseResult, Schema } from "effect"
import { isValidAmount, MAX_AMOUNT } from "../BonusLedger.ts"
import { BonusServerError, InsufficientBalance } from "../BonusServer.ts"
import { BonusAuth } from "./Access.ts"
import { parseIsoInstant } from "../../time/Instant.ts"

/** The most look-ups one batch request may carry. */
export const MAX_LOOKUPS = 10_000
/** The largest amount the ledger's numeric(12,2) holds. */
export { MAX_AMOUNT }

/** A request the server cannot act on; the message says what to fix. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

// ---------------------------------------------------------------------------------------------
// Request fields. Each says, in its own words, what it needs and what it got: these messages are
// what a caller sees in the 400.

const show = (actual: unknown) => {
  if (actual === undefined) return "nothing"
  try {
    return JSON.stringify(actual) ?? String(actual)
  } catch {
    return String(actual)
  }
}

const explained = (field: string, need: string) => ({
  message: (issue: ParseResult.ParseIssue) => ({
    message: `${field} must be ${need}, got ${show(issue.actual)}`,
    override: true
  })
})

const missing = (field: string, what: string) => ({ missingMessage: () => `${field} is missing: give ${what}` })

/** The written date and time exist: JavaScript would quietly read 30 February as 2 March. */
const isRealInstant = (text: string) => Option.isSome(parseIsoInstant(text))

/** An ISO-8601 instant with an offset (`Z` or `+03:00`): a bare local time would be ambiguous. */
const instant = (field: string) =>
  Schema.compose(Schema.String.pipe(Schema.filter(isRealInstant)), Schema.DateTimeUtc).annotations(
    explained(field, "an ISO-8601 instant with an offset, e.g. 2026-03-10T08:00:00Z")
  )

// A string of digits is accepted too (docs/host.md), but the short need reads the same to every caller.
const clientIdNeed = "a positive whole number (the client's id)"
/** The largest id a bigint column holds. */
const MAX_ID = 9223372036854775807n
const digits = Schema.String.pipe(Schema.pattern(/^[1-9][0-9]{0,18}$/), Schema.filter((s) => BigInt(s) <= MAX_ID))
/**
 * A client id, exact: the host's ids are bigint, so a JSON number past 2^53 would arrive rounded.
 * A string of digits is taken as it is; a number only while it is exact. Always the digits.
 */
const clientId = Schema.transform(
  Schema.Union(digits, Schema.Number.pipe(Schema.int(), Schema.between(1, Number.MAX_SAFE_INTEGER))),
  Schema.String,
  { strict: true, decode: (id) => String(id), encode: (id) => id }
).annotations(explained("clientId", clientIdNeed))
const clientIdParam = digits.annotations(explained("clientId", clientIdNeed))

/** The ledger's own check, so that the API and the ledger accept exactly the same amounts. */
const amount = Schema.Number.pipe(Schema.filter(isValidAmount)).annotations(
  explained("amount", `a positive number of bonuses with at most two decimals, up to ${MAX_AMOUNT}`)
)

/** A look-up's reason: any string, compared exactly. */
const reason = Schema.String.annotations(explained("reason", "a string (any text)"))

/**
 * An accrual's reason: never refused (SPEC). A string as given; nothing or `null` is no reason;
 * any other JSON value its text.
 */
const accrualReason = Schema.transform(Schema.Unknown, Schema.NullOr(Schema.String), {
  strict: true,
  decode: (value) =>
    value === null || value === undefined
      ? null
      : typeof value === "string"
      ? value
      : typeof value === "object"
      ? JSON.stringify(value)
      : String(value),
  encode: (reason) => reason
})

const orderUid = Schema.UUID.annotations(explained("orderUid", "a UUID"))

const required = <S extends Schema.Schema.Any>(field: string, what: string, schema: S) =>
  Schema.propertySignature(schema).annotations(missing(field, what))

const ClientIdField = required("clientId", "the client's id", clientId)
const AmountField = required("amount", "the number of bonuses", amount)
const ReasonField = required("reason", "the reason to look for (any text)", reason)
const AccrualReasonField = Schema.optionalWith(accrualReason, { exact: true, default: () => null })

export const PermanentAccrualRequest = Schema.Struct({
  clientId: ClientIdField,
  amount: AmountField,
  reason: AccrualReasonField,
  at: Schema.optionalWith(instant("at"), { exact: true }),
  orderUid: Schema.optionalWith(orderUid, { exact: true })
}).annotations({ identifier: "PermanentAccrualRequest" })

export const TemporaryAccrualRequest = Schema.Struct({
  clientId: ClientIdField,
  amount: AmountField,
  reason: AccrualReasonField,
  at: Schema.optionalWith(instant("at"), { exact: true }),
  expiresAt: required("expiresAt", "when the temporary bonuses expire", instant("expiresAt"))
}).annotations({ identifier: "TemporaryAccrualRequest" })

export const AccrualResponse = Schema.Struct({ operationId: Schema.String })

const IdempotencyHeaders = Schema.Struct({
  "idempotency-key": Schema.optionalWith(
    Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)).annotations(
      explained("the Idempotency-Key header", "1 to 200 characters")
    ),
    { exact: true }
  )
})

export const BalanceParams = Schema.Struct({
  clientId: required("clientId", "the client's id", clientIdParam),
  at: Schema.optionalWith(instant("at"), { exact: true })
})

export const BalanceResponse = Schema.Struct({ clientId: Schema.String, at: Schema.DateTimeUtc, balance: Schema.Number })

export const FoundAccrual = Schema.Struct({
  operationId: Schema.String,
  at: Schema.DateTimeUtc,
  amount: Schema.Number
}).annotations({ identifier: "FoundAccrual" })

export const FirstAccrualParams = Schema.Struct({
  clientId: required("clientId", "the client's id", clientIdParam),
  reason: ReasonField,
  after: required("after", "the instant after which to look (exclusive)", instant("after")),
  until: Schema.optionalWith(instant("until"), { exact: true })
})

export const FirstAccrualResponse = Schema.Struct({ accrual: Schema.NullOr(FoundAccrual) })

export const Lookup = Schema.Struct({
  clientId: ClientIdField,
  reason: ReasonField,
  after: required("after", "the instant after which to look (exclusive)", instant("after")),
  until: required("until", "the last instant to look at (inclusive)", instant("until"))
})

export const FirstAccrualsRequest = Schema.Struct({
  lookups: required(
    "lookups",
    "an array of {clientId, reason, after, until}",
    Schema.Array(Lookup).annotations({
      message: () => ({ message: "lookups must be an array of {clientId, reason, after, until}", override: false })
    }).pipe(Schema.maxItems(MAX_LOOKUPS)).annotations({
      // For a failure inside an element, that element's own message is kept.
      message: () => ({ message: `lookups may hold at most ${MAX_LOOKUPS} look-ups per request`, override: false })
    })
  )
})

export const FirstAccrualsResponse = Schema.Struct({ accruals: Schema.Array(Schema.NullOr(FoundAccrual)) })

export const SpendRequest = Schema.Struct({
  clientId: ClientIdField,
  amount: AmountField,
  at: Schema.optionalWith(instant("at"), { exact: true })
})

// ---------------------------------------------------------------------------------------------
// The API.

export class BonusGroup extends HttpApiGroup.make("bonus")
  .add(
    HttpApiEndpoint.post("accruePermanent", "/accruals/permanent")
      .setPayload(PermanentAccrualRequest)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(AccrualResponse)
  )
  .add(
    HttpApiEndpoint.post("accrueTemporary", "/accruals/temporary")
      .setPayload(TemporaryAccrualRequest)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(AccrualResponse)
  )
  .add(HttpApiEndpoint.get("balance", "/balance").setUrlParams(BalanceParams).addSuccess(BalanceResponse))
  .add(
    HttpApiEndpoint.get("firstAccrual", "/first-accrual").setUrlParams(FirstAccrualParams).addSuccess(
      FirstAccrualResponse
    )
  )
  .add(
    HttpApiEndpoint.post("firstAccruals", "/first-accruals").setPayload(FirstAccrualsRequest).addSuccess(
      FirstAccrualsResponse
    )
  )
  .add(
    HttpApiEndpoint.post("spend", "/spendings")
      .setPayload(SpendRequest)
      .addSuccess(Schema.Void, { status: 204 })
      .addError(InsufficientBalance, { status: 409 })
  )
  .addError(BonusServerError, { status: 500 })
  // On the group, so that an API that adds the group (a host's own) answers it as 400 too.
  .addError(InvalidRequest)
  // Every endpoint needs a caller (401 without one); a reader who writes gets 403 (api/Access).
  .middleware(BonusAuth)
  .addError(HttpApiError.Forbidden)
  .prefix("/bonus")
{}

/** The API alone; its own error too, for the middleware that answers undecodable requests (api/Handlers). */
export class BonusApi extends HttpApi.make("pronto-bonus").add(BonusGroup).addError(InvalidRequest) {}

// ---------------------------------------------------------------------------------------------
// Checks that both sides make: the server to answer 400, the client before it queues an accrual.

const pathText = (path: ReadonlyArray<PropertyKey>) =>
  path.map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`)).join("").replace(/^\./, "")

/** The issues of a failed decoding, one line: each message names its field; nested ones get a path. */
export const describeIssues = (issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }>) =>
  issues
    .map((issue) => (issue.path.length > 1 ? `${pathText(issue.path.slice(0, -1))}: ${issue.message}` : issue.message))
    .join("; ")

/** What is wrong with a temporary accrual's expiry, if anything. */
export const expiryProblem = (at: DateTime.Utc, expiresAt: DateTime.Utc): string | undefined =>
  DateTime.lessThanOrEqualTo(expiresAt, at)
    ? `expiresAt (${DateTime.formatIso(expiresAt)}) must be after the accrual's instant (${DateTime.formatIso(at)})`
    : undefined
