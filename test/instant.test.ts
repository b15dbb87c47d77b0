import { describe, expect, it } from "@effect/vitest"
import { DateTime, Option } from "effect"
import { parseIsoInstant } from "../src/time/Instant.ts"

describe("ISO-8601 instants", () => {
  it.each([
    ["2026-03-01T12:00:00+03:00", "2026-03-01T09:00:00.000Z"],
    ["2026-03-01T12:00+0300", "2026-03-01T09:00:00.000Z"],
    ["2026-03-01T09:00:00.250Z", "2026-03-01T09:00:00.250Z"],
    ["2024-02-29T23:59:59Z", "2024-02-29T23:59:59.000Z"]
  ])("%s is %s", (text, iso) => {
    expect(Option.map(parseIsoInstant(text), DateTime.formatIso)).toEqual(Option.some(iso))
  })

  it.each([
    ["2026-02-30T12:00:00Z", "a day that does not exist"],
    ["2025-02-29T12:00:00Z", "29 February of a common year"],
    ["2026-03-01T24:00:00Z", "hour 24"],
    ["2026-03-01T12:60:00Z", "minute 60"],
    ["2026-13-01T12:00:00Z", "month 13"],
    ["2026-03-01T12:00:00", "no offset: ambiguous"],
    ["2026-03-01", "a date, not an instant"],
    ["10.03.2026 11:00", "not ISO-8601"],
    ["2026-03-01T12:00:00+15:00", "an offset beyond +14:00"]
  ])("%s is refused (%s)", (text) => {
    expect(parseIsoInstant(text)).toEqual(Option.none())
  })
})
