/**
 * A host serves the bonus API inside its own HttpApi, behind its own check of who calls, and the
 * library's HTTP client calls it with a token. The library has no users of its own: the host's
 * `BonusAuth` layer says who a bearer token is and whether they may write (accrue, spend) or only
 * read (balance, first accruals). Without a known token every endpoint answers 401; a reader who
 * writes gets 403.
 *
 *   pronto-notify migrate            # once: the library's tables beside the host's
 *   DATABASE_URL=postgres://... BONUS_SERVER_TOKEN=... npx tsx examples/bonus-api-auth.ts
 *
 * It prints one JSON line: what an anonymous caller got, and the balance before and after an
 * accrual the library queued and delivered with its token.
 */
import { HttpApi, HttpApiBuilder, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { BonusLedger, BonusServer } from "@pronto/notify"
import { BonusApi, BonusServerHttp } from "@pronto/notify/bonus-api"
import { Config, Console, DateTime, Effect, Layer, Redacted } from "effect"
import { createServer } from "node:http"

/** The host's API: its own groups, and the library's bonus group. */
class JupiterApi extends HttpApi.make("jupiter").add(BonusApi.BonusGroup) {}

/**
 * The host's check. Here, one service token from the environment may write; a real host looks the
 * token up in its own sessions or identity service and says what that caller may do.
 */
const JupiterAuth = Layer.effect(
  BonusApi.BonusAuth,
  Effect.map(Config.redacted("BONUS_SERVER_TOKEN"), (serviceToken) => {
    const check = BonusApi.callerOf([{ name: "pronto-notify", token: serviceToken, permission: "write" }])
    return {
      bearer: (token: Redacted.Redacted<string>) =>
        check(token).pipe(Effect.tapError(() => Effect.logWarning("a bonus API call without a known token")))
    }
  })
)

const Database = PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") })

const BonusHttpServer = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiBuilder.api(JupiterApi)),
  Layer.provide(BonusApi.handlersFor(JupiterApi)),
  Layer.provide(BonusLedger.layer),
  Layer.provide(JupiterAuth),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

const program = Effect.gen(function*() {
  const baseUrl = yield* HttpServer.addressWith((address) =>
    Effect.succeed(address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : "")
  )
  const sql = yield* SqlClient.SqlClient
  const [client] = yield* sql<{ id: string }>`SELECT id::text AS id FROM jupiter.clients ORDER BY id LIMIT 1`
  if (client === undefined) return yield* Effect.fail(new Error("jupiter.clients is empty: add a client first"))

  const anonymous = yield* Effect.promise(() => fetch(`${baseUrl}/bonus/balance?clientId=${client.id}`).then((r) => r.status))

  const token = yield* Config.redacted("BONUS_SERVER_TOKEN")
  const result = yield* Effect.gen(function*() {
    const bonus = yield* BonusServer.BonusServer
    const before = yield* bonus.balance(client.id, yield* DateTime.now)
    // Queued in the caller's transaction (with a notification, in the library), then delivered.
    yield* sql.withTransaction(bonus.accrue({
      type: "permanent",
      clientId: client.id,
      amount: 1,
      reason: "example",
      at: yield* DateTime.now
    }))
    const delivery = yield* Effect.flatMap(BonusServerHttp.BonusOutbox, (outbox) => outbox.flush)
    const after = yield* bonus.balance(client.id, yield* DateTime.now)
    return { before, after, delivered: delivery.delivered }
  }).pipe(Effect.provide(BonusServerHttp.layer({ baseUrl, token, deliver: false })))

  yield* Console.log(JSON.stringify({ anonymous, ...result }))
})

Effect.runPromise(program.pipe(Effect.provide(BonusHttpServer), Effect.provide(Database), Effect.scoped)).catch((error) => {
  console.error(`bonus-api-auth: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
