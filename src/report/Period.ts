/**
 * The report's period: the bounds of `sent_at` as given on the command line, and the period as an
 * SQL condition for the report's statements.
 */
import type { SqlClient, Statement } from "@effect/sql"
import { DateTime, Effect, Option, Schema } from "effect"
import { BusinessTimeZone, formatLocalDate, localDate } from "../time/BusinessTime.ts"
import { parseIsoInstant } from "../time/Instant.ts"

export class InvalidReportPeriod extends Schema.TaggedError<InvalidReportPeriod>()("InvalidReportPeriod", {
  message: Schema.String
}) {}

/**
 * A period bound as given on the command line: an ISO-8601 instant with its offset, or a date
 * `YYYY-MM-DD` meaning the start of that day in the business time zone.
 */
export const parseBound = (
  option: string,
  text: string
): Effect.Effect<DateTime.Utc, InvalidReportPeriod, BusinessTimeZone> =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTimeZone
    const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim())
    const parsed = date
      ? Option.map(
        DateTime.makeZoned({ year: Number(date[1]), month: Number(date[2]), day: Number(date[3]) }, {
          timeZone: zone,
          adjustForTimeZone: true
        }),
        DateTime.toUtc
      ).pipe(Option.filter((at) => formatLocalDate(localDate(at, zone)) === text.trim()))
      : parseIsoInstant(text)
    return yield* Option.match(parsed, {
      onNone: () =>
        Effect.fail(
          new InvalidReportPeriod({
            message: `--${option} "${text}" is neither a date (2026-03-01) nor an ISO-8601 instant with an offset ` +
              `(2026-03-01T09:00:00Z)`
          })
        ),
      onSome: Effect.succeed
    })
  })

export interface Period {
  readonly from?: DateTime.Utc | undefined
  readonly to?: DateTime.Utc | undefined
}

/** The condition that a timestamp column lies in the period. */
export type InPeriod = (column: string) => Statement.Fragment

/** The period as an SQL condition on a column: [from, to), either end open. */
export const inPeriodOf = (sql: SqlClient.SqlClient, period: Period): InPeriod => {
  const from = period.from === undefined ? null : DateTime.toDateUtc(period.from)
  const to = period.to === undefined ? null : DateTime.toDateUtc(period.to)
  return (column) =>
    sql.and([
      from === null ? sql`true` : sql`${sql(column)} >= ${from}`,
      to === null ? sql`true` : sql`${sql(column)} < ${to}`
    ])
}
