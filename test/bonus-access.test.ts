/**
 * The bonus API lets in only the callers the host knows: every endpoint answers 401 without a
 * known bearer token, 403 to a reader who writes, and writes nothing then; no answer repeats the
 * token. The library's own HTTP client, its outbox and the reaction job work against it with a
 * token, and a URL that carries a user or password is refused for every URL setting.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { spawn } from "node:child_process"
import path from "node:path"
import pg from "pg"
import { ConfigProvider, Effect, Either, Exit, Layer, Option, Redacted, TestClock } from "effect"
import * as BonusApi from "../src/bonus/BonusApi.ts"
import * as BonusLedger from "../src/bonus/BonusLedger.ts"
import { BonusServer } from "../src/bonus/BonusServer.ts"
import * as BonusServerHttp from "../src/bonus/BonusServerHttp.ts"
import * as Deployment from "../src/config/Deployment.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import * as BonusTokens from "./support/BonusTokens.ts"
import { bonusRows, insertClient, instant } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import * as TestDatabase from "./support/TestDatabase.ts"

const AT = "2026-03-10T09:00:00.000Z"
const LATER = "2026-03-20T09:00:00.000Z"

const fresh = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* TestDatabase.truncateAll
  yield* sql`TRUNCATE pronto_notify.bonus_outbox, pronto_notify.bonus_requests RESTART IDENTITY`
  yield* insertClient({ id: 3 })
  yield* sql`INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at) VALUES (3, 500, 'order', ${new Date(AT)})`
})

/** Who calls: nobody, a token the server does not know, a header of another scheme, the reader, the writer. */
const CALLERS = {
  nobody: {},
  stranger: { authorization: "Bearer stranger-token-0000000000" },
  basic: { authorization: `Basic ${btoa(`jupiter:${BonusTokens.WRITER}`)}` },
  reader: { authorization: `Bearer ${BonusTokens.READER}` },
  writer: { authorization: `Bearer ${BonusTokens.WRITER}` }
} as const

const ENDPOINTS = [
  { name: "accruePermanent", write: true, method: "POST", path: "/bonus/accruals/permanent", body: { clientId: "3", amount: 1000, reason: "r", at: AT } },
  {
    name: "accrueTemporary",
    write: true,
    method: "POST",
    path: "/bonus/accruals/temporary",
    body: { clientId: "3", amount: 1000, reason: "r", at: AT, expiresAt: LATER }
  },
  { name: "spend", write: true, method: "POST", path: "/bonus/spendings", body: { clientId: "3", amount: 100, at: AT } },
  { name: "balance", write: false, method: "GET", path: `/bonus/balance?clientId=3&at=${LATER}` },
  { name: "firstAccrual", write: false, method: "GET", path: `/bonus/first-accrual?clientId=3&reason=order&after=2026-03-01T00:00:00Z&until=${LATER}` },
  {
    name: "firstAccruals",
    write: false,
    method: "POST",
    path: "/bonus/first-accruals",
    body: { lookups: [{ clientId: "3", reason: "order", after: "2026-03-01T00:00:00Z", until: LATER }] }
  }
] as const

const call = (endpoint: (typeof ENDPOINTS)[number], headers: Record<string, string>) =>
  Effect.gen(function*() {
    const base = yield* BonusApi.baseUrl
    const client = yield* HttpClient.HttpClient
    let request = endpoint.method === "GET" ? HttpClientRequest.get(`${base}${endpoint.path}`) : HttpClientRequest.post(`${base}${endpoint.path}`)
    request = HttpClientRequest.setHeaders(request, headers)
    if ("body" in endpoint) request = HttpClientRequest.bodyUnsafeJson(request, endpoint.body)
    const response = yield* client.execute(request)
    return { status: response.status, text: yield* response.text }
  })

