import { describe, expect, it, layer } from "@effect/vitest"
import { DateTime, Effect, Option } from "effect"
import {
  birthdayDiscount,
  birthdayDiscountForOrder,
  DAYS_AFTER_BIRTHDAY,
  DISCOUNT_PERCENT
} from "../src/host/BirthdayDiscount.ts"
import { BusinessTimeZone } from "../src/time/BusinessTime.ts"
import { insertClient, insertOrder, instant } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const moscow = DateTime.zoneUnsafeMakeNamed("Europe/Moscow")
const date = (iso: string) => {
  const [year, month, day] = iso.split("-").map(Number)
  return { year: year!, month: month!, day: day! }
}
/** 12:00 in Moscow on a local date. */
const noon = (localDate: string) => instant(`${localDate}T09:00:00Z`)
const discount = (birthday: string | null, placed: DateTime.Utc, source = "jupiter") =>
  Option.getOrNull(birthdayDiscount(birthday === null ? null : date(birthday), source, placed, moscow))

describe("birthday discount, the pure rule (C9)", () => {
  it("is 15% from the birthday (0 days) to 7 days after it, not 8, not the day before", () => {
    expect(DISCOUNT_PERCENT).toBe(15)
    expect(DAYS_AFTER_BIRTHDAY).toBe(7)
    expect(discount("1990-03-10", noon("2026-03-09"))).toBeNull()
    expect(discount("1990-03-10", noon("2026-03-10"))).toBe(15)
    expect(discount("1990-03-10", noon("2026-03-17"))).toBe(15)
    expect(discount("1990-03-10", noon("2026-03-18"))).toBeNull()
  })

  it("counts across the new year: a 28 December birthday on 3 January", () => {
    expect(discount("1985-12-28", noon("2027-01-03"))).toBe(15)
    expect(discount("1985-12-28", noon("2027-01-05"))).toBeNull()
  })

  it("applies only to orders placed in Jupiter, and only with a birthday", () => {
    for (const source of ["site", "app", "new_app", "aggregator"]) {
      expect(discount("1990-03-10", noon("2026-03-10"), source)).toBeNull()
    }
    expect(discount(null, noon("2026-03-10"))).toBeNull()
  })

  it("29 February is 28 February in a non-leap year and itself in a leap year", () => {
    expect(discount("2000-02-29", noon("2027-02-27"))).toBeNull()
    expect(discount("2000-02-29", noon("2027-02-28"))).toBe(15)
    expect(discount("2000-02-29", noon("2027-03-07"))).toBe(15)
    expect(discount("2000-02-29", noon("2027-03-08"))).toBeNull()
    // 2028 is a leap year: 28 February is the day before the birthday.
    expect(discount("2000-02-29", noon("2028-02-28"))).toBeNull()
    expect(discount("2000-02-29", noon("2028-02-29"))).toBe(15)
    expect(discount("2000-02-29", noon("2028-03-07"))).toBe(15)
    expect(discount("2000-02-29", noon("2028-03-08"))).toBeNull()
  })

  it("uses the order's date in the business zone, not in UTC", () => {
    // 00:30 in Moscow on 10 March is still 9 March in UTC.
    expect(discount("1990-03-10", instant("2026-03-09T21:30:00Z"))).toBe(15)
    // 00:30 in Moscow on 18 March (8 days) is still 17 March in UTC.
    expect(discount("1990-03-10", instant("2026-03-17T21:30:00Z"))).toBeNull()
    // 23:30 in Moscow on 17 March: the last minute of the 7th day.
    expect(discount("1990-03-10", instant("2026-03-17T20:30:00Z"))).toBe(15)
  })
})

layer(Harness.layer, { timeout: "120 seconds" })("birthday discount for an order in the database", (it) => {
  it.effect("reads the order's source and placement time and the client's birthday", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const zone = yield* BusinessTimeZone
      expect(zone.name).toBe("Europe/Moscow")
      yield* insertClient({ id: 1, birthday: "1990-03-10" })
      yield* insertClient({ id: 2 })
      const placed = "2026-03-09T21:30:00Z" // 00:30 on 10 March in Moscow
      const jupiter = yield* insertOrder({ clientId: 1, source: "jupiter", status: "open", createdAt: placed })
      const site = yield* insertOrder({ clientId: 1, source: "site", status: "open", createdAt: placed })
      const late = yield* insertOrder({ clientId: 1, source: "jupiter", status: "open", createdAt: "2026-03-17T21:30:00Z" })
      const noBirthday = yield* insertOrder({ clientId: 2, source: "jupiter", status: "open", createdAt: placed })
      const noClient = yield* insertOrder({ clientId: null, source: "jupiter", status: "open", createdAt: placed })

      expect(yield* birthdayDiscountForOrder(jupiter)).toEqual(Option.some(15))
      expect(yield* birthdayDiscountForOrder(site)).toEqual(Option.none())
      expect(yield* birthdayDiscountForOrder(late)).toEqual(Option.none())
      expect(yield* birthdayDiscountForOrder(noBirthday)).toEqual(Option.none())
      expect(yield* birthdayDiscountForOrder(noClient)).toEqual(Option.none())
    }))

  it.effect("a missing or malformed order is a typed error", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const missing = yield* Effect.flip(birthdayDiscountForOrder("0b6f1c2e-8d4a-4f7e-9c51-2a3b4c5d6e7f"))
      expect(missing._tag).toBe("OrderNotFound")
      expect((yield* Effect.flip(birthdayDiscountForOrder("12345")))._tag).toBe("InvalidOrderUid")
    }))
})
