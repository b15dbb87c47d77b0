/**
 * Values written into SQL text, for the one statement that travels with a COMMIT in a simple
 * query (which takes no parameters): exact and safe whatever the server's settings.
 */
import { DateTime } from "effect"

/**
 * A text value: an escape string (E'…'), whose backslashes and quotes are escaped, so that it reads
 * the same with standard_conforming_strings on or off.
 */
export const text = (value: string): string => `E'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`

/** An instant, to the microsecond, in UTC. */
export const instant = (at: DateTime.Utc): string => `'${DateTime.formatIso(at)}'::timestamptz`

/** A finite number. */
export const number = (value: number): string => {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)
  return `${value}::numeric`
}

/** An id of digits (a NotificationId, a ClientId). */
export const id = (value: string): string => {
  if (!/^\d+$/.test(value)) throw new RangeError("not an id of digits")
  return `${value}::bigint`
}