/** What the ledger and the idempotency keys hold: a refused call must change none of it. */
const written = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [keys] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pronto_notify.bonus_requests`
  // Accruals and spendings (negative rows) alike.
  return { bonusRows: (yield* bonusRows).map((r) => `${r.table} ${r.clientId} ${r.amount}`), keys: keys!.n }
})

const served = BonusApi.serve().pipe(
  Layer.provide(BonusLedger.layer),
  Layer.provide(BonusTokens.layer),
  Layer.provideMerge(Layer.merge(Harness.layer, FetchHttpClient.layer)),
  Layer.merge(Layer.effectDiscard(TestClock.setTime(Date.parse(LATER))))
)

layer(served, { timeout: "120 seconds" })("the bonus API's callers", (it) => {
  for (const endpoint of ENDPOINTS) {
    it.effect(`${endpoint.name}: 401 without a known bearer token, ${endpoint.write ? "403 to a reader" : "200 to a reader"}, nothing written when refused`, () =>
      Effect.gen(function*() {
        yield* fresh
        const before = yield* written
        for (const who of ["nobody", "stranger", "basic"] as const) {
          const answer = yield* call(endpoint, CALLERS[who])
          expect(answer.status, `${who}: ${answer.text}`).toBe(401)
          expect(answer.text).not.toContain("token")
          expect(yield* written).toEqual(before)
        }
        const asReader = yield* call(endpoint, CALLERS.reader)
        expect(asReader.status, asReader.text).toBe(endpoint.write ? 403 : 200)
        expect(asReader.text).not.toContain(BonusTokens.READER)
        expect(yield* written).toEqual(before)

        const asWriter = yield* call(endpoint, CALLERS.writer)
        expect([200, 204], asWriter.text).toContain(asWriter.status)
        if (endpoint.write) expect(yield* written).not.toEqual(before)
      }))
  }

  it.effect("the library's client, its outbox and the reaction job work with a token; without one they are refused", () =>
    Effect.gen(function*() {
      yield* fresh
      const sql = yield* SqlClient.SqlClient
      const baseUrl = yield* BonusApi.baseUrl
      const accrual = { type: "permanent" as const, clientId: "3", amount: 50, reason: "feedback", at: instant(AT) }
      const queueAndFlush = Effect.gen(function*() {
        const bonus = yield* BonusServer
        yield* sql.withTransaction(bonus.accrue(accrual))
        return yield* Effect.flatMap(BonusServerHttp.BonusOutbox, (outbox) => outbox.flush)
      })

      // Without a token: a read is refused, and the outbox's post is a refusal (kept, not delivered).
      const anonymous = BonusServerHttp.layer({ baseUrl, deliver: false })
      const read = yield* Effect.either(Effect.flatMap(BonusServer, (b) => b.balance("3", instant(LATER))).pipe(Effect.provide(anonymous)))
      expect(Either.isLeft(read) && read.left.message).toContain("HTTP 401")
      expect(yield* queueAndFlush.pipe(Effect.provide(anonymous))).toMatchObject({ delivered: 0, failed: 1 })
      // A reader may read, not accrue: its post is refused with 403.
      const reader = BonusServerHttp.layer({ baseUrl, token: Redacted.make(BonusTokens.READER), deliver: false })
      expect(yield* Effect.flatMap(BonusServer, (b) => b.balance("3", instant(LATER))).pipe(Effect.provide(reader))).toBe(500)
      yield* sql`UPDATE pronto_notify.bonus_outbox SET next_attempt_at = now() - interval '1 millisecond'`
      const asReader = yield* Effect.flatMap(BonusServerHttp.BonusOutbox, (o) => o.flush).pipe(Effect.provide(reader))
      expect(asReader).toMatchObject({ delivered: 0, failed: 1 })
      const [lastError] = yield* sql<{ e: string }>`SELECT last_error AS e FROM pronto_notify.bonus_outbox`
      expect(lastError!.e).toContain("HTTP 403")
      expect(lastError!.e).not.toContain(BonusTokens.READER)

      // The writer's retry delivers the queued accrual, once.
      yield* sql`UPDATE pronto_notify.bonus_outbox SET next_attempt_at = now() - interval '1 millisecond'`
      const writer = BonusServerHttp.layer({ baseUrl, token: BonusTokens.writer, deliver: false })
      expect(yield* Effect.flatMap(BonusServerHttp.BonusOutbox, (o) => o.flush).pipe(Effect.provide(writer)))
        .toMatchObject({ delivered: 1, pending: 0 })
      expect((yield* bonusRows).filter((r) => r.reason === "feedback")).toHaveLength(1)

      // The reaction job reads through a reader's token: the feedback message sent an hour before
      // that accrual is decided by it.
      const sentBefore = new Date(Date.parse(AT) - 3_600_000)
      const [notification] = yield* sql<{ id: string }>`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at, sent_at)
        VALUES ('feedback', 'feedback', 'access-review', 3, '89160000003', 1, 1, 'text', 'sent', ${sentBefore}, ${sentBefore})
        RETURNING id::text AS id
      `
      yield* Effect.provide(Reactions.run, reader)
      const [decided] = yield* sql<{ reaction: string }>`SELECT reaction FROM pronto_notify.notifications WHERE id = ${notification!.id}::bigint`
      expect(decided!.reaction).toBe("reacted")
    }))
})

layer(Harness.layer)("URL settings", (it) => {
  it.effect("a URL with a user or password is refused for every URL setting, named, without the secret", () =>
    Effect.gen(function*() {
      const secret = "s3cret-pass"
      const withCredentials = `https://jupiter:${secret}@bonus.example.com/api`
      // BONUS_SERVER_URL on the command line (and any host reading the deployment configuration).
      const fromEnv = yield* Effect.either(
        Effect.withConfigProvider(Deployment.bonusServerUrl, ConfigProvider.fromMap(new Map([["BONUS_SERVER_URL", withCredentials]])))
      )
      expect(Either.isLeft(fromEnv) && String(fromEnv.left)).toContain(
        "BONUS_SERVER_URL (https://bonus.example.com) carries a user name or password; give its token as a secret instead (BONUS_SERVER_TOKEN)"
      )
      expect(String(Either.isLeft(fromEnv) && fromEnv.left)).not.toContain(secret)
      const plain = yield* Effect.withConfigProvider(
        Deployment.bonusServerUrl,
        ConfigProvider.fromMap(new Map([["BONUS_SERVER_URL", "https://bonus.example.com/api"]]))
      )
      expect(plain).toEqual(Option.some("https://bonus.example.com/api"))
      // The library's client, given such a URL in code.
      const exit = yield* Effect.exit(Layer.build(BonusServerHttp.layer({ baseUrl: withCredentials, deliver: false })).pipe(Effect.scoped))
      expect(Exit.isFailure(exit)).toBe(true)
      const message = Exit.isFailure(exit) ? JSON.stringify(exit.cause) : ""
      expect(message).toContain("BonusServerHttp's baseUrl (https://bonus.example.com) carries a user name or password")
      expect(message).not.toContain(secret)
      // SITE_URL, as before.
      expect(SiteSender.urlProblem(withCredentials)).toEqual(
        Option.some("SITE_URL (https://bonus.example.com) carries a user name or password; the Site takes only its key (SITE_KEY)")
      )
    }))
})

