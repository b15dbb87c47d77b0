/**
 * @pronto/notify/observability: what a process that serves shows a host's monitoring: the
 * metrics in Prometheus' text format and the health endpoints over HTTP (`Monitoring`), the
 * readiness checks (`Health`), and the metrics and spans handed to OpenTelemetry (`Otel`: a
 * Prometheus reader, OTLP traces). Needs `@effect/opentelemetry`, its OpenTelemetry packages and
 * `@effect/platform-node` beside the library's peers. The library records its metrics and spans
 * without it (`Metrics`, in the main entry).
 */
export * as Health from "./observability/Health.ts"
export * as Monitoring from "./observability/Monitoring.ts"
export * as Otel from "./observability/Otel.ts"
