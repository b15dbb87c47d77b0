/**
 * Instants as people and other systems write them: ISO-8601 with an offset. The one parser.
 */
import { DateTime, Option } from "effect"

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
