/**
 * The deployment configuration (C12), the only settings there are, each read here and only here
 * through Effect `Config` (from the environment unless a host provides its own ConfigProvider).
 * None changes business behaviour: where the database, the Site and the bonus server are, the
 * Site's key, the business time zone, and for `serve` the address of this runner.
 */
import { Config, ConfigError, Duration, Either, Option, Redacted } from "effect"
import { DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT } from "../delivery/InFlight.ts"
import * as HttpUrl from "./HttpUrl.ts"

/** The business time zone when none is configured (C1). */
export const DEFAULT_TIME_ZONE = "Europe/Moscow"

/** A setting that may be absent; a blank value counts as absent. */
const optional = (name: string): Config.Config<Option.Option<string>> =>
  Config.string(name).pipe(
    Config.option,
    Config.map((value) => Option.filter(Option.map(value, (v) => v.trim()), (v) => v !== ""))
  )

/** What each setting is, for the command line's help and README. */
export const SETTINGS = [
  {
    name: "DATABASE_URL",
    meaning: "PostgreSQL, e.g. postgres://user:password@host:5432/db (absent: an embedded server, for trying it out)"
  },
  { name: "SITE_URL", meaning: "the Site's http(s) URL, e.g. https://www.pronto24.ru (needed to send)" },
  { name: "SITE_KEY", meaning: "the Site's key (secret; needed to send)" },
  {
    name: "SITE_IN_FLIGHT",
    meaning: `how many messages go to the Site at once, its capacity: 1 to ${MAX_IN_FLIGHT} (default ${DEFAULT_IN_FLIGHT}); ` +
      "a run holds that many database connections and one more per 16, and one for its pages"
  },
  {
    name: "DATABASE_TIMEOUT",
    meaning: "how long one database statement may run, e.g. 60s (the default) or 2m; the client gives a connection up a " +
      "little after that, so no run waits forever on a database that went away"
  },
  { name: "NOTIFY_TIME_ZONE", meaning: `the business time zone, an IANA name (default ${DEFAULT_TIME_ZONE})` },
  { name: "BONUS_SERVER_URL", meaning: "the bonus server's HTTP API (absent: the SQL ledger in the same database)" },
  { name: "BONUS_SERVER_TOKEN", meaning: "the bearer token the bonus server's API knows this process by (secret)" },
  { name: "PRONTO_NOTIFY_RUNNER", meaning: "for serve: host:port of this runner when several share the database" },
  {
    name: "PRONTO_NOTIFY_RUNNER_SECRET",
    meaning: "for serve with PRONTO_NOTIFY_RUNNER: the secret every runner of the cluster shares, 16 characters or more"
  },
  {
    name: "PRONTO_NOTIFY_METRICS",
    meaning: "for serve: where to answer GET /metrics (Prometheus' text format), /health/live and /health/ready: a port " +
      "(on 127.0.0.1) or host:port, e.g. 9464 (absent: not served)"
  },
  {
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    meaning: "for serve: send traces over OTLP/HTTP there, e.g. http://127.0.0.1:4318 (OpenTelemetry's own setting; " +
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS and OTEL_SERVICE_NAME are read too; absent: no traces sent)"
  },
  {
    name: "PRONTO_NOTIFY_LOG_FORMAT",
    meaning: "text (the default: key=value lines) or json (one JSON object per line, with the run, job and kind it belongs to)"
  }
] as const

export const databaseUrl: Config.Config<Option.Option<Redacted.Redacted<string>>> = optional("DATABASE_URL").pipe(
  Config.map(Option.map(Redacted.make))
)
export const siteUrl = optional("SITE_URL")
export const siteKey: Config.Config<Option.Option<Redacted.Redacted<string>>> = optional("SITE_KEY").pipe(
  Config.map(Option.map(Redacted.make))
)
export const timeZone: Config.Config<string> = optional("NOTIFY_TIME_ZONE").pipe(
  Config.map(Option.getOrElse(() => DEFAULT_TIME_ZONE))
)
export const siteInFlight = optional("SITE_IN_FLIGHT")
/** How an error names a bonus server URL setting (`BONUS_SERVER_URL`, or an option in code). */
export const bonusServerUrlSetting = (name: string): HttpUrl.Setting => ({
  name,
  what: "the bonus server's http(s) URL",
  example: "https://bonus.example.com",
  secretInstead: `give its token as a secret instead (${name === "BONUS_SERVER_URL" ? "BONUS_SERVER_TOKEN" : "token"})`
})

