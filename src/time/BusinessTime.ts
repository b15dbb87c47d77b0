/**
 * The chain's business time zone (C1). Every date rule (day, month, year, birthday, "N days ago")
 * is evaluated here, never in the database server's or the process's own zone.
 */
import { Context, DateTime, Effect, Layer, Option, Schema } from "effect"
import * as Deployment from "../config/Deployment.ts"

export const DEFAULT_TIME_ZONE = Deployment.DEFAULT_TIME_ZONE

export class InvalidTimeZone extends Schema.TaggedError<InvalidTimeZone>()("InvalidTimeZone", {
  zone: Schema.String,
  /** Where the value came from: the option in code (`timeZone`) or the environment variable (`NOTIFY_TIME_ZONE`). */
  setting: Schema.String
}) {
  override get message() {
    return `${this.setting} "${this.zone}" is not an IANA time zone name (for example Europe/Moscow)`
  }
}

export class BusinessTimeZone extends Context.Tag("pronto-notify/BusinessTimeZone")<
  BusinessTimeZone,
  { readonly name: string; readonly zone: DateTime.TimeZone.Named }
>() {
  /** The zone named `name`; `setting` says where the name came from, for the error. */
  static readonly make = (name: string, setting = "NOTIFY_TIME_ZONE"): Effect.Effect<BusinessTimeZone["Type"], InvalidTimeZone> =>
    Option.match(DateTime.zoneMakeNamed(name), {
      onNone: () => Effect.fail(new InvalidTimeZone({ zone: name, setting })),
      onSome: (zone) => Effect.succeed({ name: zone.id, zone })
    })

  static readonly layer = (name: string = DEFAULT_TIME_ZONE, setting = "timeZone") =>
    Layer.effect(BusinessTimeZone, BusinessTimeZone.make(name, setting))

  /** From `NOTIFY_TIME_ZONE`, default Europe/Moscow. */
  static readonly layerConfig = Layer.effect(
    BusinessTimeZone,
    Effect.flatMap(Effect.orDie(Deployment.timeZone), BusinessTimeZone.make)
  )
}

/** A calendar date in the business zone. */
export interface LocalDate {
  readonly year: number
  readonly month: number
  readonly day: number
}

export const localParts = (at: DateTime.DateTime, zone: DateTime.TimeZone): DateTime.DateTime.PartsWithWeekday =>
  DateTime.toParts(DateTime.setZone(at, zone))

export const localDate = (at: DateTime.DateTime, zone: DateTime.TimeZone): LocalDate => {
  const { day, month, year } = localParts(at, zone)
  return { year, month, day }
}

export const formatLocalDate = (d: LocalDate): string =>
  `${String(d.year).padStart(4, "0")}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`
