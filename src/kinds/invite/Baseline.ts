/**
 * The invite's baseline for the report (report/BaselineMethod): its own reach applied to the weeks
 * before any invite, so that the report's period does not enter it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Statement } from "@effect/sql"
import { Effect } from "effect"
import { type BaselineMethod, BaselineObservations, strataInWords } from "../../report/BaselineMethod.ts"
import * as Rows from "../../store/Rows.ts"
import { bandSql, NAME, rules } from "./Rules.ts"

/** The baseline looks at this many weeks, ending 14 days before the first invite. */
const BASELINE_WEEKS = 8

/** A lapse's trigger as the selector writes it (older rows may hold other text, left out). */
const LAPSE_TRIGGER = "^[0-9]+@[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?Z$"

/** The lapse-age strata's lower bounds in days: band B from 15, band A from 29. */
const LAPSE_AGE_STRATA = [15, 16, 22, 29, 36, 50, 70]

/**
 * The invite's own reach, applied to the weeks before any invite (so the report's period does not
 * enter it): every lapse (a client's closed order and the time until the next) observed once, on
 * the first day of those weeks on which it was in a band by the selector's own rule (`bandSql`), in
 * that band, at the time of day the first invite went out, if it was still going on then: did the
 * client close an order within the window? Once per lapse, as the mark makes the invite, so band A
 * holds what the invite's band A gets: the lapses already past band B when the weeks begin (of every
 * age), not those that entered it through band B. The weeks end 14 days before the first invite, so
 * no observation's window holds an invite. Stratified by the lapse's age in days and weighted to
 * the invited lapses' ages: the first invites find lapses of every age in the band, later ones
 * mostly lapses entering it, and an older lapse is less likely to end on its own.
 */
const decodeObservations = Rows.decodeRows(BaselineObservations)

export const baseline: BaselineMethod = {
  describe: (set) =>
    `Every closed-order lapse of a client in the ${BASELINE_WEEKS} weeks ending 14 days before the first invite, ` +
    `observed once, on the first of those days on which it was in a band, when that was band ${set.band} (${
      set.band === "A"
        ? `last closed order more than ${rules.fourWeeksDays} days and less than ${rules.bandAMonths} months`
        : `last closed order ${rules.twoWeeksDays + 1} to ${rules.fourWeeksDays - 1} days`
    } before the day, business-zone dates), at the time of day the first invite was sent: did the client close ` +
    `an order within 14 days? Once per lapse, as the invite goes once per lapse. Weighted to the invited lapses' ` +
    `ages (strata of ${strataInWords(LAPSE_AGE_STRATA)}).`,
  stratifiedBy: "the lapse's age in days",
  unavailable: "No invite has been sent yet, so there are no days before the first one to compare with.",
  observe: ({ inPeriod, tz, window }) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => {
      const stratum = (age: Statement.Fragment) =>
        sql`greatest(width_bucket(${age}, ${`{${LAPSE_AGE_STRATA.join(",")}}`}::int[]) - 1, 0)`
      return sql`
        WITH first AS (
          SELECT (min(attempted_at) AT TIME ZONE ${tz})::date AS day, (min(attempted_at) AT TIME ZONE ${tz})::time AS at
          FROM pronto_notify.notifications WHERE kind = ${NAME}
        ),
        win AS (
          SELECT day - ${BASELINE_WEEKS * 7 + 13}::int AS ws, day - 14 AS we, at FROM first WHERE day IS NOT NULL
        ),
        lapses AS (
          SELECT o.client_id, o.closed_at, (o.closed_at AT TIME ZONE ${tz})::date AS last_day,
                 lead(o.closed_at) OVER (PARTITION BY o.client_id ORDER BY o.closed_at, o.uid) AS next_at
          FROM jupiter.orders o CROSS JOIN win
          WHERE o.status = 'closed' AND o.client_id IS NOT NULL
            AND o.closed_at >= (win.ws - make_interval(months => ${rules.bandAMonths + 1}))::timestamp AT TIME ZONE ${tz}
            AND o.closed_at < (win.we + 2)::timestamp AT TIME ZONE ${tz} + ${window}
        ),
        -- The days of the weeks at whose time of day each lapse was still going on.
        days AS (
          SELECT l.client_id, l.closed_at, l.next_at, d.day::date AS day, d.day::date - l.last_day AS age,
                 (d.day::date + w.at) AT TIME ZONE ${tz} AS t,
                 ${bandSql(sql, sql`d.day::date`, sql`l.last_day`)} AS band
          FROM lapses l CROSS JOIN win w
          CROSS JOIN LATERAL generate_series(
            greatest(w.ws, l.last_day + 1),
            least(w.we, coalesce((l.next_at AT TIME ZONE ${tz})::date, w.we)),
            interval '1 day'
          ) AS d(day)
          WHERE l.next_at IS NULL OR l.next_at > (d.day::date + w.at) AT TIME ZONE ${tz}
        ),
        observed AS (
          SELECT DISTINCT ON (client_id, closed_at) band, age, next_at IS NOT NULL AND next_at <= t + ${window} AS ordered
          FROM days
          WHERE band IS NOT NULL
          ORDER BY client_id, closed_at, day
        ),
        -- The invites of the period with their lapse's age on the day sent (the trigger holds the lapse).
        messaged AS (
          SELECT split_part(n.action_set, ':', 2) AS band,
                 (n.sent_at AT TIME ZONE ${tz})::date
                   - (split_part(n.trigger_key, '@', 2)::timestamptz AT TIME ZONE ${tz})::date AS age
          FROM pronto_notify.notifications n
          WHERE n.kind = ${NAME} AND n.status = 'sent' AND n.reaction IN ('reacted', 'none') AND ${inPeriod("n.sent_at")}
            AND n.action_set IN (${NAME} || ':A', ${NAME} || ':B')
            AND n.trigger_key ~ ${LAPSE_TRIGGER}
        ),
        strata AS (
          SELECT band, ${stratum(sql`age`)} AS stratum, count(*)::int AS observations,
                 count(*) FILTER (WHERE ordered)::int AS ordered, 0 AS messaged
          FROM observed GROUP BY 1, 2
          UNION ALL
          SELECT band, ${stratum(sql`age`)}, 0, 0, count(*)::int FROM messaged GROUP BY 1, 2
        )
        SELECT ${NAME}::text || ':' || b.band AS "actionSet", w.ws::text AS "fromDay", w.we::text AS "toDay",
               coalesce(s.stratum, 0) AS stratum, coalesce(sum(s.observations), 0)::int AS observations,
               coalesce(sum(s.ordered), 0)::int AS ordered, coalesce(sum(s.messaged), 0)::int AS messaged
        FROM (VALUES ('A'), ('B')) AS b(band) LEFT JOIN win w ON true LEFT JOIN strata s ON s.band = b.band
        GROUP BY b.band, w.ws, w.we, s.stratum
      `.pipe(Effect.flatMap(decodeObservations))
    })
}
