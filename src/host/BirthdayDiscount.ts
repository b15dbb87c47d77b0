/**
 * The discount system's new condition (C9): 15% for an order placed in Jupiter when the client's
 * most recent birthday on or before the order's date (business time zone) was 0 to 7 days
 * before it, 29 February counting as 28 February in other years. The Site and the apps apply the
 * discount themselves, so their orders get nothing here.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { DateTime, Effect, Option, Schema } from "effect"
import * as Rows from "../store/Rows.ts"
import { BusinessTimeZone, type LocalDate, localDate } from "../time/BusinessTime.ts"
import type { OrderSource } from "./HostSchema.ts"
import { OrderNotFound } from "./Orders.ts"
import { type InvalidOrderUid, parseOrderUid } from "./OrderUid.ts"

export const DISCOUNT_PERCENT = 15
/** The discount applies from the birthday until this many days after it, inclusive. */
export const DAYS_AFTER_BIRTHDAY = 7
/** Only orders placed in Jupiter get the discount automatically. */
export const SOURCE: OrderSource = "jupiter"

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

/** The birthday's date in a given year (the same rule as SQL `pronto_notify.birthday_in_year`). */
export const birthdayInYear = (birthday: LocalDate, year: number): LocalDate =>
  birthday.month === 2 && birthday.day === 29 && !isLeapYear(year)
    ? { year, month: 2, day: 28 }
    : { year, month: birthday.month, day: birthday.day }

const dayNumber = (d: LocalDate) => Date.UTC(d.year, d.month - 1, d.day) / 86_400_000

/** Days from the most recent birthday on or before `date` to `date` (0 on the birthday itself). */
export const daysSinceBirthday = (birthday: LocalDate, date: LocalDate): number => {
  const thisYear = birthdayInYear(birthday, date.year)
  const recent = dayNumber(thisYear) <= dayNumber(date) ? thisYear : birthdayInYear(birthday, date.year - 1)
  return dayNumber(date) - dayNumber(recent)
}

/**
 * The discount for an order, in percent: `birthday` is the client's (`null` when not filled in),
 * `placedAt` the instant the order was placed, `zone` the business time zone.
 */
export const birthdayDiscount = (
  birthday: LocalDate | null,
  source: string,
  placedAt: DateTime.DateTime,
  zone: DateTime.TimeZone
): Option.Option<number> =>
  birthday !== null && source === SOURCE && daysSinceBirthday(birthday, localDate(placedAt, zone)) <= DAYS_AFTER_BIRTHDAY
    ? Option.some(DISCOUNT_PERCENT)
    : Option.none()

/** A `date` column as pg returns it (`YYYY-MM-DD`). */
const parseDate = (iso: string): LocalDate => {
  const [year, month, day] = iso.split("-").map(Number)
  return { year: year!, month: month!, day: day! }
}

/**
 * The discount for an order already in `jupiter.orders`, placed at its `created_at`, for its
 * client's birthday in `jupiter.clients`. None for an order without a client.
 */
const decodeOrder = Rows.decodeRows(Schema.Struct({
  source: Schema.String,
  placedAt: Rows.Instant,
  /** As text: a date parser would move it into the process's time zone. */
  birthday: Schema.NullOr(Schema.String)
}))

export const birthdayDiscountForOrder = (
  orderUid: string
): Effect.Effect<
  Option.Option<number>,
  InvalidOrderUid | OrderNotFound | SqlError.SqlError,
  SqlClient.SqlClient | BusinessTimeZone
> =>
  Effect.gen(function*() {
    const uid = yield* parseOrderUid(orderUid)
    const sql = yield* SqlClient.SqlClient
    const { zone } = yield* BusinessTimeZone
    const [order] = yield* sql`
      SELECT o.source, o.created_at AS "placedAt", c.birthday::text AS birthday
      FROM jupiter.orders o LEFT JOIN jupiter.clients c ON c.id = o.client_id
      WHERE o.uid = ${uid}::uuid
    `.pipe(Effect.flatMap(decodeOrder))
    if (order === undefined) return yield* Effect.fail(new OrderNotFound({ orderUid: uid }))
    return birthdayDiscount(
      order.birthday === null ? null : parseDate(order.birthday),
      order.source,
      DateTime.unsafeFromDate(order.placedAt),
      zone
    )
  })
