/**
 * The bonus API served with Node's HTTP server, for examples, tests and a host without an
 * HttpServer of its own. `@effect/platform-node` is loaded only when `serve` is built, so that the
 * `bonus-api` entry (the API and the BonusServer over it) needs and loads no Node server otherwise.
 */
import { HttpApiBuilder, HttpServer, type HttpServerError } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import type { BonusServer } from "../BonusServer.ts"
import type { BonusAuth } from "./Access.ts"
import { layer } from "./Handlers.ts"

export interface ServeOptions {
  /** Default 0: any free port (read it back with `baseUrl`). */
  readonly port?: number
  /** Default 127.0.0.1. */
  readonly host?: string
}

const nodeHttpServer = Effect.tryPromise({
  try: () => import("@effect/platform-node/NodeHttpServer"),
  catch: (cause) =>
    new Error(
      `BonusApi.serve needs @effect/platform-node (npm install @effect/platform-node@^0.108.2): ${
        cause instanceof Error ? cause.message : String(cause)
      }`
    )
}).pipe(Effect.orDie)

/** Serves the API with Node's HTTP server (examples and tests); the HttpServer tells the address. */
export const serve = (
  options: ServeOptions = {}
): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError, BonusServer | SqlClient.SqlClient | BonusAuth> =>
  Layer.unwrapEffect(
    Effect.map(nodeHttpServer, (NodeHttpServer) =>
      HttpApiBuilder.serve().pipe(
        Layer.provide(layer),
        Layer.provideMerge(
          NodeHttpServer.layer(createServer, { port: options.port ?? 0, host: options.host ?? "127.0.0.1" })
        )
      ))
  )

/** `http://host:port` of the running server. */
export const baseUrl: Effect.Effect<string, never, HttpServer.HttpServer> = HttpServer.addressWith((address) =>
  Effect.succeed(
    address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : `http://unix:${address.path}`
  )
)
