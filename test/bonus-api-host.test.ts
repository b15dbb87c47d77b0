/**
 * A host mounts the bonus API's group in its own HttpApi, beside its own groups, with no cast
 * (`BonusApi.handlersFor`): both answer on one server, and a malformed bonus request gets the
 * group's 400. Its own check of who calls (`BonusApi.BonusAuth`) replaces the default: its session
 * tokens, its permissions.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiError, HttpApiGroup, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted, Schema } from "effect"
import { createServer } from "node:http"
import * as BonusApi from "../src/bonus/BonusApi.ts"
import * as BonusLedger from "../src/bonus/BonusLedger.ts"
import { insertClient } from "./support/Fixtures.ts"
import * as TestDatabase from "./support/TestDatabase.ts"

class HostGroup extends HttpApiGroup.make("host").add(HttpApiEndpoint.get("hello", "/hello").addSuccess(Schema.String)) {}

/** The host's own API, holding the library's group. */
class HostApi extends HttpApi.make("jupiter").add(HostGroup).add(BonusApi.BonusGroup) {}

const HostHandlers = HttpApiBuilder.group(HostApi, "host", (handlers) => handlers.handle("hello", () => Effect.succeed("hello")))

/** The host's sessions: a cashier's may only read, the back office's may write. */
const SESSIONS: Record<string, BonusApi.Permission> = { "session-cashier": "read", "session-office": "write" }
const HostAuth = Layer.succeed(BonusApi.BonusAuth, {
  bearer: (token) => {
    const permission = SESSIONS[Redacted.value(token)]
    return permission === undefined
      ? Effect.fail(new HttpApiError.Unauthorized())
      : Effect.succeed({ name: Redacted.value(token).slice("session-".length), permission })
  }
})

const served = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiBuilder.api(HostApi)),
  Layer.provide(HostHandlers),
  Layer.provide(BonusApi.handlersFor(HostApi)),
  Layer.provide(BonusLedger.layer),
  Layer.provide(HostAuth),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
  Layer.provideMerge(TestDatabase.layer)
)

const url = (path: string) =>
  HttpServer.addressWith((address) =>
    Effect.succeed(address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}${path}` : "")
  )

layer(served, { timeout: "60 seconds" })("the bonus API in a host's own HttpApi", (it) => {
  it.effect("serves the host's group and the bonus group on one server", () =>
    Effect.gen(function*() {
      yield* insertClient({ id: 5 })
      const helloUrl = yield* url("/hello")
      const hello = yield* Effect.promise(async () => (await fetch(helloUrl)).json())
      expect(hello).toBe("hello")
      const balance = yield* url("/bonus/balance?clientId=5&at=2026-03-10T09:00:00Z")
      const answer = yield* Effect.promise(async () => {
        const response = await fetch(balance, { headers: { authorization: "Bearer session-cashier" } })
        return { status: response.status, body: await response.json() }
      })
      expect(yield* Effect.promise(async () => (await fetch(balance)).status)).toBe(401)
      expect(answer).toEqual({ status: 200, body: { clientId: "5", at: "2026-03-10T09:00:00.000Z", balance: 0 } })
      const accrual = yield* url("/bonus/accruals/temporary")
      const post = (session: string, expiresAt: string) =>
        Effect.promise(async () => {
          const response = await fetch(accrual, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${session}` },
            body: JSON.stringify({ clientId: "5", amount: 10, at: "2026-03-10T09:00:00Z", expiresAt })
          })
          return { status: response.status, body: await response.text() }
        })
      expect((yield* post("session-cashier", "2026-03-20T09:00:00Z")).status).toBe(403)
      expect((yield* post("session-office", "2026-03-20T09:00:00Z")).status).toBe(200)
      const refused = yield* Effect.map(post("session-office", "2026-03-01T09:00:00Z"), (r) => ({ ...r, body: JSON.parse(r.body) }))
      expect(refused.status).toBe(400)
      expect(refused.body).toMatchObject({ _tag: "InvalidRequest" })
    }))
})
