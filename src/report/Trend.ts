/**
 * The trend: each action's reaction rate per week of sending over the report's period, weeks
 * starting on Monday in the business time zone. Read in one set-based statement (counts per
 * group, action and week); a week whose messages are still pending has a provisional rate.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Rows from "../store/Rows.ts"
import type { InPeriod } from "./Period.ts"
import { type Interval, wilson } from "./Statistics.ts"

export interface TrendPoint {
  /** The week's Monday, a business-zone date (YYYY-MM-DD). */
  readonly week: string
  readonly sent: number
  readonly reacted: number
  readonly none: number
  /** Not yet decided: while there are some, the week's rate may still move. */
  readonly pending: number
  /** reacted / (reacted + none); null with nothing decided. */
  readonly rate: number | null
  /** 95% Wilson interval of the week's rate, each message counted as independent. */
  readonly interval: Interval | null
}

export interface ActionTrend {
  readonly action: number
  /** One point per week of `weeks`, in order. */
  readonly points: ReadonlyArray<TrendPoint>
}

export interface Trend {
  /** Every week from the group's first message in the period to its last, in order. */
  readonly weeks: ReadonlyArray<string>
  readonly actions: ReadonlyArray<ActionTrend>
}

const WeekRow = Schema.Struct({
  kind: Schema.String,
  actionSet: Schema.String,
  action: Rows.Int,
  week: Schema.String,
  sent: Rows.Int,
  reacted: Rows.Int,
  none: Rows.Int
})
export type WeekRow = typeof WeekRow.Type
const decode = Rows.decodeRows(WeekRow)

/** Messages sent in the period per group, action and business-zone week, with how they were decided. */
export const weeklyCounts = (
  ctx: { readonly inPeriod: InPeriod; readonly tz: string }
): Effect.Effect<ReadonlyArray<WeekRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql`
      SELECT kind, action_set AS "actionSet", performed_action::int AS action,
             to_char(date_trunc('week', sent_at AT TIME ZONE ${ctx.tz}), 'YYYY-MM-DD') AS week,
             count(*)::int AS sent,
             count(*) FILTER (WHERE reaction = 'reacted')::int AS reacted,
             count(*) FILTER (WHERE reaction = 'none')::int AS none
      FROM pronto_notify.notifications
      WHERE status = 'sent' AND ${ctx.inPeriod("sent_at")}
      GROUP BY 1, 2, 3, 4
    `.pipe(Effect.flatMap(decode))
  })

const DAY_MS = 86_400_000

/** The Mondays from the first week to the last, inclusive. */
const weeksBetween = (first: string, last: string): ReadonlyArray<string> => {
  const weeks: Array<string> = []
  for (let at = Date.parse(`${first}T00:00:00Z`); at <= Date.parse(`${last}T00:00:00Z`); at += 7 * DAY_MS) {
    weeks.push(new Date(at).toISOString().slice(0, 10))
  }
  return weeks
}

/** One group's trend from its weekly counts: a point for every week and action, empty weeks included. */
export const trendOf = (rows: ReadonlyArray<WeekRow>, actions: ReadonlyArray<number>): Trend => {
  const seen = rows.map((r) => r.week).sort()
  const weeks = seen.length === 0 ? [] : weeksBetween(seen[0]!, seen[seen.length - 1]!)
  return {
    weeks,
    actions: actions.map((action) => ({
      action,
      points: weeks.map((week): TrendPoint => {
        const row = rows.find((r) => r.action === action && r.week === week)
        const [sent, reacted, none] = [row?.sent ?? 0, row?.reacted ?? 0, row?.none ?? 0]
        return {
          week,
          sent,
          reacted,
          none,
          pending: sent - reacted - none,
          rate: reacted + none > 0 ? reacted / (reacted + none) : null,
          interval: wilson(reacted, reacted + none) ?? null
        }
      })
    }))
  }
}
