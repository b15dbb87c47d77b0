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

/** For logs: the first four and the last two digits, the rest hidden. */
export const maskPhone = (raw: string): string => {
  const digits = raw.replace(/\D/g, "")
  if (digits.length <= 6) return "*".repeat(digits.length)
  return `${digits.slice(0, 4)}${"*".repeat(digits.length - 6)}${digits.slice(-2)}`
}