/** `BONUS_SERVER_URL`: an http(s) URL without a user or password. */
export const bonusServerUrl: Config.Config<Option.Option<string>> = optional("BONUS_SERVER_URL").pipe(
  Config.mapOrFail(Option.match({
    onNone: () => Either.right(Option.none()),
    onSome: (url) =>
      Option.match(HttpUrl.problem(url, bonusServerUrlSetting("BONUS_SERVER_URL")), {
        onNone: () => Either.right(Option.some(url)),
        onSome: (problem) => Either.left(ConfigError.InvalidData([], problem))
      })
  }))
)
export const bonusServerToken: Config.Config<Option.Option<Redacted.Redacted<string>>> = optional("BONUS_SERVER_TOKEN").pipe(
  Config.map(Option.map(Redacted.make))
)
export const runnerAddress = optional("PRONTO_NOTIFY_RUNNER")
/** `PRONTO_NOTIFY_METRICS`: where serve answers monitoring (checked by `Monitoring.parseAddress`). */
export const metricsAddress = optional("PRONTO_NOTIFY_METRICS")

/**
 * Where serve's traces go, as OpenTelemetry names it: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given,
 * else `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces`; none when neither is set.
 */
export const otlpTracesUrl: Config.Config<Option.Option<string>> = Config.all([
  optional("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
  optional("OTEL_EXPORTER_OTLP_ENDPOINT")
]).pipe(Config.map(([traces, base]) => Option.orElse(traces, () => Option.map(base, (b) => `${b.replace(/\/+$/, "")}/v1/traces`))))

/** `OTEL_SERVICE_NAME`: the service name on exported spans and metrics (OpenTelemetry's own setting). */
export const otelServiceName = optional("OTEL_SERVICE_NAME")

/** `PRONTO_NOTIFY_LOG_FORMAT`: how log lines are written. */
export type LogFormat = "text" | "json"
export const logFormat: Config.Config<LogFormat> = optional("PRONTO_NOTIFY_LOG_FORMAT").pipe(
  Config.mapOrFail(Option.match({
    onNone: () => Either.right<LogFormat>("text"),
    onSome: (text) =>
      text === "text" || text === "json"
        ? Either.right<LogFormat>(text)
        : Either.left(ConfigError.InvalidData([], `PRONTO_NOTIFY_LOG_FORMAT "${text}" is neither text nor json`))
  }))
)
export const runnerSecret: Config.Config<Option.Option<Redacted.Redacted<string>>> = optional("PRONTO_NOTIFY_RUNNER_SECRET").pipe(
  Config.map(Option.map(Redacted.make))
)

/** `DATABASE_TIMEOUT`: a duration (`60s`, `2m`, `1500 millis`). */
export const databaseTimeout: Config.Config<Option.Option<Duration.Duration>> = optional("DATABASE_TIMEOUT").pipe(
  Config.mapOrFail(Option.match({
    onNone: () => Either.right(Option.none()),
    onSome: (text) =>
      Option.match(durationOf(text), {
        onNone: () =>
          Either.left(ConfigError.InvalidData([], `DATABASE_TIMEOUT "${text}" is not a duration, e.g. 60s, 2m or 1500 millis`)),
        onSome: (d) => Either.right(Option.some(d))
      })
  }))
)

/** `60s`, `2m`, `1500ms` or Effect's own words (`1500 millis`, `2 minutes`); a positive duration. */
const durationOf = (text: string): Option.Option<Duration.Duration> => {
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/.exec(text)
  const decoded = short === null
    ? Duration.decodeUnknown(text)
    : Option.some(Duration.millis(Number(short[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[short[2] as "ms" | "s" | "m"]))
  return Option.filter(decoded, (d) => Duration.toMillis(d) > 0)
}
