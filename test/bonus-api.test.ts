import { expect, layer } from "@effect/vitest"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Either, Fiber, Layer, Logger, Option, Stream, TestClock, TestServices } from "effect"
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http"
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net"
import * as BonusApi from "../src/bonus/BonusApi.ts"
import * as BonusLedger from "../src/bonus/BonusLedger.ts"
import { BonusServer, BonusServerError, InsufficientBalance } from "../src/bonus/BonusServer.ts"
import * as BonusServerHttp from "../src/bonus/BonusServerHttp.ts"
import * as BonusTokens from "./support/BonusTokens.ts"
import * as Run from "../src/engine/Run.ts"
import * as Kind from "../src/kinds/Kind.ts"
import { ActionFailed, ReactionRule } from "../src/kinds/Kind.ts"
import { Invite } from "../src/kinds/invite/Invite.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import { RecordingSender, SendFailed, SendInDoubt } from "../src/delivery/Sender.ts"
import { insertClient, instant } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const AT = "2026-03-10T09:00:00.000Z"
const DAY = 86_400_000
const plus = (ms: number, iso = AT) => new Date(Date.parse(iso) + ms).toISOString()
/** The served API's clock (the test layer's TestClock), for requests that leave out an instant. */
const SERVER_NOW = "2026-03-20T12:00:00.000Z"

const fresh = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* truncateAll
  yield* sql`TRUNCATE pronto_notify.bonus_outbox, pronto_notify.bonus_requests RESTART IDENTITY`
})

interface Answer {
  readonly status: number
  readonly body: any
}

/** A raw request to the served API, the way any host client would make it. */
const call = (
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  token: string | undefined = BonusTokens.WRITER
) =>
  Effect.gen(function*() {
    const base = yield* BonusApi.baseUrl
    const client = yield* HttpClient.HttpClient
    let request = method === "GET" ? HttpClientRequest.get(`${base}${path}`) : HttpClientRequest.post(`${base}${path}`)
    if (token !== undefined) request = HttpClientRequest.bearerToken(request, token)
    request = HttpClientRequest.setHeaders(request, headers)
    if (body !== undefined) {
      request = typeof body === "string"
        ? HttpClientRequest.bodyText(request, body, "application/json")
        : HttpClientRequest.bodyUnsafeJson(request, body)
    }
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, body: text === "" ? null : JSON.parse(text) } as Answer
  })

const post = (path: string, body: unknown, headers?: Record<string, string>) => call("POST", path, body, headers)
const get = (path: string) => call("GET", path)

/** Ids read back as text (`::text`), so they are exact whatever the driver's int8 parser. */
interface BonusRow {
  readonly id: string
  readonly clientId: string
  readonly amount: string
  readonly reason: string | null
  readonly createdAt: string
  readonly expiresAt?: string
  readonly orderUid?: string | null
}

