/**
 * The trend: each action's reaction rate per week of sending over the report's period, weeks
 * starting on Monday in the business time zone, from the weekly counts (WeeklyCounts.ts); a week
 * whose messages are still pending has a provisional rate.
 */
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

/** One group's, action's and week's counts (WeeklyCounts.ts), as the trend reads them. */
export interface WeekCounts {
  readonly action: number
  readonly week: string
  readonly sent: number
  readonly reacted: number
  readonly none: number
}

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
export const trendOf = (counts: ReadonlyArray<WeekCounts>, actions: ReadonlyArray<number>): Trend => {
  const rows = counts.filter((r) => r.sent > 0)
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
