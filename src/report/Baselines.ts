/**
 * The observational baselines of the order kinds `invite` and `birthday`: how often comparable
 * clients closed an order within the reaction window at a time when no message was sent. No
 * holdout exists, so each is an estimate (see `OBSERVATIONAL_NOTE`, Report.ts). One query and one
 * method text per kind.
 */
import { SqlClient, type SqlError, type Statement } from "@effect/sql"
import { Effect } from "effect"
import * as Invite from "../kinds/Invite.ts"
import * as Reactions from "../reactions/Reactions.ts"
import type { Band } from "./Figures.ts"
import type { InPeriod } from "./Period.ts"
import { type Interval, wilson } from "./Statistics.ts"

/** A reaction counts within this many days after sending (C7); the baseline uses the same window. */
export const REACTION_WINDOW_DAYS = Reactions.WINDOW_DAYS
/** The invite baseline looks at this many weeks before the first invite. */
export const INVITE_BASELINE_WEEKS = 8

export interface Baseline {
  /** How it was computed, in words. */
  readonly method: string
  /** The reference days (business-zone dates, inclusive); null when there are none. */
  readonly days: { readonly from: string; readonly to: string } | null
  /** Comparable client situations observed (one per client and lapse, or client and birthday). */
  readonly observations: number
  /** Of those, how many placed a closed order within 14 days. */
  readonly ordered: number
  readonly rate: number | null
  readonly interval: Interval | null
  /** Why there is no rate, when there is none. */
  readonly unavailable: string | null
}

/** One row of a baseline query: the reference days and what was observed on them. */
export interface BaselineRow {
  readonly band: string
  readonly fromDay: string | null
  readonly toDay: string | null
  readonly observations: number
  readonly ordered: number
}

/** What a baseline query needs: the business time zone, the report's period and the reaction window. */
export interface BaselineContext {
  readonly tz: string
  readonly inPeriod: InPeriod
  /** The reaction window as an SQL interval. */
  readonly window: Statement.Fragment
}

const INVITE_BASELINE_METHOD = (band: Band) =>
  `Every closed-order lapse of a client that was in band ${band} (${
    band === "A"
      ? `last closed order more than ${Invite.FOUR_WEEKS_DAYS} days and less than ${Invite.BAND_A_MONTHS} months`
      : `last closed order ${Invite.TWO_WEEKS_DAYS + 1} to ${Invite.FOUR_WEEKS_DAYS - 1} days`
  } before the day, business-zone dates) on some day of the ${INVITE_BASELINE_WEEKS} weeks before the first ` +
  `invite, observed once at the first such day's start: did the client close an order within 14 days?`

const BIRTHDAY_BASELINE_METHOD =
  "Every client with a birthday 0 to 14 days ahead of a day one year before this period's greetings (and before " +
  "the first greeting ever), who had a closed order before that day, observed once per birthday at the first " +
  "such day's start: did the client close an order within 14 days?"

/** A baseline from its query's row; `unavailable` says why when there are no reference days. */
export const toBaseline = (method: string, row: BaselineRow | undefined, unavailable: string): Baseline => {
  const observations = row?.observations ?? 0
  const ordered = row?.ordered ?? 0
  const days = row?.fromDay && row.toDay && row.fromDay <= row.toDay ? { from: row.fromDay, to: row.toDay } : null
  return {
    method,
    days,
    observations,
    ordered,
    rate: observations > 0 ? ordered / observations : null,
    interval: wilson(ordered, observations) ?? null,
    unavailable: observations > 0
      ? null
      : days === null
      ? unavailable
      : "No comparable client on those days (no order history then?)."
  }
}

/**
 * The invite baseline, one row per band, over the weeks before the first invite ever (so the
 * period does not enter it). One observation per lapse (a closed order and the time until the
 * next one): the first day of the window on which the lapse was in the band, as the invite itself
 * goes once per lapse.
 */
