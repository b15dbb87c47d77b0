/**
 * `pronto-notify serve`: a standalone runner that runs every job on schedule (`ClusterJobs` on an
 * Effect Cluster whose storage is the same PostgreSQL), logs each run's summary, and stops cleanly
 * on SIGTERM: the notification in flight is finished or rolled back (engine/Message keeps each one
 * uninterruptible), the run stops there, its slot is recorded interrupted and its tick stays
 * unanswered in storage, so it runs again when a runner next holds it.
 *
 * Alone it is a single runner. With `PRONTO_NOTIFY_RUNNER=host:port` and the runners' shared
 * secret (`PRONTO_NOTIFY_RUNNER_SECRET`) it is an HTTP runner that listens there only, takes only
 * requests carrying the secret, and shares the cluster with every other runner on the same
 * database: shards, and with them the crons, move to the survivors when one dies.
 *
 * With `PRONTO_NOTIFY_METRICS` it answers monitoring there (observability/Monitoring: the metrics,
 * liveness, readiness) and samples the database's gauges; with `OTEL_EXPORTER_OTLP_ENDPOINT` it
 * sends its traces there over OTLP/HTTP.
 */
import { Command } from "@effect/cli"
import type { HttpServerError } from "@effect/platform"
import { RunnerAddress } from "@effect/cluster"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import * as Deployment from "../config/Deployment.ts"
import * as HttpUrl from "../config/HttpUrl.ts"
import * as SiteSender from "../delivery/SiteSender.ts"
import { Kinds } from "../kinds/Kinds.ts"
import * as Address from "../observability/Address.ts"
import * as Health from "../observability/Health.ts"
import * as Cluster from "../scheduling/Cluster.ts"
import * as ClusterJobs from "../scheduling/ClusterJobs.ts"
import { nextSlot, scheduleOf } from "../scheduling/Schedule.ts"
import { BadInput, businessTimeZone, libraryLayer } from "./Common.ts"

const RUNNER_ADDRESS = /^([^:\s]+):(\d{1,5})$/

/** `PRONTO_NOTIFY_RUNNER=host:port` and its secret: join a multi-runner cluster as a runner at that address. */
const runnerOf = Effect.gen(function*() {
  const text = yield* Effect.orDie(Deployment.runnerAddress)
  if (Option.isNone(text)) return Option.none<Cluster.Runner>()
  const match = RUNNER_ADDRESS.exec(text.value)
  const port = match ? Number(match[2]) : 0
  if (!match || port < 1 || port > 65535) {
    return yield* new BadInput({
      message: `PRONTO_NOTIFY_RUNNER "${text.value}" is not host:port, e.g. 10.0.0.5:34431 (the address other runners reach this one at)`
    })
  }
  const secret = yield* Effect.orDie(Deployment.runnerSecret)
  if (Option.isNone(secret) || Redacted.value(secret.value).length < Cluster.MIN_SECRET_LENGTH) {
    return yield* new BadInput({
      message: `PRONTO_NOTIFY_RUNNER needs PRONTO_NOTIFY_RUNNER_SECRET: the secret every runner shares, ${Cluster.MIN_SECRET_LENGTH} characters or more`
    })
  }
  return Option.some<Cluster.Runner>({ address: RunnerAddress.make(match[1]!, port), secret: secret.value })
})

/** `PRONTO_NOTIFY_METRICS`: where the monitoring endpoints listen, if anywhere. */
const monitoringOf = Effect.flatMap(Effect.orDie(Deployment.metricsAddress), (text) =>
  Option.match(text, {
    onNone: () => Effect.succeed(Option.none<Address.Address>()),
    onSome: (t) =>
      Address.parseAddress("PRONTO_NOTIFY_METRICS", t).pipe(
        Effect.map(Option.some),
        Effect.mapError((error) => new BadInput({ message: error.message }))
      )
  }))

/**
 * The monitoring modules, loaded only when a setting asks for them, so that the other commands (and
 * serve without them) load no HTTP server or OpenTelemetry package; a missing one is named.
 */
const load = <A>(setting: string, module: () => Promise<A>) =>
  Effect.tryPromise({
    try: module,
    catch: (error) =>
      new BadInput({
        message: `${setting} needs the OpenTelemetry packages, which are not all installed (${
          String(error instanceof Error ? error.message : error).split("\n")[0]
        }): see the install line in docs/operator.md`
      })
  })

