/**
 * The bonus API served with Node's HTTP server, for examples, tests and a host without an
 * HttpServer of its own: the only bonus module that loads `@effect/platform-node`.
 */
import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { layer } from "./Handlers.ts"

export interface ServeOptions {
  /** Default 0: any free port (read it back with `baseUrl`). */
  readonly port?: number
  /** Default 127.0.0.1. */
  readonly host?: string
}

/** Serves the API with Node's HTTP server (examples and tests); the HttpServer tells the address. */
export const serve = (options: ServeOptions = {}) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(layer),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port ?? 0, host: options.host ?? "127.0.0.1" }))
  )

/** `http://host:port` of the running server. */
export const baseUrl: Effect.Effect<string, never, HttpServer.HttpServer> = HttpServer.addressWith((address) =>
  Effect.succeed(
    address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : `http://unix:${address.path}`
  )
)
