/**
 * The chain's business time zone (C1). Every date rule (day, month, year, birthday, "N days ago")
 * is evaluated here, never in the database server's or the process's own zone.
 */
import { Context, DateTime, Effect, Layer, Option, Schema } from "effect"
import * as Deployment from "../config/Deployment.ts"

export const DEFAULT_TIME_ZONE = Deployment.DEFAULT_TIME_ZONE

export class InvalidTimeZone extends Schema.TaggedError<InvalidTimeZone>()("InvalidTimeZone", {
  zone: Schema.String
}) {
  override get message() {
    return `NOTIFY_TIME_ZONE "${this.zone}" is not an IANA time zone name (for example Europe/Moscow)`
  }
}

export class BusinessTimeZone extends Context.Tag("pronto-notify/BusinessTimeZone")<
  BusinessTimeZone,
  { readonly name: string; readonly zone: DateTime.TimeZone.Named }
>() {
  static readonly make = (name: string): Effect.Effect<BusinessTimeZone["Type"], InvalidTimeZone> =>
    Option.match(DateTime.zoneMakeNamed(name), {
      onNone: () => Effect.fail(new InvalidTimeZone({ zone: name })),
      onSome: (zone) => Effect.succeed({ name: zone.id, zone })
    })

  static readonly layer = (name: string = DEFAULT_TIME_ZONE) => Layer.effect(BusinessTimeZone, BusinessTimeZone.make(name))

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

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/i

/**
 * An ISO-8601 instant with an offset (`Z` or `+03:00`; a bare local time would be ambiguous) that
 * exists: no 30 February, no 24:00 (a JS Date would quietly roll both over).
 */
export const parseIsoInstant = (text: string): Option.Option<DateTime.Utc> => {
  const m = ISO_INSTANT.exec(text.trim())
  if (m === null) return Option.none()
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) =>
    Number(m[i] ?? 0)
  ) as [number, number, number, number, number, number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day))
  const exists = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    hour <= 23 && minute <= 59 && second <= 59 && offsetHour <= 14 && offsetMinute <= 59
  return exists ? Option.map(DateTime.make(text.trim()), DateTime.toUtc) : Option.none()
}