const rows = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const iso = (d: Date) => d.toISOString()
  // Ordered by the qualified bigint column, not the text alias ('10' < '9').
  const permanent = yield* sql<{ id: string; clientId: string; amount: string; reason: string | null; createdAt: Date; orderUid: string | null }>`
    SELECT id::text AS id, client_id::text AS "clientId", amount::text AS amount, reason, created_at AS "createdAt",
           order_uid::text AS "orderUid"
    FROM jupiter.bonus_permanent ORDER BY bonus_permanent.id
  `
  const temporary = yield* sql<{ id: string; clientId: string; amount: string; reason: string | null; createdAt: Date; expiresAt: Date }>`
    SELECT id::text AS id, client_id::text AS "clientId", amount::text AS amount, reason, created_at AS "createdAt",
           expires_at AS "expiresAt"
    FROM jupiter.bonus_temporary ORDER BY bonus_temporary.id
  `
  const [requests] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pronto_notify.bonus_requests`
  return {
    permanent: permanent.map((r): BonusRow => ({ ...r, createdAt: iso(r.createdAt) })),
    temporary: temporary.map((r): BonusRow => ({ ...r, createdAt: iso(r.createdAt), expiresAt: iso(r.expiresAt) })),
    requests: requests!.n
  }
})

const nothingWritten = { permanent: [], temporary: [], requests: 0 }

/** The HTTP BonusServer against the served API; its outbox in the same test database. */
const httpBonusServer = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(BonusApi.baseUrl, (baseUrl) => Effect.provide(effect, BonusServerHttp.layer({ baseUrl, token: BonusTokens.writer })))

const flush = Effect.flatMap(BonusServerHttp.BonusOutbox, (outbox) => outbox.flush)

const outboxReasons = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ reason: string | null }>`SELECT reason FROM pronto_notify.bonus_outbox ORDER BY id`, (r) =>
    r.map((row) => row.reason)))

const outboxRows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ key: string; attempts: number; lastError: string | null; delivered: boolean; operationId: string | null }>`
    SELECT request_key::text AS key, attempts, last_error AS "lastError", delivered_at IS NOT NULL AS delivered,
           operation_id AS "operationId"
    FROM pronto_notify.bonus_outbox ORDER BY id
  `)

/** The database's clock moves past every row's backoff (leases and backoff are on its clock). */
const backoffOver = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`UPDATE pronto_notify.bonus_outbox SET next_attempt_at = now() - interval '1 millisecond'`)

/** The HTTP BonusServer with options, against any address. */
const httpBonusServerWith = (options: BonusServerHttp.Options) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, BonusServerHttp.layer(options))

/** Real milliseconds pass (the TestClock does not move): for another fiber's or process's I/O. */
const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/** Waits (real time, at most ~5 s) until `condition` holds. */
const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (yield* condition) return
      yield* realSleep(10)
    }
    throw new Error("the condition never held")
  })

/** A plain HTTP server on 127.0.0.1 that answers as `handle` says: a stand-in for a bonus server. */
const rawServer = (handle: (request: IncomingMessage, body: string, response: ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.async<ReturnType<typeof createHttpServer>>((resume) => {
      const server = createHttpServer((request, response) => {
        let body = ""
        request.on("data", (chunk) => (body += chunk))
        request.on("end", () => handle(request, body, response))
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))

/** Logs written while `effect` runs. */
const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const logs: Array<{ level: string; message: string }> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push({ level: logLevel.label, message: (Array.isArray(message) ? message : [message]).map(String).join(" ") })
    })
    const result = yield* Effect.provide(effect, Logger.add(logger))
    return { result, logs }
  })

interface DeliveryState {
  readonly attempts: number
  readonly refusals: number
  readonly dead: boolean
  readonly delivered: boolean
  readonly claimed: boolean
  /** Seconds until the next attempt, on the database's clock. */
  readonly wait: number
  readonly lastError: string | null
}

const deliveryState = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<DeliveryState>`
    SELECT attempts, refusals, failed_at IS NOT NULL AS dead, delivered_at IS NOT NULL AS delivered,
           coalesce(claimed_until > now(), false) AS claimed,
           extract(epoch FROM next_attempt_at - now())::float8 AS wait, last_error AS "lastError"
    FROM pronto_notify.bonus_outbox ORDER BY id
  `)

const testLayer = BonusApi.serve().pipe(
  Layer.provide(BonusLedger.layer),
  Layer.provide(BonusTokens.layer),
  Layer.provideMerge(Layer.merge(Harness.layer, FetchHttpClient.layer)),
  Layer.merge(Layer.effectDiscard(TestClock.setTime(Date.parse(SERVER_NOW))))
)

layer(testLayer, { timeout: "120 seconds" })("bonus server HTTP API", (it) => {
  it.effect("accrues permanent and temporary bonuses and stores the reason exactly as given", () =>
    Effect.gen(function*() {
      yield* fresh
      const reasons = ["feedback", "", "  spaces  ", "Отзыв 🎉", "x'); DROP TABLE jupiter.bonus_permanent; --", "r".repeat(2000)]
      const ids: Array<string> = []
      for (const [i, reason] of reasons.entries()) {
        const answer = yield* post("/bonus/accruals/permanent", { clientId: 10 + i, amount: 50.25, reason, at: AT })
        expect(answer.status).toBe(200)
        ids.push(answer.body.operationId)
      }
      const order = "6f1c2a4e-1d7b-4c36-9a51-0e5f0b3f9c11"
      const forOrder = yield* post("/bonus/accruals/permanent", {
        clientId: 1,
        amount: 300,
        reason: "order",
        at: "2026-03-10T12:00:00+03:00",
        orderUid: order
      })
      const temporary = yield* post("/bonus/accruals/temporary", {
        clientId: 2,
        amount: 100,
        reason: "invite",
        at: AT,
        expiresAt: plus(14 * DAY)
      })
      expect(temporary).toEqual({ status: 200, body: { operationId: expect.stringMatching(/^temporary:\d+$/) } })

      const stored = yield* rows
      expect(stored.permanent.map((r) => `permanent:${r.id}`)).toEqual([...ids, forOrder.body.operationId])
      expect(stored.permanent.map((r) => r.reason)).toEqual([...reasons, "order"])
      expect(stored.permanent[0]).toEqual({
        id: "1",
        clientId: "10",
        amount: "50.25",
        reason: "feedback",
        createdAt: AT,
        orderUid: null
      })
      expect(stored.permanent.at(-1)).toMatchObject({ clientId: "1", amount: "300.00", createdAt: AT, orderUid: order })
      expect(stored.temporary).toEqual([{
        id: "1",
        clientId: "2",
        amount: "100.00",
        reason: "invite",
        createdAt: AT,
        expiresAt: plus(14 * DAY)
      }])
    }))

  it.effect("an accrual without `at` is made at the server's now, and its expiry is checked against that now", () =>
    Effect.gen(function*() {
      yield* fresh
      const answer = yield* post("/bonus/accruals/temporary", { clientId: 1, amount: 5, reason: "x", expiresAt: plus(DAY, SERVER_NOW) })
      expect(answer.status).toBe(200)
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 7, reason: "y" })
      expect((yield* rows).temporary[0]).toMatchObject({ createdAt: SERVER_NOW, expiresAt: plus(DAY, SERVER_NOW) })
      expect((yield* rows).permanent[0]).toMatchObject({ createdAt: SERVER_NOW, amount: "7.00" })
      const stale = yield* post("/bonus/accruals/temporary", { clientId: 1, amount: 5, reason: "x", expiresAt: SERVER_NOW })
      expect(stale).toEqual({
        status: 400,
        body: { _tag: "InvalidRequest", message: `expiresAt (${SERVER_NOW}) must be after the accrual's instant (${SERVER_NOW})` }
      })
      expect((yield* rows).temporary).toHaveLength(1)
    }))

  it.effect("reads the balance at an instant: permanent plus unexpired temporary bonuses", () =>
    Effect.gen(function*() {
      yield* fresh
      yield* post("/bonus/accruals/permanent", { clientId: 7, amount: 30, reason: "order", at: AT })
      yield* post("/bonus/accruals/temporary", { clientId: 7, amount: 100, reason: "invite", at: plus(DAY), expiresAt: plus(15 * DAY) })
      yield* post("/bonus/accruals/permanent", { clientId: 8, amount: 999, reason: "order", at: AT })

      const at = (iso: string) => get(`/bonus/balance?clientId=7&at=${encodeURIComponent(iso)}`)
      expect(yield* at(plus(-1))).toEqual({ status: 200, body: { clientId: "7", at: plus(-1), balance: 0 } })
      expect((yield* at(AT)).body.balance).toBe(30)
      expect((yield* at(plus(2 * DAY))).body.balance).toBe(130)
      expect((yield* at(plus(15 * DAY))).body.balance).toBe(30)
      expect((yield* at("2026-03-12T12:00:00+03:00")).body).toEqual({ clientId: "7", at: "2026-03-12T09:00:00.000Z", balance: 130 })
    }))

  it.effect("finds a client's first accrual with a reason after an instant (exclusive) and until one (inclusive)", () =>
    Effect.gen(function*() {
      yield* fresh
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 50, reason: "feedback", at: AT })
      const second = yield* post("/bonus/accruals/temporary", { clientId: 1, amount: 100, reason: "feedback", at: plus(DAY), expiresAt: plus(15 * DAY) })
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 70, reason: "feedback", at: plus(2 * DAY) })
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 10, reason: "profile", at: plus(DAY / 2) })
      yield* post("/bonus/accruals/permanent", { clientId: 2, amount: 10, reason: "feedback", at: plus(DAY / 2) })

      const first = (query: string) => get(`/bonus/first-accrual?clientId=1&reason=feedback&${query}`)
      expect(yield* first(`after=${AT}&until=${plus(14 * DAY)}`)).toEqual({
        status: 200,
        body: { accrual: { operationId: second.body.operationId, at: plus(DAY), amount: 100 } }
      })
      expect((yield* first(`after=${AT}&until=${plus(DAY)}`)).body.accrual.operationId).toBe(second.body.operationId)
      expect((yield* first(`after=${AT}&until=${plus(DAY - 1)}`)).body).toEqual({ accrual: null })
      expect((yield* first(`after=${plus(3 * DAY)}&until=${plus(9 * DAY)}`)).body).toEqual({ accrual: null })

      const batch = yield* post("/bonus/first-accruals", {
        lookups: [
          { clientId: 1, reason: "profile", after: AT, until: plus(DAY) },
          { clientId: 3, reason: "feedback", after: AT, until: plus(DAY) },
          { clientId: 1, reason: "feedback", after: plus(-1), until: plus(DAY) }
        ]
      })
      expect(batch.status).toBe(200)
      expect(batch.body.accruals.map((a: { amount: number } | null) => a?.amount ?? null)).toEqual([10, null, 50])
    }))

  it.effect("the balance and the first-accrual look-up default to the server's now", () =>
    Effect.gen(function*() {
      yield* fresh
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 50, reason: "feedback", at: plus(-1, SERVER_NOW) })
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 20, reason: "feedback", at: plus(1, SERVER_NOW) })
      expect((yield* get("/bonus/balance?clientId=1")).body).toEqual({ clientId: "1", at: SERVER_NOW, balance: 50 })
      const after = plus(-1, SERVER_NOW)
      // The accrual 1 ms after the server's now is in its future.
      expect((yield* get(`/bonus/first-accrual?clientId=1&reason=feedback&after=${after}`)).body).toEqual({ accrual: null })
      expect((yield* get(`/bonus/first-accrual?clientId=1&reason=feedback&after=${after}&until=${plus(DAY, SERVER_NOW)}`)).body.accrual)
        .toMatchObject({ amount: 20 })
    }))

  it.effect("refuses malformed accruals with a 400 that says what is wrong, and writes nothing", () =>
    Effect.gen(function*() {
      yield* fresh
      const valid = { clientId: 1, amount: 100, reason: "invite", at: AT, expiresAt: plus(14 * DAY) }
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ ...valid, clientId: undefined }, "clientId is missing: give the client's id"],
        [{ ...valid, clientId: "abc" }, `clientId must be a positive whole number (the client's id), got "abc"`],
        [{ ...valid, clientId: 0 }, "clientId must be a positive whole number (the client's id), got 0"],
        [{ ...valid, clientId: 1.5 }, "clientId must be a positive whole number (the client's id), got 1.5"],
        [{ ...valid, amount: undefined }, "amount is missing: give the number of bonuses"],
        [{ ...valid, amount: "abc" }, `amount must be a positive number of bonuses with at most two decimals, up to 9999999999.99, got "abc"`],
        [{ ...valid, amount: "100" }, `amount must be a positive number of bonuses with at most two decimals, up to 9999999999.99, got "100"`],
        [{ ...valid, amount: 0 }, "amount must be a positive number of bonuses with at most two decimals, up to 9999999999.99, got 0"],
        [{ ...valid, amount: -100 }, "amount must be a positive number of bonuses with at most two decimals, up to 9999999999.99, got -100"],
        [{ ...valid, amount: 1.234 }, "amount must be a positive number of bonuses with at most two decimals, up to 9999999999.99, got 1.234"],
        [{ ...valid, at: "yesterday" }, `at must be an ISO-8601 instant with an offset, e.g. 2026-03-10T08:00:00Z, got "yesterday"`],
        [{ ...valid, at: "2026-03-10T12:00:00" }, `at must be an ISO-8601 instant with an offset, e.g. 2026-03-10T08:00:00Z, got "2026-03-10T12:00:00"`],
        [{ ...valid, at: "2026-02-30T12:00:00Z" }, `at must be an ISO-8601 instant with an offset, e.g. 2026-03-10T08:00:00Z, got "2026-02-30T12:00:00Z"`],
        [{ ...valid, expiresAt: undefined }, "expiresAt is missing: give when the temporary bonuses expire"],
        [{ ...valid, expiresAt: AT }, `expiresAt (${AT}) must be after the accrual's instant (${AT})`],
        [{ ...valid, expiresAt: plus(-DAY) }, `expiresAt (${plus(-DAY)}) must be after the accrual's instant (${AT})`],
        [
          { ...valid, clientId: "x", amount: 0 },
          `clientId must be a positive whole number (the client's id), got "x"`
        ]
      ]
      for (const [body, message] of cases) {
        const answer = yield* post("/bonus/accruals/temporary", JSON.parse(JSON.stringify(body)))
        expect({ body, answer }).toEqual({ body, answer: { status: 400, body: { _tag: "InvalidRequest", message } } })
      }
      const notJson = yield* post("/bonus/accruals/permanent", "{clientId: 1,")
      expect(notJson).toEqual({ status: 400, body: { _tag: "InvalidRequest", message: "the request body is not valid JSON" } })
      const permanent = yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 5, reason: "order", orderUid: "42" })
      expect(permanent).toEqual({ status: 400, body: { _tag: "InvalidRequest", message: `orderUid must be a UUID, got "42"` } })
      expect(yield* rows).toEqual(nothingWritten)
    }))

  it.effect("refuses malformed reads with a 400 that says what is wrong", () =>
    Effect.gen(function*() {
      yield* fresh
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["/bonus/balance", "clientId is missing: give the client's id"],
        ["/bonus/balance?clientId=x", `clientId must be a positive whole number (the client's id), got "x"`],
        ["/bonus/balance?clientId=-3", `clientId must be a positive whole number (the client's id), got "-3"`],
        ["/bonus/balance?clientId=3&at=today", `at must be an ISO-8601 instant with an offset, e.g. 2026-03-10T08:00:00Z, got "today"`],
        [
          "/bonus/first-accrual?clientId=3&reason=feedback",
          "after is missing: give the instant after which to look (exclusive)"
        ],
        [
          "/bonus/first-accrual?clientId=3&reason=feedback&after=2026-13-01T00:00:00Z",
          `after must be an ISO-8601 instant with an offset, e.g. 2026-03-10T08:00:00Z, got "2026-13-01T00:00:00Z"`
        ],
        [
          `/bonus/first-accrual?clientId=3&reason=feedback&after=${plus(DAY)}&until=${AT}`,
          `until (${AT}) must not be before after (${plus(DAY)})`
        ]
      ]
      for (const [path, message] of cases) {
        expect({ path, answer: yield* get(path) }).toEqual({ path, answer: { status: 400, body: { _tag: "InvalidRequest", message } } })
      }
      const batch = yield* post("/bonus/first-accruals", {
        lookups: [
          { clientId: 1, reason: "feedback", after: AT, until: plus(DAY) },
          { clientId: 1, reason: "feedback", after: AT, until: plus(DAY) },
          { clientId: "one", reason: "feedback", after: AT, until: plus(DAY) }
        ]
      })
      expect(batch).toEqual({
        status: 400,
        body: { _tag: "InvalidRequest", message: `lookups[2]: clientId must be a positive whole number (the client's id), got "one"` }
      })
      const tooMany = yield* post("/bonus/first-accruals", {
        lookups: Array.from({ length: BonusApi.MAX_LOOKUPS + 1 }, () => ({ clientId: 1, reason: "r", after: AT, until: AT }))
      })
      expect(tooMany.body.message).toBe("lookups may hold at most 10000 look-ups per request")
      const notArray = yield* post("/bonus/first-accruals", { lookups: "all" })
      expect(notArray.body.message).toBe("lookups must be an array of {clientId, reason, after, until}")
    }))

  it.effect("an accrual with an Idempotency-Key is made once; the key cannot be reused for another accrual", () =>
    Effect.gen(function*() {
      yield* fresh
      const body = { clientId: 1, amount: 100, reason: "invite", at: AT, expiresAt: plus(14 * DAY) }
      const headers = { "Idempotency-Key": "notification-17" }
      const first = yield* post("/bonus/accruals/temporary", body, headers)
      const retry = yield* post("/bonus/accruals/temporary", body, headers)
      expect(retry).toEqual(first)
      expect((yield* rows).temporary).toHaveLength(1)

      const other = yield* post("/bonus/accruals/temporary", { ...body, amount: 500 }, headers)
      expect(other).toEqual({
        status: 400,
        body: {
          _tag: "InvalidRequest",
          message: `Idempotency-Key "notification-17" was already used for a different accrual; use a new key`
        }
      })
      expect((yield* rows).temporary).toHaveLength(1)
      // Two at once with a new key: one accrual, both told its id.
      const twice = yield* Effect.all(
        [post("/bonus/accruals/temporary", body, { "Idempotency-Key": "n-19" }), post("/bonus/accruals/temporary", body, { "Idempotency-Key": "n-19" })],
        { concurrency: 2 }
      )
      expect(twice[0]).toEqual(twice[1])
      expect((yield* rows).temporary).toHaveLength(2)
      // Without a key (or with another), every request is an accrual of its own.
      yield* post("/bonus/accruals/temporary", body)
      yield* post("/bonus/accruals/temporary", body, { "Idempotency-Key": "notification-18" })
      expect(yield* rows).toMatchObject({ requests: 3 })
      expect((yield* rows).temporary).toHaveLength(4)
    }))

  it.effect("spends, and answers 409 when the balance is short", () =>
    Effect.gen(function*() {
      yield* fresh
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 100, reason: "order", at: AT })
      expect(yield* post("/bonus/spendings", { clientId: 1, amount: 60, at: plus(1) })).toEqual({ status: 204, body: null })
      expect((yield* get(`/bonus/balance?clientId=1&at=${plus(2)}`)).body.balance).toBe(40)
      expect(yield* post("/bonus/spendings", { clientId: 1, amount: 41, at: plus(2) })).toEqual({
        status: 409,
        body: { _tag: "InsufficientBalance", clientId: "1", requested: 41, available: 40 }
      })
    }))

  it.effect("the HTTP BonusServer reads, looks up and spends over the API, answering as the SQL ledger does", () =>
    Effect.gen(function*() {
      yield* fresh
      yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 80, reason: "feedback", at: plus(DAY) })
      yield* post("/bonus/accruals/temporary", { clientId: 1, amount: 100, reason: "profile", at: plus(2 * DAY), expiresAt: plus(16 * DAY) })
      const lookups = [
        { clientId: "1", reason: "feedback", after: instant(AT), until: instant(plus(14 * DAY)) },
        { clientId: "1", reason: "profile", after: instant(AT), until: instant(plus(DAY)) },
        { clientId: "2", reason: "feedback", after: instant(AT), until: instant(plus(14 * DAY)) },
        { clientId: "1", reason: "profile", after: instant(AT), until: instant(plus(2 * DAY)) }
      ]
      const read = Effect.gen(function*() {
        const bonus = yield* BonusServer
        return {
          balances: yield* Effect.forEach([AT, plus(DAY), plus(3 * DAY), plus(16 * DAY)], (t) => bonus.balance("1", instant(t))),
          found: yield* bonus.firstAccruals(lookups)
        }
      })
      const overHttp = yield* httpBonusServer(read)
      const direct = yield* read.pipe(Effect.provide(BonusLedger.layer))
      expect(overHttp).toEqual(direct)
      expect(overHttp.balances).toEqual([0, 80, 180, 80])
      expect(overHttp.found.map(Option.map((f) => f.amount))).toEqual([Option.some(80), Option.none(), Option.none(), Option.some(100)])
      expect(yield* httpBonusServer(Effect.flatMap(BonusServer, (b) => b.firstAccruals([])))).toEqual([])

      const spent = yield* httpBonusServer(Effect.gen(function*() {
        const bonus = yield* BonusServer
        yield* bonus.spend("1", 150, instant(plus(3 * DAY)))
        return yield* Effect.either(bonus.spend("1", 31, instant(plus(3 * DAY))))
      }))
      expect(spent).toEqual(Either.left(new InsufficientBalance({ clientId: "1", requested: 31, available: 30 })))
    }))

  it.effect("the HTTP BonusServer queues an accrual with its transaction and delivers it once, after the commit", () =>
    Effect.gen(function*() {
      yield* fresh
      const sql = yield* SqlClient.SqlClient
      const accrual = {
        type: "temporary" as const,
        clientId: "5",
        amount: 100,
        reason: "invite",
        at: instant(AT),
        expiresAt: instant(plus(14 * DAY))
      }
      const result = yield* httpBonusServer(Effect.gen(function*() {
        const bonus = yield* BonusServer
        // Rolled back: nothing is queued, nothing ever reaches the bonus server.
        const rolledBack = yield* sql.withTransaction(Effect.zipRight(bonus.accrue(accrual), Effect.fail("send failed"))).pipe(
          Effect.flip
        )
        const afterRollback = yield* flush
        const operation = yield* sql.withTransaction(bonus.accrue(accrual))
        const queued = yield* outboxRows
        const delivered = yield* flush
        const again = yield* flush
        return { rolledBack, afterRollback, operation, queued, delivered, again }
      }))
      expect(result.rolledBack).toBe("send failed")
      expect(result.afterRollback).toEqual({ delivered: 0, failed: 0, deadLettered: 0, pending: 0 })
      expect(result.queued).toEqual([{ key: expect.any(String), attempts: 0, lastError: null, delivered: false, operationId: null }])
      expect(result.operation).toBe(`request:${result.queued[0]!.key}`)
      expect(result.delivered).toEqual({ delivered: 1, failed: 0, deadLettered: 0, pending: 0 })
      expect(result.again).toEqual({ delivered: 0, failed: 0, deadLettered: 0, pending: 0 })
      const stored = yield* rows
      expect(stored.temporary).toEqual([{
        id: "1",
        clientId: "5",
        amount: "100.00",
        reason: "invite",
        createdAt: AT,
        expiresAt: plus(14 * DAY)
      }])
      expect(yield* outboxRows).toEqual([{
        key: result.queued[0]!.key,
        attempts: 0,
        lastError: null,
        delivered: true,
        operationId: "temporary:1"
      }])
    }))

  it.effect("an accrual the bonus server cannot take yet stays queued and is delivered when it can, exactly once", () =>
    Effect.gen(function*() {
      yield* fresh
      const sql = yield* SqlClient.SqlClient
      const accrual = { type: "permanent" as const, clientId: "5", amount: 500, reason: "birthday", at: instant(AT) }
      // Nothing listens on port 9 of the loopback: every call is refused.
      const down = yield* Effect.provide(
        Effect.gen(function*() {
          const bonus = yield* BonusServer
          yield* sql.withTransaction(bonus.accrue(accrual))
          const report = yield* flush
          const balance = yield* Effect.flip(bonus.balance("5", instant(AT)))
          return { report, balance }
        }),
        BonusServerHttp.layer({ baseUrl: "http://127.0.0.1:9" })
      )
      expect(down.report).toEqual({ delivered: 0, failed: 1, deadLettered: 0, pending: 1 })
      expect(down.balance).toBeInstanceOf(BonusServerError)
      expect(down.balance.operation).toBe("balance")
      // Tried by the flush; not again as the layer was released: the row waits for its backoff.
      expect((yield* outboxRows)[0]).toMatchObject({
        attempts: 1,
        delivered: false,
        lastError: expect.stringContaining("http://127.0.0.1:9")
      })
      expect(yield* rows).toEqual(nothingWritten)
      yield* backoffOver

      // A delivery whose answer was lost (the accrual was made) is repeated with the same key.
      const [queued] = yield* outboxRows
      const firstTry = yield* post("/bonus/accruals/permanent", { clientId: 5, amount: 500, reason: "birthday", at: AT }, {
        "Idempotency-Key": queued!.key
      })
      expect(firstTry.status).toBe(200)

      const up = yield* httpBonusServer(flush)
      expect(up).toEqual({ delivered: 1, failed: 0, deadLettered: 0, pending: 0 })
      expect((yield* rows).permanent).toEqual([{ id: "1", clientId: "5", amount: "500.00", reason: "birthday", createdAt: AT, orderUid: null }])
      expect((yield* outboxRows)[0]).toMatchObject({ delivered: true, operationId: firstTry.body.operationId, lastError: null })
    }))

  it.effect("the HTTP BonusServer refuses an accrual the bonus server would refuse, before queuing it", () =>
    Effect.gen(function*() {
      yield* fresh
      const attempt = yield* httpBonusServer(
        Effect.flatMap(BonusServer, (bonus) =>
          Effect.all([
            Effect.flip(bonus.accrue({ type: "permanent", clientId: "1", amount: 0, reason: "x", at: instant(AT) })),
            Effect.flip(bonus.accrue({ type: "temporary", clientId: "1", amount: 5, reason: "x", at: instant(AT), expiresAt: instant(AT) }))
          ]))
      )
      expect(attempt.map((e) => e.message)).toEqual([
        "bonus server accrue failed: amount must be a positive number of bonuses with at most two decimals, up to 9999999999.99, got 0",
        `bonus server accrue failed: expiresAt (${AT}) must be after the accrual's instant (${AT})`
      ])
      expect(yield* outboxRows).toEqual([])
    }))

  it.effect("with the engine: a failed or doubtful send leaves no bonus; a sent message gets its bonus after the commit", () =>
    Effect.gen(function*() {
      yield* fresh
      yield* insertClient({ id: 1, phone: "89161234567" })
      const sql = yield* SqlClient.SqlClient
      const recorder = yield* RecordingSender
      // A one-candidate kind whose action accrues, like invite's action 2.
      const kind = Kind.make({
        name: "invite",
        schedule: Invite.schedule,
        actionSets: [{ name: "bonus-test", band: null, actions: 1 }],
        rules: {},
        reaction: ReactionRule.ClosedOrder(),
        select: () => Stream.make({ clientId: "1", phone: "89161234567", orderUid: null, actionSet: "bonus-test", trigger: "lapse-1" }),
        plan: () => Effect.succeed({ performedAction: 1, text: "Дарим 100 бонусов" }),
        perform: (candidate, _plan, { at }) =>
          Effect.flatMap(BonusServer, (bonus) =>
            bonus.accrue({
              type: "temporary",
              clientId: candidate.clientId,
              amount: 100,
              reason: "invite",
              at,
              expiresAt: DateTime.add(at, { days: 14 })
            })).pipe(
              Effect.as(Kind.nothingGranted),
              Effect.mapError((e) => new ActionFailed({ kind: "invite", action: 1, reason: e.message }))
            )
      })
      const runOnce = httpBonusServer(
        Effect.gen(function*() {
          yield* Harness.at(AT)
          const summary = yield* Run.run(kind)
          return { summary, report: yield* flush }
        })
      )

      yield* recorder.answerWith(() => Effect.fail(new SendFailed({ reason: "HTTP 500" })))
      const failed = yield* runOnce
      expect(failed.summary).toMatchObject({ sent: 0, failed: 1 })
      expect(failed.report).toEqual({ delivered: 0, failed: 0, deadLettered: 0, pending: 0 })
      expect(yield* rows).toEqual(nothingWritten)

      yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "timeout" })))
      const doubtful = yield* runOnce
      expect(doubtful.summary).toMatchObject({ sent: 0, inDoubt: 1 })
      expect(yield* rows).toEqual(nothingWritten)
      expect(yield* outboxRows).toEqual([])

      // The attempt in doubt blocks this trigger; a new one is sent and its bonus follows.
      yield* sql`DELETE FROM pronto_notify.notifications`
      yield* recorder.answerWith(() => Effect.void)
      const sent = yield* runOnce
      expect(sent.summary).toMatchObject({ sent: 1, failed: 0, inDoubt: 0 })
      expect(sent.report).toEqual({ delivered: 1, failed: 0, deadLettered: 0, pending: 0 })
      expect((yield* rows).temporary).toEqual([{
        id: "1",
        clientId: "1",
        amount: "100.00",
        reason: "invite",
        createdAt: AT,
        expiresAt: plus(14 * DAY)
      }])
    }))

  it.effect("the reason is never refused: none or null is stored as NULL, a number or boolean as its text", () =>
    Effect.gen(function*() {
      yield* fresh
      const given: ReadonlyArray<unknown> = [undefined, null, 5, 1.5, true, false, { a: 1 }, [1, "x"], "as is "]
      for (const [i, reason] of given.entries()) {
        const answer = yield* post("/bonus/accruals/permanent", { clientId: 1 + i, amount: 1, reason, at: AT })
        expect({ reason, status: answer.status }).toEqual({ reason, status: 200 })
      }
      for (const reason of [undefined, null, 7]) {
        const answer = yield* post("/bonus/accruals/temporary", { clientId: 1, amount: 1, reason, at: AT, expiresAt: plus(DAY) })
        expect(answer.status).toBe(200)
      }
      const stored = yield* rows
      expect(stored.permanent.map((r) => r.reason)).toEqual([null, null, "5", "1.5", "true", "false", `{"a":1}`, `[1,"x"]`, "as is "])
      expect(stored.temporary.map((r) => r.reason)).toEqual([null, null, "7"])
      // An idempotent accrual without a reason is made once too.
      const headers = { "Idempotency-Key": "no-reason" }
      const first = yield* post("/bonus/accruals/permanent", { clientId: 30, amount: 2, at: AT }, headers)
      expect(yield* post("/bonus/accruals/permanent", { clientId: 30, amount: 2, at: AT }, headers)).toEqual(first)
      expect((yield* rows).permanent.filter((r) => r.clientId === "30")).toHaveLength(1)

      // The HTTP BonusServer sends no reason as null, and it arrives as NULL.
      const delivered = yield* httpBonusServer(Effect.gen(function*() {
        const bonus = yield* BonusServer
        yield* bonus.accrue({ type: "temporary", clientId: "20", amount: 3, reason: null, at: instant(AT), expiresAt: instant(plus(DAY)) })
        return yield* flush
      }))
      expect(delivered).toMatchObject({ delivered: 1, pending: 0 })
      expect((yield* rows).temporary.at(-1)).toMatchObject({ clientId: "20", reason: null })
    }))

  it.effect("an accrual's reason is stored as sent, with an order UID too, and a review bonus for an order is the feedback reaction", () =>
    Effect.gen(function*() {
      yield* fresh
      const sql = yield* SqlClient.SqlClient
      const order = "6f1c2a4e-1d7b-4c36-9a51-0e5f0b3f9c11"
      // Client 1 got a feedback message an hour before the app accrued the review bonus for the order.
      const [feedback] = yield* sql<{ id: string }>`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at, sent_at)
        VALUES ('feedback', 'feedback', 'review-for-order', 1, '89160000001', 1, 1, 'text', 'sent',
                ${new Date(plus(-3_600_000))}, ${new Date(plus(-3_600_000))})
        RETURNING id::text AS id
      `
      const review = yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 5, reason: "feedback", at: AT, orderUid: order })
      yield* post("/bonus/accruals/permanent", { clientId: 2, amount: 5, at: AT, orderUid: order })
      yield* post("/bonus/accruals/permanent", { clientId: 3, amount: 5, reason: "order", at: AT, orderUid: order })
      yield* post("/bonus/accruals/permanent", { clientId: 3, amount: 5, reason: "feedback", at: AT })
      expect((yield* rows).permanent.map((r) => [r.clientId, r.reason, r.orderUid])).toEqual([
        ["1", "feedback", order],
        ["2", null, order],
        ["3", "order", order],
        ["3", "feedback", null]
      ])
      // The reaction job (at the served clock, SERVER_NOW, inside the 14-day window) finds the review.
      yield* Reactions.run
      const [decided] = yield* sql<{ reaction: string; ref: string | null }>`
        SELECT reaction, reaction_ref AS ref FROM pronto_notify.notifications WHERE id = ${feedback!.id}::bigint
      `
      expect(decided).toEqual({ reaction: "reacted", ref: review.body.operationId })
      // Through the HTTP BonusServer: queued and delivered with the reason given.
      yield* httpBonusServer(Effect.gen(function*() {
        const bonus = yield* BonusServer
        yield* bonus.accrue({ type: "permanent", clientId: "4", amount: 5, reason: "birthday", at: instant(AT), orderUid: order })
        expect((yield* outboxReasons)).toEqual(["birthday"])
        yield* flush
      }))
      expect((yield* rows).permanent.at(-1)).toMatchObject({ clientId: "4", reason: "birthday", orderUid: order })
    }))

  it.effect("amounts: the API takes exactly what the ledger takes (0.1 + 0.2 is 0.30)", () =>
    Effect.gen(function*() {
      yield* fresh
      expect(BonusLedger.isValidAmount(0.1 + 0.2)).toBe(true)
      const answer = yield* post("/bonus/accruals/permanent", { clientId: 1, amount: 0.1 + 0.2, reason: "r", at: AT })
      expect(answer.status).toBe(200)
      expect((yield* post("/bonus/accruals/permanent", { clientId: 2, amount: BonusApi.MAX_AMOUNT, reason: "r", at: AT })).status)
        .toBe(200)
      const tooMuch = yield* post("/bonus/accruals/permanent", { clientId: 3, amount: BonusApi.MAX_AMOUNT + 0.01, reason: "r", at: AT })
      expect(tooMuch.status).toBe(400)
      expect((yield* post("/bonus/spendings", { clientId: 1, amount: 0.1 + 0.2, at: plus(1) })).status).toBe(204)
      const queued = yield* httpBonusServer(
        Effect.flatMap(BonusServer, (bonus) =>
          bonus.accrue({ type: "permanent", clientId: "4", amount: 0.1 + 0.2, reason: "r", at: instant(AT) }))
      )
      expect(queued).toMatch(/^request:/)
      expect((yield* rows).permanent.map((r) => r.amount)).toEqual(["0.30", "9999999999.99", "-0.30", "0.30"])
    }))

  it.effect("a refused accrual backs off, and after MAX_REFUSALS refusals is a dead letter: kept, logged, never posted again", () =>
    Effect.gen(function*() {
      yield* fresh
      const sql = yield* SqlClient.SqlClient
      const base = yield* BonusApi.baseUrl
      const withOutbox = httpBonusServerWith({ baseUrl: base, token: BonusTokens.writer, deliver: false })
      yield* withOutbox(Effect.flatMap(BonusServer, (bonus) =>
        sql.withTransaction(bonus.accrue({ type: "permanent", clientId: "5", amount: 10, reason: "birthday", at: instant(AT) }))))
      // The row's key, already used for another accrual: the bonus server refuses it every time.
      const [{ key }] = yield* sql<{ key: string }>`SELECT request_key::text AS key FROM pronto_notify.bonus_outbox`
      yield* post("/bonus/accruals/permanent", { clientId: 5, amount: 11, reason: "birthday", at: AT }, { "Idempotency-Key": key })

      const waits: Array<number> = []
      for (let refusal = 1; refusal < BonusServerHttp.MAX_REFUSALS; refusal++) {
        const { result } = yield* withLogs(withOutbox(flush))
        expect(result).toEqual({ delivered: 0, failed: 1, deadLettered: 0, pending: 1 })
        const [state] = yield* deliveryState
        expect(state).toMatchObject({ attempts: refusal, refusals: refusal, dead: false, delivered: false, claimed: false })
        expect(state!.lastError).toContain(`Idempotency-Key "${key}" was already used for a different accrual`)
        waits.push(Math.round(state!.wait))
        // Within its backoff the row is not posted.
        expect(yield* withOutbox(flush)).toEqual({ delivered: 0, failed: 0, deadLettered: 0, pending: 1 })
        expect((yield* deliveryState)[0]!.attempts).toBe(refusal)
        yield* backoffOver
      }
      expect(waits).toEqual([5, 10, 20, 40, 80, 160, 320, 600, 600])

      const last = yield* withLogs(withOutbox(flush))
      expect(last.result).toEqual({ delivered: 0, failed: 1, deadLettered: 1, pending: 0 })
      expect(last.logs).toEqual([{
        level: "ERROR",
        message: expect.stringMatching(/^bonus outbox row 1 \(request:.*\) was refused 10 times and is marked failed/)
      }])
      yield* backoffOver
      expect(yield* withOutbox(flush)).toEqual({ delivered: 0, failed: 0, deadLettered: 0, pending: 0 })
      expect(yield* deliveryState).toMatchObject([{ attempts: 10, refusals: 10, dead: true, delivered: false }])
      expect((yield* rows).permanent.map((r) => r.amount)).toEqual(["11.00"])
    }))

  it.effect("408, 429, 5xx and transport failures are retried without end; other 4xx are refusals", () =>
    Effect.scoped(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      let status = 0
      const baseUrl = yield* rawServer((request, _body, response) => {
        if (status === 0) return request.socket.destroy()
        response.writeHead(status, { "content-type": "text/plain" }).end("no")
      })
      const withOutbox = httpBonusServerWith({ baseUrl, deliver: false })
      const outcome: Record<number, { dead: boolean; refusals: number; wait: number; lastError: string | null }> = {}
      for (const code of [0, 408, 429, 500, 502, 503, 400, 404, 422]) {
        status = code
        yield* fresh
        yield* withOutbox(Effect.flatMap(BonusServer, (bonus) =>
          bonus.accrue({ type: "permanent", clientId: "5", amount: 10, reason: "r", at: instant(AT) })))
        // One refusal short of a dead letter, after many attempts.
        yield* sql`UPDATE pronto_notify.bonus_outbox SET attempts = 40, refusals = ${BonusServerHttp.MAX_REFUSALS - 1}`
        yield* withOutbox(flush)
        const [state] = yield* deliveryState
        outcome[code] = { dead: state!.dead, refusals: state!.refusals, wait: Math.round(state!.wait), lastError: state!.lastError }
      }
      const retried = { dead: false, refusals: 9, wait: BonusServerHttp.RETRY_MAX_SECONDS, lastError: expect.any(String) }
      const refused = { dead: true, refusals: 10, wait: BonusServerHttp.RETRY_MAX_SECONDS, lastError: expect.any(String) }
      expect(outcome).toEqual({
        0: retried,
        408: retried,
        429: retried,
        500: retried,
        502: retried,
        503: retried,
        400: refused,
        404: refused,
        422: refused
      })
      expect(outcome[404]!.lastError).toContain("HTTP 404")
    })))

  it.effect("a pass claims its rows and commits before posting: no lock is held meanwhile, and another process's pass skips them", () =>
    Effect.scoped(Effect.gen(function*() {
      yield* fresh
      const sql = yield* SqlClient.SqlClient
      const held: Array<ServerResponse> = []
      const posted: Array<string> = []
      const baseUrl = yield* rawServer((request, _body, response) => {
        posted.push(String(request.headers["idempotency-key"]))
        held.push(response)
      })
      const processOne = httpBonusServerWith({ baseUrl, deliver: false })
      const processTwo = httpBonusServerWith({ baseUrl, deliver: false })
      yield* processOne(Effect.flatMap(BonusServer, (bonus) =>
        Effect.forEach(["1", "2", "3"], (clientId) =>
          bonus.accrue({ type: "permanent", clientId, amount: 10, reason: "r", at: instant(AT) }))))

      const first = yield* Effect.fork(processOne(flush))
      yield* eventually(Effect.sync(() => held.length === 3))
      // The posts are in flight: the rows are claimed, yet nothing is locked and no transaction is open.
      expect((yield* deliveryState).map((r) => r.claimed)).toEqual([true, true, true])
      const locked = yield* sql.withTransaction(sql`SELECT id FROM pronto_notify.bonus_outbox FOR UPDATE NOWAIT`)
      expect(locked).toHaveLength(3)
      const [open] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'
      `
      expect(open!.n).toBe(0)
      // Another process's pass meanwhile: nothing of it is posted again.
      expect(yield* processTwo(flush)).toEqual({ delivered: 0, failed: 0, deadLettered: 0, pending: 3 })

      held.forEach((response, i) =>
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ operationId: `permanent:${i + 1}` }))
      )
      expect(yield* Fiber.join(first)).toEqual({ delivered: 3, failed: 0, deadLettered: 0, pending: 0 })
      expect(new Set(posted).size).toBe(3)
      expect(posted).toHaveLength(3)
      expect((yield* deliveryState).map((r) => [r.delivered, r.claimed])).toEqual([[true, false], [true, false], [true, false]])
    })))

  it.effect("with deliver: false nothing is posted, by the loop or on release; by default both deliver", () =>
    Effect.gen(function*() {
      yield* fresh
      const sql = yield* SqlClient.SqlClient
      const baseUrl = yield* BonusApi.baseUrl
      const accrual = { type: "permanent" as const, clientId: "5", amount: 10, reason: "r", at: instant(AT) }
      const queue = Effect.flatMap(BonusServer, (bonus) => sql.withTransaction(bonus.accrue(accrual)))

      yield* httpBonusServerWith({ baseUrl, token: BonusTokens.writer, deliver: false, deliveryInterval: "1 second" })(Effect.gen(function*() {
        yield* queue
        yield* TestClock.adjust("10 seconds")
        yield* realSleep(200)
      }))
      expect(yield* deliveryState).toMatchObject([{ attempts: 0, delivered: false }])
      expect(yield* rows).toEqual(nothingWritten)

      // By default: the loop delivers while the layer lives...
      yield* httpBonusServerWith({ baseUrl, token: BonusTokens.writer, deliveryInterval: "1 second" })(Effect.gen(function*() {
        yield* TestClock.adjust("1 second")
        yield* eventually(Effect.map(deliveryState, (s) => s.every((r) => r.delivered)))
        yield* queue
      }))
      // ...and the release delivers what was queued last.
      expect((yield* deliveryState).map((r) => r.delivered)).toEqual([true, true])
      expect((yield* rows).permanent).toHaveLength(2)
    }))

  it.effect("every call times out even inside an uninterruptible region (on the live clock)", () =>
    Effect.scoped(Effect.gen(function*() {
      yield* fresh
      const sockets = new Set<Socket>()
      const silent = yield* Effect.acquireRelease(
        Effect.async<ReturnType<typeof createTcpServer>>((resume) => {
          // Accepts connections and never answers.
          const server = createTcpServer((socket) => sockets.add(socket))
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.async<void>((resume) => {
            sockets.forEach((socket) => socket.destroy())
            server.close(() => resume(Effect.void))
          })
      )
      const baseUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
      const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.gen(function*() {
          const start = Date.now()
          const result = yield* Effect.either(Effect.uninterruptible(effect))
          return { result, ms: Date.now() - start }
        })
      const sql = yield* SqlClient.SqlClient
      const { balance, delivery } = yield* httpBonusServerWith({ baseUrl, timeout: "300 millis", deliver: false })(
        Effect.gen(function*() {
          const bonus = yield* BonusServer
          yield* sql.withTransaction(bonus.accrue({ type: "permanent", clientId: "1", amount: 1, reason: "r", at: instant(AT) }))
          return { balance: yield* timed(bonus.balance("1", instant(AT))), delivery: yield* timed(flush) }
        })
      ).pipe(TestServices.provideLive)
      expect(Either.isLeft(balance.result) && balance.result.left).toMatchObject({
        _tag: "BonusServerError",
        operation: "balance",
        reason: `no answer from ${baseUrl} within 300ms`
      })
      expect(balance.ms).toBeGreaterThanOrEqual(290)
      expect(balance.ms).toBeLessThan(2000)
      expect(delivery.result).toEqual(Either.right({ delivered: 0, failed: 1, deadLettered: 0, pending: 1 }))
      expect(delivery.ms).toBeLessThan(2000)
      expect(yield* deliveryState).toMatchObject([{ refusals: 0, lastError: `no answer from ${baseUrl} within 300ms` }])
    })), 10_000)
})
