/**
 * The birthday's baseline for the report (report/BaselineMethod): the same days a year earlier.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Statement } from "@effect/sql"
import { Effect } from "effect"
import { type BaselineMethod, BaselineObservations, strataInWords } from "../../report/BaselineMethod.ts"
import * as Rows from "../../store/Rows.ts"
import { NAME, rules } from "./Rules.ts"

/**
 * The days of this period's greetings a year earlier, ending 14 days before the first greeting
 * ever: every client who had ordered before, observed once per birthday at the start of the first
 * of those days on which the birthday was 0 to 14 days ahead: did the client close an order within
 * the window? Stratified by the time since the client's last closed order (at the observation, and
 * for a greeting at its send), and weighted to the greeted clients' mix: how recently a client
 * ordered moves the chance of ordering again most, and the greeted need not be alike in it a year
 * apart (other messages bring clients back; a profile request asks those who just ordered).
 */
const decodeObservations = Rows.decodeRows(BaselineObservations)

/** The strata's lower bounds in days since the last closed order (the first stratum starts at 0). */
const RECENCY_DAYS = [7, 14, 21, 28, 42, 56, 91, 182, 365]

export const baseline: BaselineMethod = {
  describe: () =>
    `Every client with a birthday 0 to ${rules.daysAhead} days ahead of a day one year before this period's greetings ` +
    "(in the days ending 14 days before the first greeting ever), who had a closed order before that day, observed " +
    "once per birthday at the first such day's start: did the client close an order within 14 days? Weighted to the " +
    `greeted clients' time since their last closed order (strata of ${strataInWords([0, ...RECENCY_DAYS])}; a greeted ` +
    "client who never ordered counts with the last).",
  stratifiedBy: "the time since the client's last closed order",
  unavailable: "No comparable days: no greeting in this period, or a year earlier greetings were already being sent.",
  observe: ({ inPeriod, tz, window }) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => {
      const recency = (since: Statement.Fragment, at: Statement.Fragment) =>
        sql`coalesce(width_bucket(extract(epoch FROM (${at}) - (${since})) / 86400, ${`{${RECENCY_DAYS.join(",")}}`}::float8[]), ${RECENCY_DAYS.length + 1})`
      return sql`
        WITH first AS (
          SELECT (min(attempted_at) AT TIME ZONE ${tz})::date AS day FROM pronto_notify.notifications WHERE kind = ${NAME}
        ),
        greeted AS (
          SELECT (min(sent_at) AT TIME ZONE ${tz})::date AS lo, (max(sent_at) AT TIME ZONE ${tz})::date AS hi
          FROM pronto_notify.notifications
          WHERE kind = ${NAME} AND status = 'sent' AND ${inPeriod("sent_at")}
        ),
        win AS (
          SELECT (g.lo - interval '1 year')::date AS ws, least((g.hi - interval '1 year')::date, f.day - 14) AS we
          FROM greeted g CROSS JOIN first f WHERE g.lo IS NOT NULL
        ),
        firsts AS (
          SELECT c.id AS client_id, w.we, b.day AS birthday, greatest(b.day - ${rules.daysAhead}::int, w.ws) AS first_day
          FROM jupiter.clients c CROSS JOIN win w
          CROSS JOIN LATERAL generate_series(extract(year FROM w.ws)::int, extract(year FROM w.we)::int + 1) AS y
          CROSS JOIN LATERAL (SELECT pronto_notify.birthday_in_year(c.birthday, y) AS day) b
          WHERE c.birthday IS NOT NULL
        ),
        observed AS (
          SELECT ${recency(sql`last.closed_at`, sql`f.t`)} AS stratum,
                 EXISTS (
                   SELECT 1 FROM jupiter.orders o
                   WHERE o.client_id = f.client_id AND o.status = 'closed'
                     AND o.closed_at >= f.t AND o.closed_at <= f.t + ${window}
                 ) AS ordered
          FROM (SELECT firsts.*, first_day::timestamp AT TIME ZONE ${tz} AS t FROM firsts) f
          CROSS JOIN LATERAL (
            SELECT max(o.closed_at) AS closed_at FROM jupiter.orders o
            WHERE o.client_id = f.client_id AND o.status = 'closed' AND o.closed_at < f.t
          ) last
          WHERE f.first_day <= least(f.birthday, f.we) AND last.closed_at IS NOT NULL
        ),
        messaged AS (
          SELECT ${recency(sql`last.closed_at`, sql`n.sent_at`)} AS stratum
          FROM pronto_notify.notifications n
          CROSS JOIN LATERAL (
            SELECT max(o.closed_at) AS closed_at FROM jupiter.orders o
            WHERE o.client_id = n.client_id AND o.status = 'closed' AND o.closed_at < n.sent_at
          ) last
          WHERE n.kind = ${NAME} AND n.status = 'sent' AND n.reaction IN ('reacted', 'none') AND ${inPeriod("n.sent_at")}
        ),
        strata AS (
          SELECT stratum, count(*)::int AS observations, count(*) FILTER (WHERE ordered)::int AS ordered, 0 AS messaged
          FROM observed GROUP BY stratum
          UNION ALL
          SELECT stratum, 0, 0, count(*)::int FROM messaged GROUP BY stratum
        )
        SELECT ${NAME}::text AS "actionSet", w.ws::text AS "fromDay", w.we::text AS "toDay", coalesce(s.stratum, 0) AS stratum,
               coalesce(sum(s.observations), 0)::int AS observations, coalesce(sum(s.ordered), 0)::int AS ordered,
               coalesce(sum(s.messaged), 0)::int AS messaged
        FROM (SELECT 1) one LEFT JOIN win w ON true LEFT JOIN strata s ON true
        GROUP BY w.ws, w.we, s.stratum
      `.pipe(Effect.flatMap(decodeObservations))
    })
}
