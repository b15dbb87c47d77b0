/**
 * What several commands share: parsing instants into one-line errors, the database (and, for the
 * embedded default, its schema), the business time zone, and output.
 */
import { Options } from "@effect/cli"
import * as SqlClient from "@effect/sql/SqlClient"
import { Console, DateTime, Effect, Layer, Option, Schema } from "effect"
import * as BonusLedger from "../bonus/BonusLedger.ts"
import type { BonusServer } from "../bonus/BonusServer.ts"
import * as BonusServerHttp from "../bonus/BonusServerHttp.ts"
import * as Deployment from "../config/Deployment.ts"
import { DEFAULT_IN_FLIGHT, InFlight, InvalidInFlight, poolSizeFor } from "../delivery/InFlight.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { parseIsoInstant } from "../time/Instant.ts"
import * as Database from "../database/Database.ts"
import { installReferenceHostSchema } from "../host/HostSchema.ts"
import { migrate } from "../migrations/Migrations.ts"
import * as ProntoNotify from "../host/ProntoNotify.ts"

/** A command-line input that cannot be used; the message says what to fix. */
export class BadInput extends Schema.TaggedError<BadInput>()("BadInput", { message: Schema.String }) {}

export class SchemaMissing extends Schema.TaggedError<SchemaMissing>()("SchemaMissing", {}) {
  override get message() {
    return "the database has no pronto_notify tables: run `pronto-notify migrate` first"
  }
}

/** A command-line instant; see `parseIsoInstant`. */
export const parseInstant = (flag: string, text: string): Effect.Effect<DateTime.Utc, BadInput> =>
  Option.match(parseIsoInstant(text), {
    onNone: () =>
      Effect.fail(
        new BadInput({
          message: `${flag} "${text}" is not an ISO-8601 instant with an offset, e.g. 2026-03-01T12:00:00+03:00`
        })
      ),
    onSome: Effect.succeed
  })

export const parseOptionalInstant = (flag: string, text: Option.Option<string>) =>
  Option.match(text, {
    onNone: () => Effect.succeed(Option.none<DateTime.Utc>()),
    onSome: (t) => Effect.map(parseInstant(flag, t), Option.some)
  })

/** SITE_IN_FLIGHT, validated. */
export const inFlight: Effect.Effect<number, InvalidInFlight> = Effect.flatMap(
  Effect.orDie(Deployment.siteInFlight),
  Option.match({
    onNone: () => Effect.succeed(DEFAULT_IN_FLIGHT),
    onSome: (text) => (/^\d+$/.test(text) ? InFlight.make(Number(text)) : Effect.fail(new InvalidInFlight({ value: text, setting: "SITE_IN_FLIGHT" })))
  })
)

/**
 * The pool of the command line: a run holds `poolSizeFor(inFlight)` connections; serve's jobs may
 * run at once, and the scheduler holds its locks.
 */
const poolFor = (n: number) => ({ maxConnections: Math.max(16, poolSizeFor(n) + 4) })

/** NOTIFY_TIME_ZONE, validated before anything else happens. */
export const businessTimeZone = Effect.flatMap(Effect.orDie(Deployment.timeZone), BusinessTimeZone.make)

/**
 * The host's bonus server: its HTTP API at `BONUS_SERVER_URL` (deployment configuration: where the
 * bonus server runs), or by default the SQL ledger beside the library's tables.
 */
const bonusServerLayer = (access: Access) =>
  Effect.map(
    Effect.orDie(Effect.all([Deployment.bonusServerUrl, Deployment.bonusServerToken])),
    ([url, token]) =>
      Option.match(url, {
        onNone: () => BonusLedger.layer,
        onSome: (baseUrl): Layer.Layer<BonusServer, never, SqlClient.SqlClient> =>
          // The URL was checked as the setting was read: the layer cannot refuse it.
          Layer.orDie(BonusServerHttp.layer({
            baseUrl,
            ...(Option.isSome(token) ? { token: token.value } : {}),
            deliver: access === "read-write"
          }))
      })
  )

/** A read-only command (a dry run, the messages, the report) must not deliver queued accruals. */
export type Access = "read-only" | "read-write"

const usesEmbedded = Effect.map(Effect.orDie(Deployment.databaseUrl), Option.isNone)

/**
 * The library over the configured database. The embedded default is the library's own private
 * cluster, so it gets the reference host schema and the migrations on the way; a DATABASE_URL
 * must have been migrated (`pronto-notify migrate`).
 */
export const libraryLayer = (zone: BusinessTimeZone["Type"], access: Access = "read-write") =>
  Layer.unwrapEffect(
    Effect.map(Effect.all([usesEmbedded, bonusServerLayer(access), inFlight]), ([embedded, bonusServer, n]) => {
      const prepare = embedded
        ? Effect.zipRight(installReferenceHostSchema, migrate).pipe(Effect.orDie)
        : Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ present: boolean }>`SELECT to_regclass('pronto_notify.notifications') IS NOT NULL AS present`.pipe(
            Effect.orDie,
            Effect.flatMap((rows) => (rows[0]?.present ? Effect.void : Effect.fail(new SchemaMissing())))
          ))
      return Layer.effectDiscard(prepare).pipe(
        Layer.provideMerge(
          Layer.mergeAll(
            ProntoNotify.layer({ timeZone: zone.name, bonusServer, inFlight: n }),
            Layer.succeed(BusinessTimeZone, zone)
          )
        ),
        Layer.provideMerge(Database.layer(undefined, poolFor(n)))
      )
    })
  )

/** Runs a program over the configured database, once the time zone is known to be valid. */
export const withLibrary = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.flatMap(businessTimeZone, (zone) => Effect.provide(program, libraryLayer(zone)))

export const printJson = (value: unknown) => Console.log(JSON.stringify(value))

/** `--json` of `run` and `messages`. */
export const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of text"))