/** `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`: where traces go, if anywhere; an http(s) URL without a password. */
const tracesOf = Effect.flatMap(Effect.orDie(Deployment.otlpTracesUrl), (url) =>
  Option.match(Option.flatMap(url, (u) =>
    HttpUrl.problem(u, {
      name: "OTEL_EXPORTER_OTLP_ENDPOINT",
      what: "the OTLP/HTTP collector's URL",
      example: "http://127.0.0.1:4318",
      secretInstead: "give a collector's token in OTEL_EXPORTER_OTLP_HEADERS instead"
    })), {
    onNone: () => Effect.succeed(url),
    onSome: (message) => new BadInput({ message })
  }))

/** A server that could not listen where `setting` said (the port taken, say), in one line. */
const cannotListen = (setting: string, address: { readonly host: string; readonly port: number }) => (error: HttpServerError.ServeError) => {
  const cause = error.cause instanceof Error ? error.cause.message : String(error.cause)
  return new BadInput({ message: `${setting}: cannot listen at ${address.host}:${address.port} (${cause.split("\n")[0]})` })
}

/** Runs every job on schedule until interrupted (SIGTERM, SIGINT). */
export const serve = Effect.gen(function*() {
  // Every input is checked before anything starts.
  const zone = yield* businessTimeZone
  const site = yield* SiteSender.siteConfig.pipe(
    // The reason (SITE_URL missing, not an http(s) URL, SITE_KEY missing) is kept.
    Effect.mapError((error) => new BadInput({ message: `serve sends messages through the Site: ${error.message}` }))
  )
  const runner = yield* runnerOf
  const monitoring = yield* monitoringOf
  const traces = yield* tracesOf
  const monitoringModule = Option.isSome(monitoring)
    ? Option.some(yield* load("PRONTO_NOTIFY_METRICS", () => import("../observability/Monitoring.ts")))
    : Option.none()
  const tracing = Option.isSome(traces)
    ? Option.some((yield* load("OTEL_EXPORTER_OTLP_ENDPOINT", () => import("../observability/Otel.ts"))).layerOtlp(traces.value))
    : Option.none()

  const jobs = ClusterJobs.layer.pipe(
    Layer.provide(Cluster.layer(runner).pipe(
      Layer.mapError((error) =>
        error._tag === "ServeError" && Option.isSome(runner) ? cannotListen("PRONTO_NOTIFY_RUNNER", runner.value.address)(error) : error
      )
    )),
    Layer.provide(SiteSender.layer(site))
  )
  // Ready when the database answers, the migrations are applied and the cluster's shards are held.
  const endpoints = Option.match(Option.all([monitoring, monitoringModule]), {
    onNone: () => Layer.empty,
    onSome: ([address, M]) =>
      M.serve(address, { checks: [...Health.standard, Cluster.shardsCheck] }).pipe(
        Layer.mapError(cannotListen("PRONTO_NOTIFY_METRICS", address))
      )
  })

  return yield* Effect.gen(function*() {
    const now = yield* DateTime.now
    yield* Effect.logInfo(
      `pronto-notify serve: ${Option.match(runner, { onNone: () => "single runner", onSome: ({ address: a }) => `runner ${a.host}:${a.port}` })}, ` +
        `business time zone ${zone.name}, now ${DateTime.formatIso(now)}; next: ` +
        scheduleOf(yield* Kinds).map((e) => `${e.job} ${DateTime.formatIso(nextSlot(e, now, zone.zone))}`).join(", ") +
        Option.match(monitoring, { onNone: () => "", onSome: (a) => `; monitoring at http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}` }) +
        Option.match(traces, { onNone: () => "", onSome: (url) => `; traces to ${HttpUrl.describe(url)}` })
    )
    return yield* Layer.launch(Layer.merge(jobs, endpoints))
  }).pipe(
    Effect.provide(libraryLayer(zone)),
    Effect.provide(Option.getOrElse(tracing, () => Layer.empty))
  )
})

export const command = Command.make("serve", {}, () => serve).pipe(
  Command.withDescription(
    "run every job on schedule until SIGTERM (PRONTO_NOTIFY_RUNNER=host:port and PRONTO_NOTIFY_RUNNER_SECRET to run as one of several runners; " +
      "PRONTO_NOTIFY_METRICS=port or host:port for /metrics and /health/*; OTEL_EXPORTER_OTLP_ENDPOINT to send traces)"
  )
)
