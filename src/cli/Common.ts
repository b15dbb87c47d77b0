/**
 * What every command shares: parsing instants and kinds into one-line errors, the database (and,
 * for the embedded default, its schema), the business time zone, and output.
 */
import { SqlClient } from "@effect/sql"
import { Config, Console, DateTime, Effect, Layer, Option, Schema } from "effect"
import * as BonusLedger from "../BonusLedger.ts"
import type { BonusServer } from "../BonusServer.ts"
import * as BonusServerHttp from "../BonusServerHttp.ts"
import { BusinessTimeZone } from "../BusinessTime.ts"
import * as Database from "../Database.ts"
import { installReferenceHostSchema } from "../HostSchema.ts"
import { migrate } from "../Migrations.ts"
import * as ProntoNotify from "../ProntoNotify.ts"

/** A command-line input that cannot be used; the message says what to fix. */
export class BadInput extends Schema.TaggedError<BadInput>()("BadInput", { message: Schema.String }) {}

export class SchemaMissing extends Schema.TaggedError<SchemaMissing>()("SchemaMissing", {}) {
  override get message() {
    return "the database has no pronto_notify tables: run `pronto-notify migrate` first"
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/

/** An ISO-8601 instant with an explicit offset (`Z` or `+03:00`): a bare local time is ambiguous. */
/** The calendar date as written exists (a Date would quietly turn 2026-02-30 into 2 March). */
const dateExists = (text: string) => {
  const [y, m, d] = text.slice(0, 10).split("-").map(Number) as [number, number, number]
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

export const parseInstant = (flag: string, text: string): Effect.Effect<DateTime.Utc, BadInput> => {
  const parsed = ISO_INSTANT.test(text) && dateExists(text) ? DateTime.make(text) : Option.none()
  return Option.match(parsed, {
    onNone: () =>
      Effect.fail(
        new BadInput({
          message: `${flag} "${text}" is not an ISO-8601 instant with an offset, e.g. 2026-03-01T12:00:00+03:00`
        })
      ),
    onSome: (at) => Effect.succeed(DateTime.toUtc(at))
  })
}

export const parseOptionalInstant = (flag: string, text: Option.Option<string>) =>
  Option.match(text, {
    onNone: () => Effect.succeed(Option.none<DateTime.Utc>()),
    onSome: (t) => Effect.map(parseInstant(flag, t), Option.some)
  })

/** NOTIFY_TIME_ZONE, validated before anything else happens. */
export const businessTimeZone = Effect.gen(function*() {
  const name = yield* Config.string("NOTIFY_TIME_ZONE").pipe(Config.withDefault("Europe/Moscow"), Effect.orDie)
  return yield* BusinessTimeZone.make(name)
})

/**
 * The host's bonus server: its HTTP API at `BONUS_SERVER_URL` (deployment configuration: where the
 * bonus server runs), or by default the SQL ledger beside the library's tables.
 */
const bonusServerLayer = Effect.map(
  Config.option(Config.string("BONUS_SERVER_URL")).pipe(Effect.orDie),
  (url) =>
    Option.match(Option.filter(url, (u) => u.trim() !== ""), {
      onNone: () => BonusLedger.layer,
      onSome: (baseUrl): Layer.Layer<BonusServer, never, SqlClient.SqlClient> => BonusServerHttp.layer({ baseUrl })
    })
)

const usesEmbedded = Config.option(Config.string("DATABASE_URL")).pipe(
  Effect.orDie,
  Effect.map((url) => Option.isNone(Option.filter(url, (u) => u.trim() !== "")))
)

/**
 * The library over the configured database. The embedded default is the library's own private
 * cluster, so it gets the reference host schema and the migrations on the way; a DATABASE_URL
 * must have been migrated (`pronto-notify migrate`).
 */
export const libraryLayer = (zone: BusinessTimeZone["Type"]) =>
  Layer.unwrapEffect(
    Effect.map(Effect.all([usesEmbedded, bonusServerLayer]), ([embedded, bonusServer]) => {
      const prepare = embedded
        ? Effect.zipRight(installReferenceHostSchema, migrate).pipe(Effect.orDie)
        : Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ present: boolean }>`SELECT to_regclass('pronto_notify.notifications') IS NOT NULL AS present`.pipe(
            Effect.orDie,
            Effect.flatMap((rows) => (rows[0]?.present ? Effect.void : Effect.fail(new SchemaMissing())))
          ))
      return Layer.effectDiscard(prepare).pipe(
        Layer.provideMerge(
          Layer.mergeAll(ProntoNotify.layer({ timeZone: zone.name, bonusServer }), Layer.succeed(BusinessTimeZone, zone))
        ),
        Layer.provideMerge(Database.layer())
      )
    })
  )

export const printJson = (value: unknown) => Console.log(JSON.stringify(value))
