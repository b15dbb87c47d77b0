/**
 * Phone numbers as the Site accepts them: 11 digits starting with 8.
 */
import { Option } from "effect"

/**
 * Digits only; 10 digits starting with 9 get a leading 8; 11 digits starting with 7 or 8 are sent
 * with a leading 8; anything else cannot be sent.
 */
export const normalizePhone = (raw: string): Option.Option<string> => {
  const digits = raw.replace(/\D/g, "")
  if (digits.length === 10 && digits.startsWith("9")) return Option.some(`8${digits}`)
  if (digits.length === 11 && (digits.startsWith("7") || digits.startsWith("8"))) return Option.some(`8${digits.slice(1)}`)
  return Option.none()
}

/** At most this many hidden digits are shown as stars: a mask has a bounded length, however long the input. */
const MAX_STARS = 9

/**
 * For logs: the first four and the last two digits, the rest hidden (`8909*****49`); a longer
 * number shows at most 9 stars and then how many digits it has, so a line never grows with it.
 */
export const maskPhone = (raw: string): string => {
  const digits = raw.replace(/\D/g, "")
  if (digits.length <= 6) return "*".repeat(digits.length)
  const hidden = digits.length - 6
  return hidden <= MAX_STARS
    ? `${digits.slice(0, 4)}${"*".repeat(hidden)}${digits.slice(-2)}`
    : `${digits.slice(0, 4)}${"*".repeat(MAX_STARS)}…${digits.slice(-2)} (${digits.length} digits)`
}
