/**
 * What a host's monitoring reads over HTTP from a process that serves: `GET /metrics` (every Effect
 * metric of the process in Prometheus' text format), `GET /health/live` (the process answers) and
 * `GET /health/ready` (200 when every readiness check passes, else 503; JSON saying each check's
 * answer). `routes` mounts them in any `HttpLayerRouter` (a console's own server, say); `layer`
 * adds what they read (the Prometheus reader, the standard readiness checks and the gauges'
 * sampler); `serve` runs them on a server of their own at an address (`pronto-notify serve` with
 * `PRONTO_NOTIFY_METRICS`).
 */
import { HttpLayerRouter, type HttpServerError, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import type { BusinessTimeZone } from "../time/BusinessTime.ts"
import type { Address } from "./Address.ts"
import * as Health from "./Health.ts"
import { layerPrometheus, Prometheus } from "./Otel.ts"
import * as Sampler from "./Sampler.ts"

export { type Address, InvalidAddress, LOOPBACK, parseAddress } from "./Address.ts"

/** Prometheus' text exposition format. */
const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

/** The three routes, reading the `Prometheus` and `Readiness` the caller provides. */
export const routes: Layer.Layer<never, never, HttpLayerRouter.HttpRouter | Prometheus | Health.Readiness> = HttpLayerRouter.addAll(
  Effect.gen(function*() {
    const { scrape } = yield* Prometheus
    const { check } = yield* Health.Readiness
    return [
      HttpLayerRouter.route("GET", "/metrics", Effect.map(scrape, (text) => HttpServerResponse.text(text, { contentType: PROMETHEUS_TEXT }))),
      HttpLayerRouter.route("GET", "/health/live", Effect.succeed(HttpServerResponse.unsafeJson({ alive: true }))),
      HttpLayerRouter.route(
        "GET",
        "/health/ready",
        Effect.map(check, (report) => HttpServerResponse.unsafeJson(report, { status: report.ready ? 200 : 503 }))
      )
    ]
  })
)

export interface Options {
  /** The readiness checks; default `Health.standard` (the database answers, the migrations are applied). */
  readonly checks?: ReadonlyArray<Effect.Effect<Health.Check, never, SqlClient.SqlClient>> | undefined
  /** Whether this process samples the database's gauges (`Sampler.layer`); default true. */
  readonly sample?: boolean | undefined
}

/**
 * The routes with what they read, for a server of the caller's own (`HttpLayerRouter.serve`):
 * `Layer.mergeAll(myRoutes, Monitoring.layer())`. Needs the library's database and time zone
 * (`ProntoNotify.layer` gives both). One per process: it registers the process's Prometheus reader.
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, never, HttpLayerRouter.HttpRouter | SqlClient.SqlClient | BusinessTimeZone> =>
  routes.pipe(
    Layer.provide(Layer.merge(layerPrometheus, Health.layer(options.checks ?? Health.standard))),
    Layer.merge(options.sample === false ? Layer.empty : Sampler.layer())
  )

/** `layer`'s routes on a Node HTTP server of their own at `address`, for as long as the layer lives. */
export const serve = (
  address: Address,
  options: Options = {}
): Layer.Layer<never, HttpServerError.ServeError, SqlClient.SqlClient | BusinessTimeZone> =>
  HttpLayerRouter.serve(layer(options), { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provide(NodeHttpServer.layer(createServer, { host: address.host, port: address.port }))
  )
