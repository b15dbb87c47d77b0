/**
 * The library's metrics and spans handed to OpenTelemetry, through `@effect/opentelemetry`: the
 * metrics to a Prometheus reader that serves no port of its own (`Prometheus.scrape` gives its
 * text, for `Monitoring`'s `/metrics`), and the spans to an OTLP/HTTP exporter when an endpoint is
 * given. Only `@opentelemetry/sdk-trace-base` and `sdk-metrics` are loaded: no Node SDK, no
 * instrumentation of anything but what Effect records.
 */
import * as EffectMetrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import * as Tracer from "@effect/opentelemetry/Tracer"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Context, Effect, Layer, Option, Tracer as EffectTracer } from "effect"
import * as Deployment from "../config/Deployment.ts"

/** The service name when `OTEL_SERVICE_NAME` does not give one. */
export const SERVICE_NAME = "pronto-notify"

/** The OpenTelemetry resource: `OTEL_SERVICE_NAME`, else `pronto-notify`. */
export const resource: Layer.Layer<Resource.Resource> = Layer.unwrapEffect(
  Effect.map(
    Effect.orDie(Deployment.otelServiceName),
    (name) => Resource.layer({ serviceName: Option.getOrElse(name, () => SERVICE_NAME) })
  )
)

/** The metrics in Prometheus' text format, as of now. */
export class Prometheus extends Context.Tag("@pronto/notify/Prometheus")<Prometheus, {
  readonly scrape: Effect.Effect<string>
}>() {}

/**
 * Every Effect metric of the process (the library's, and @effect/cluster's) read by a Prometheus
 * reader on each scrape. One per process: a host that has its own OpenTelemetry set-up reads the
 * same metrics through its own reader instead (examples/host-observability.ts).
 */
export const layerPrometheus: Layer.Layer<Prometheus> = Layer.unwrapScoped(Effect.sync(() => {
  const reader = new PrometheusExporter({ preventServerStart: true })
  // No per-series scope label: every series here comes from the one producer.
  const serializer = new PrometheusSerializer("", false, undefined, false, true)
  const scrape = Effect.map(
    Effect.promise(() => reader.collect()),
    ({ resourceMetrics }) => serializer.serialize(resourceMetrics)
  )
  return Layer.succeed(Prometheus, Prometheus.of({ scrape })).pipe(
    Layer.provideMerge(EffectMetrics.layer(() => reader)),
    Layer.provide(resource)
  )
}))

/**
 * Effect's spans as OpenTelemetry's, parented by Effect's own context. `@effect/opentelemetry`'s
 * tracer also makes each span OpenTelemetry's active context whenever a fiber resumes, for
 * OpenTelemetry's auto-instrumentations, which nothing here uses; that costs the engine a fifth
 * of its CPU (bench P7), so this one leaves it out.
 */
const effectTracer: Layer.Layer<never, never, Tracer.OtelTracer> = Layer.unwrapEffect(
  Effect.map(Tracer.make, (otel) =>
    Layer.setTracer(EffectTracer.make({
      span: (name, parent, context, links, startTime, kind, options) =>
        otel.span(name, parent, context, links, startTime, kind, options),
      context: (execution) => execution()
    })))
)

/**
 * Spans through these processors, ended ones flushed when the layer closes: a host's test gives an
 * `InMemorySpanExporter` in a `SimpleSpanProcessor`; `layerOtlp` sends them.
 */
export const layerTracer = (processors: ReadonlyArray<SpanProcessor>): Layer.Layer<never> =>
  effectTracer.pipe(
    Layer.provide(Tracer.layerTracer),
    Layer.provide(Layer.scoped(
      Tracer.OtelTracerProvider,
      Effect.acquireRelease(
        Effect.sync(() => new BasicTracerProvider({ spanProcessors: [...processors] })),
        (provider) => Effect.ignore(Effect.promise(() => provider.forceFlush().then(() => provider.shutdown())))
      )
    )),
    Layer.provide(resource)
  )

/** Spans sent in batches over OTLP/HTTP (JSON) to `url`, e.g. `http://127.0.0.1:4318/v1/traces`. */
export const layerOtlp = (url: string): Layer.Layer<never> =>
  Layer.unwrapEffect(Effect.sync(() => layerTracer([new BatchSpanProcessor(new OTLPTraceExporter({ url }))])))