describe("examples/bonus-api-auth.ts", () => {
  it.scopedLive("mounts the bonus API behind the host's own check, and the library's client calls it with its token", () =>
    Effect.gen(function*() {
      const url = yield* TestDatabase.migratedUrl
      yield* Effect.promise(async () => {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        await client.query("INSERT INTO jupiter.clients (id, phone) VALUES (7, '89160000007')")
        await client.end()
      })
      const example = path.join(import.meta.dirname, "..", "examples", "bonus-api-auth.ts")
      const result = yield* Effect.promise(() =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ["--import", "tsx", example], {
            env: { ...process.env, DATABASE_URL: url, BONUS_SERVER_TOKEN: BonusTokens.WRITER }
          })
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
          child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
          child.on("exit", (code) => resolve({ code, stdout, stderr }))
        })
      )
      expect(result.code, result.stderr).toBe(0)
      const lines = result.stdout.trim().split("\n")
      // The host's warning for the anonymous call is logged; the result is the last line.
      expect(lines.some((l) => l.includes("a bonus API call without a known token"))).toBe(true)
      expect(JSON.parse(lines.at(-1)!)).toEqual({ anonymous: 401, before: 0, after: 1, delivered: 1 })
      expect(result.stdout + result.stderr).not.toContain(BonusTokens.WRITER)
    }))
})
