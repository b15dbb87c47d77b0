/**
 * A host that exports the library's metrics and spans through its own OpenTelemetry set-up,
 * instead of `pronto-notify serve`'s: the library records them with Effect (`Metrics`, and a span
 * per slot, run, message, Site POST, reaction job and report), and `@effect/opentelemetry` hands
 * every Effect metric and span of the process to the host's SDK. Here the host's own Prometheus
 * exporter answers on :9464, its spans go over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT, e.g.
 * http://127.0.0.1:4318), the gauges that only the database knows are sampled by `Sampler.layer`,
 * and the host runs a feedback slot every minute in place of its planner.
 *
 *   DATABASE_URL=postgres://... SITE_URL=https://... SITE_KEY=... \
 *     OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npx tsx examples/host-observability.ts
 *   curl -s 127.0.0.1:9464/metrics | grep pronto_notify
 *
 * A host serving HTTP with @effect/platform can mount `Monitoring.layer()` from
 * `@pronto/notify/observability` in its own router instead, for /metrics and /health/*.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { NodeRuntime } from "@effect/platform-node"
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { ProntoNotify, Sampler, Scheduler, SiteSender } from "@pronto/notify"
import { Database } from "@pronto/notify/postgres"
import { Effect, Layer, Schedule } from "effect"

/** The host's own OpenTelemetry SDK: every Effect metric and span of the process goes through it. */
const Telemetry = NodeSdk.layer(() => ({
  resource: { serviceName: "jupiter" },
  // Its own /metrics at 127.0.0.1:9464, the library's series beside the host's.
  metricReader: new PrometheusExporter({ host: "127.0.0.1", port: 9464 }),
  // Reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS) itself.
  spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter())
}))

const Notify = Layer.mergeAll(ProntoNotify.layer(), SiteSender.layerConfig).pipe(Layer.provideMerge(Database.layer()))

const program = Scheduler.runLatestRetrying("feedback").pipe(
  Effect.repeat(Schedule.spaced("1 minute")),
  Effect.asVoid
)

// The sampler needs the library's database and time zone, as the jobs do.
NodeRuntime.runMain(
  program.pipe(
    Effect.provide(Sampler.layer().pipe(Layer.provideMerge(Notify))),
    Effect.provide(Telemetry)
  )
)