export const inviteBaselineRows = (
  ctx: BaselineContext
): Effect.Effect<ReadonlyArray<BaselineRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { tz, window } = ctx
    return yield* sql<BaselineRow>`
      WITH first AS (
        SELECT (min(attempted_at) AT TIME ZONE ${tz})::date AS day FROM pronto_notify.notifications WHERE kind = 'invite'
      ),
      win AS (
        SELECT day - ${INVITE_BASELINE_WEEKS * 7}::int AS ws, day - 1 AS we FROM first WHERE day IS NOT NULL
      ),
      lapses AS (
        SELECT (o.closed_at AT TIME ZONE ${tz})::date AS last_day,
               lead(o.closed_at) OVER (PARTITION BY o.client_id ORDER BY o.closed_at, o.uid) AS next_at
        FROM jupiter.orders o CROSS JOIN win
        WHERE o.status = 'closed' AND o.client_id IS NOT NULL
          AND o.closed_at >= (win.ws - interval '4 months')::timestamp AT TIME ZONE ${tz}
          AND o.closed_at < (win.we + ${REACTION_WINDOW_DAYS + 2}::int)::timestamp AT TIME ZONE ${tz}
      ),
      bands (band, min_days, max_days) AS (
        VALUES ('A', ${Invite.FOUR_WEEKS_DAYS + 1}::int, NULL::int),
               ('B', ${Invite.TWO_WEEKS_DAYS + 1}::int, ${Invite.FOUR_WEEKS_DAYS - 1}::int)
      ),
      firsts AS (
        SELECT b.band, b.max_days, l.last_day, l.next_at, w.we,
               greatest(l.last_day + b.min_days, w.ws) AS first_day
        FROM lapses l CROSS JOIN bands b CROSS JOIN win w
      ),
      observed AS (
        SELECT f.band, f.next_at IS NOT NULL AND f.next_at <= f.t + ${window} AS ordered
        FROM (SELECT firsts.*, first_day::timestamp AT TIME ZONE ${tz} AS t FROM firsts) f
        WHERE f.first_day <= f.we
          AND (f.max_days IS NULL OR f.first_day <= f.last_day + f.max_days)
          AND (f.band <> 'A' OR f.last_day > (f.first_day - make_interval(months => ${Invite.BAND_A_MONTHS}))::date)
          AND (f.next_at IS NULL OR f.next_at >= f.t)
      )
      SELECT b.band, w.ws::text AS "fromDay", w.we::text AS "toDay",
             count(o.band)::int AS observations,
             count(o.band) FILTER (WHERE o.ordered)::int AS ordered
      FROM bands b LEFT JOIN win w ON true LEFT JOIN observed o ON o.band = b.band
      GROUP BY b.band, w.ws, w.we
    `
  })

/** The invite baseline of one band. */
export const inviteBaseline = (rows: ReadonlyArray<BaselineRow>, band: Band): Baseline =>
  toBaseline(
    INVITE_BASELINE_METHOD(band),
    rows.find((r) => r.band === band),
    "No invite has been sent yet, so there are no days before the first one to compare with."
  )

/**
 * The birthday baseline, one row: the days of this period's greetings a year earlier, cut before
 * the first greeting ever; one observation per client and birthday, at the first of those days the
 * birthday is 0..14 days ahead.
 */
export const birthdayBaselineRows = (
  ctx: BaselineContext
): Effect.Effect<ReadonlyArray<BaselineRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { inPeriod, tz, window } = ctx
    return yield* sql<BaselineRow>`
      WITH first AS (
        SELECT (min(attempted_at) AT TIME ZONE ${tz})::date AS day FROM pronto_notify.notifications WHERE kind = 'birthday'
      ),
      greeted AS (
        SELECT (min(sent_at) AT TIME ZONE ${tz})::date AS lo, (max(sent_at) AT TIME ZONE ${tz})::date AS hi
        FROM pronto_notify.notifications
        WHERE kind = 'birthday' AND status = 'sent' AND ${inPeriod("sent_at")}
      ),
      win AS (
        SELECT (g.lo - interval '1 year')::date AS ws, least((g.hi - interval '1 year')::date, f.day - 1) AS we
        FROM greeted g CROSS JOIN first f WHERE g.lo IS NOT NULL
      ),
      firsts AS (
        SELECT c.id AS client_id, w.we, b.day AS birthday, greatest(b.day - 14, w.ws) AS first_day
        FROM jupiter.clients c CROSS JOIN win w
        CROSS JOIN LATERAL generate_series(extract(year FROM w.ws)::int, extract(year FROM w.we)::int + 1) AS y
        CROSS JOIN LATERAL (SELECT pronto_notify.birthday_in_year(c.birthday, y) AS day) b
        WHERE c.birthday IS NOT NULL
      ),
      observed AS (
        SELECT EXISTS (
                 SELECT 1 FROM jupiter.orders o
                 WHERE o.client_id = f.client_id AND o.status = 'closed'
                   AND o.closed_at >= f.t AND o.closed_at <= f.t + ${window}
               ) AS ordered
        FROM (SELECT firsts.*, first_day::timestamp AT TIME ZONE ${tz} AS t FROM firsts) f
        WHERE f.first_day <= least(f.birthday, f.we)
          AND EXISTS (
            SELECT 1 FROM jupiter.orders o
            WHERE o.client_id = f.client_id AND o.status = 'closed' AND o.closed_at < f.t
          )
      )
      SELECT 'birthday' AS band, w.ws::text AS "fromDay", w.we::text AS "toDay",
             (SELECT count(*)::int FROM observed) AS observations,
             (SELECT count(*)::int FROM observed WHERE ordered) AS ordered
      FROM (SELECT 1) one LEFT JOIN win w ON true
    `
  })

/** The birthday baseline. */
export const birthdayBaseline = (rows: ReadonlyArray<BaselineRow>): Baseline =>
  toBaseline(
    BIRTHDAY_BASELINE_METHOD,
    rows[0],
    "No comparable days: no greeting in this period, or a year earlier greetings were already being sent."
  )
