/**
 * The deployment configuration (C12), the only settings there are, each read here and only here
 * through Effect `Config` (from the environment unless a host provides its own ConfigProvider).
 * None changes business behaviour: where the database, the Site and the bonus server are, the
 * Site's key, the business time zone, and for `serve` the address of this runner.
 */
import { Config, Option, Redacted } from "effect"
import { DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT } from "../delivery/InFlight.ts"

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
      "a run holds that many database connections and 2 more"
  },
  { name: "NOTIFY_TIME_ZONE", meaning: `the business time zone, an IANA name (default ${DEFAULT_TIME_ZONE})` },
  { name: "BONUS_SERVER_URL", meaning: "the bonus server's HTTP API (absent: the SQL ledger in the same database)" },
  { name: "PRONTO_NOTIFY_RUNNER", meaning: "for serve: host:port of this runner when several share the database" }
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
export const bonusServerUrl = optional("BONUS_SERVER_URL")
export const runnerAddress = optional("PRONTO_NOTIFY_RUNNER")
