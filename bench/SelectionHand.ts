/**
 * What bench/selection.ts holds each selector against: one statement per kind, written for the
 * same rows as an expert would write it to get them all at once (no paging), with $1 the run's
 * instant and $2 the business time zone. Each returns the rows in the kind's order (C2) as
 * `client|phone|trigger|actionSet`, the shape the bench compares.
 */

const row = (client: string, phone: string, trigger: string, actionSet: string) =>
  `${client}::text || '|' || ${phone} || '|' || ${trigger} || '|' || ${actionSet} AS line`

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

export const hand: Readonly<Record<string, string>> = {
  feedback: `
    SELECT ${row("o.client_id", "c.phone", "o.uid::text", "'feedback'")}
    FROM jupiter.orders o JOIN jupiter.clients c ON c.id = o.client_id
    WHERE o.status = 'closed' AND o.is_delivery AND o.source IN ('site', 'app', 'new_app')
      AND o.closed_at > $1::timestamptz - interval '24 hours' AND o.closed_at <= $1::timestamptz
      AND NOT EXISTS (SELECT 1 FROM pronto_notify.order_marks m WHERE m.order_uid = o.uid)
      AND NOT EXISTS (SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = 'feedback' AND n.trigger_key = o.uid::text)
      AND $2::text IS NOT NULL
    ORDER BY o.closed_at, o.uid`,

  // The lapsed clients by the index on last_order_at (instant bounds a day wider than the bands),
  // the band from the local dates, then the two anti-joins.
  invite: `
    WITH t AS (SELECT ($1::timestamptz AT TIME ZONE $2::text)::date AS today)
    SELECT ${row("c.id", "c.phone", `c.id::text || '@' || ${iso("c.last_order_at")}`, "'invite:' || b.band")}
    FROM jupiter.clients c CROSS JOIN t
    CROSS JOIN LATERAL (SELECT (c.last_order_at AT TIME ZONE $2::text)::date AS last_day) l
    CROSS JOIN LATERAL (SELECT CASE
      WHEN t.today - l.last_day > 28 AND l.last_day > (t.today - interval '3 months')::date THEN 'A'
      WHEN t.today - l.last_day > 14 AND t.today - l.last_day < 28 THEN 'B' END AS band) b
    WHERE c.last_order_at > $1::timestamptz - interval '3 months 2 days'
      AND c.last_order_at < $1::timestamptz - interval '13 days'
      AND b.band IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM pronto_notify.client_marks m WHERE m.client_id = c.id AND m.invite_lapse = c.last_order_at)
      AND NOT EXISTS (
        SELECT 1 FROM pronto_notify.notifications n
        WHERE n.kind = 'invite' AND n.trigger_key = c.id::text || '@' || ${iso("c.last_order_at")}
      )
    ORDER BY b.band, c.id`,

  // The month's closed orders by the index on closed_at, their distinct clients, then the clients.
  profile: `
    WITH month AS (
      SELECT first_day, first_day::timestamp AT TIME ZONE $2::text AS starts,
             (first_day + interval '1 month') AT TIME ZONE $2::text AS ends
      FROM (SELECT (date_trunc('month', $1::timestamptz AT TIME ZONE $2::text) - interval '1 month')::date AS first_day) m
    ), active AS (
      SELECT DISTINCT o.client_id FROM jupiter.orders o, month
      WHERE o.status = 'closed' AND o.closed_at >= month.starts AND o.closed_at < month.ends
    )
    SELECT ${row("c.id", "c.phone", "c.id::text || '@' || to_char(month.first_day, 'YYYY-MM')", "'profile'")}
    FROM active a JOIN jupiter.clients c ON c.id = a.client_id CROSS JOIN month
    WHERE c.birthday IS NULL
      AND NOT EXISTS (SELECT 1 FROM pronto_notify.client_marks m WHERE m.client_id = c.id AND m.profile_month = month.first_day)
      AND NOT EXISTS (
        SELECT 1 FROM pronto_notify.notifications n
        WHERE n.kind = 'profile' AND n.trigger_key = c.id::text || '@' || to_char(month.first_day, 'YYYY-MM')
      )
    ORDER BY c.id`,

  // Every client with a birthday once (there is no index for "within 14 days of today" that works
  // across the turn of the year without an expression index), the occurrence, the anti-joins.
  birthday: `
    WITH t AS (SELECT d, extract(year FROM d)::int AS y FROM (SELECT ($1::timestamptz AT TIME ZONE $2::text)::date AS d) x)
    SELECT ${row("c.id", "c.phone", "c.id::text || '@' || extract(year FROM o.occurs)::int::text", "'birthday'")}
    FROM jupiter.clients c CROSS JOIN t
    CROSS JOIN LATERAL (SELECT pronto_notify.birthday_in_year(c.birthday, t.y) AS this_year) b
    CROSS JOIN LATERAL (SELECT CASE WHEN b.this_year >= t.d THEN b.this_year
                                    ELSE pronto_notify.birthday_in_year(c.birthday, t.y + 1) END AS occurs) o
    WHERE c.birthday IS NOT NULL AND o.occurs - t.d <= 14
      AND NOT EXISTS (
        SELECT 1 FROM pronto_notify.client_marks m
        WHERE m.client_id = c.id AND m.birthday_year = extract(year FROM o.occurs)::int
      )
      AND NOT EXISTS (
        SELECT 1 FROM pronto_notify.notifications n
        WHERE n.kind = 'birthday' AND n.trigger_key = c.id::text || '@' || extract(year FROM o.occurs)::int::text
      )
    ORDER BY c.id`
}
