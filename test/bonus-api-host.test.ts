/**
 * A host mounts the bonus API's group in its own HttpApi, beside its own groups, with no cast
 * (`BonusApi.handlersFor`): both answer on one server, and a malformed bonus request gets the
 * group's 400.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { createServer } from "node:http"
import * as BonusApi from "../src/bonus/BonusApi.ts"
import * as BonusLedger from "../src/bonus/BonusLedger.ts"
import { insertClient } from "./support/Fixtures.ts"
import * as TestDatabase from "./support/TestDatabase.ts"

class HostGroup extends HttpApiGroup.make("host").add(HttpApiEndpoint.get("hello", "/hello").addSuccess(Schema.String)) {}

/** The host's own API, holding the library's group. */
class HostApi extends HttpApi.make("jupiter").add(HostGroup).add(BonusApi.BonusGroup) {}

const HostHandlers = HttpApiBuilder.group(HostApi, "host", (handlers) => handlers.handle("hello", () => Effect.succeed("hello")))

const served = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiBuilder.api(HostApi)),
  Layer.provide(HostHandlers),
  Layer.provide(BonusApi.handlersFor(HostApi)),
  Layer.provide(BonusLedger.layer),
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
        const response = await fetch(balance)
        return { status: response.status, body: await response.json() }
      })
      expect(answer).toEqual({ status: 200, body: { clientId: "5", at: "2026-03-10T09:00:00.000Z", balance: 0 } })
      const accrual = yield* url("/bonus/accruals/temporary")
      const refused = yield* Effect.promise(async () => {
        const response = await fetch(accrual, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ clientId: "5", amount: 10, at: "2026-03-10T09:00:00Z", expiresAt: "2026-03-01T09:00:00Z" })
        })
        return { status: response.status, body: await response.json() }
      })
      expect(refused.status).toBe(400)
      expect(refused.body).toMatchObject({ _tag: "InvalidRequest" })
    }))
})
