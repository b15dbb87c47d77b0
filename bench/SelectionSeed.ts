/**
 * The data of bench/selection.ts, seeded set-based (generate_series, one statement per table):
 * clients, two years of orders, and the library's own history as it would stand after months of
 * running (notifications, order and client marks, the accruals that are their reactions), so that
 * every NOT EXISTS of the selectors has real tables to look into.
 *
 * Shapes: 5% of orders have no client; clients are hit unevenly (a few order often, most rarely);
 * 90% of orders closed, 7% cancelled, 3% open; sources site 25%, app 30%, new_app 15%, jupiter 20%,
 * aggregator 10%; delivery 65% of the Site's and the apps' orders, all the aggregator's, 15% of the
 * hall's; closed between 10:00 and 23:00 Moscow time. 60% of clients gave a birthday. Every kind
 * has been running since LAUNCH and 5% of its messages failed (no notification, no mark: the
 * selectors pick those triggers up again while they are eligible).
 */
import type pg from "pg"

export const TZ = "Europe/Moscow"
/** The newest order closes before this instant: 11:00 in Moscow on Sunday 1 March 2026. */
export const END = "2026-03-01T08:00:00Z"
/** The scheduled slots of the four kinds on that day (Moscow 11:00, 12:00, 12:30 and 13:00). */
export const RUN_AT = {
  feedback: "2026-03-01T08:00:00Z",
  invite: "2026-03-01T09:00:00Z",
  profile: "2026-03-01T09:30:00Z",
  birthday: "2026-03-01T10:00:00Z"
} as const
/** The last feedback slot before END: 22:00 in Moscow the evening before. */
const LAST_FEEDBACK_SLOT = "2026-02-28T19:00:00Z"
/** When the library started sending; tuned so that 1M orders leave about 1M notifications. */
const LAUNCH = "2025-06-04T08:00:00Z"
const HISTORY_DAYS = 730

/** 95% of a trigger's messages were sent; the rest failed and left nothing behind. */
const delivered = (key: string) => `abs(hashtext(${key} || '/ok')) % 100 < 95`
const pick = (key: string, n: number) => `1 + abs(hashtext(${key} || '/action')) % ${n}`
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

export const clients = (n: number) => `
  INSERT INTO jupiter.clients (id, phone, birthday)
  SELECT i, '8916' || lpad(i::text, 7, '0'),
         CASE WHEN random() < 0.6 THEN date '1962-01-01' + floor(random() * 365.25 * 45)::int END
  FROM generate_series(1, ${n}) i
`

/**
 * `n` orders over the days [minDaysBack, 730) before END's date. The client of an order is the
 * square of a uniform draw, scattered over the ids by a prime multiplier (a bijection modulo the
 * client count), so frequent and rare clients are mixed across the id range.
 */
export const orders = (n: number, clientCount: number, minDaysBack: number) => `
  INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, created_at, closed_at, total)
  SELECT gen_random_uuid(), client_id, source,
         CASE source WHEN 'aggregator' THEN true WHEN 'jupiter' THEN r2 < 0.15 ELSE r2 < 0.65 END,
         status, t - interval '35 minutes', CASE WHEN status = 'closed' THEN t END, round((500 + r2 * 3000)::numeric, 2)
  FROM (
    SELECT CASE WHEN rc < 0.05 THEN NULL ELSE 1 + (floor(${clientCount} * rk * rk)::bigint * 7919) % ${clientCount} END AS client_id,
           CASE WHEN rs < 0.25 THEN 'site' WHEN rs < 0.55 THEN 'app' WHEN rs < 0.70 THEN 'new_app'
                WHEN rs < 0.90 THEN 'jupiter' ELSE 'aggregator' END AS source,
           CASE WHEN rt < 0.90 THEN 'closed' WHEN rt < 0.97 THEN 'cancelled' ELSE 'open' END AS status,
           r2,
           CASE WHEN t0 > '${END}'::timestamptz THEN t0 - interval '1 day' ELSE t0 END AS t
    FROM (
      SELECT random() AS rc, random() AS rk, random() AS rs, random() AS rt, random() AS r2,
             ((('${END}'::timestamptz AT TIME ZONE 'UTC')::date - (${minDaysBack} + floor(random() * ${HISTORY_DAYS - minDaysBack}))::int)::timestamp
               + interval '7 hours' + random() * interval '13 hours') AT TIME ZONE 'UTC' AS t0
      FROM generate_series(1, ${n})
    ) r
  ) o
`

export const lastOrderAt = `
  UPDATE jupiter.clients c SET last_order_at = l.at
  FROM (SELECT client_id, max(closed_at) AS at FROM jupiter.orders WHERE status = 'closed' AND client_id IS NOT NULL GROUP BY client_id) l
  WHERE c.id = l.client_id
`

const columns =
  "(kind, trigger_key, client_id, order_uid, phone, chosen_action, performed_action, text, status, attempted_at, sent_at, action_set, bonus_granted)"

/** Each eligible order closed since LAUNCH was asked about in the next hour, up to last night's slot. */
const feedback = `
  INSERT INTO pronto_notify.notifications ${columns}
  SELECT 'feedback', o.uid::text, o.client_id, o.uid, c.phone, a, a, 'feedback text', 'sent', s, s, 'feedback', NULL
  FROM jupiter.orders o JOIN jupiter.clients c ON c.id = o.client_id
  CROSS JOIN LATERAL (SELECT ${pick("o.uid::text", 2)} AS a, o.closed_at + interval '40 minutes' AS s) x
  WHERE o.status = 'closed' AND o.is_delivery AND o.source IN ('site', 'app', 'new_app')
    AND o.closed_at >= '${LAUNCH}' AND o.closed_at <= '${LAST_FEEDBACK_SLOT}' AND ${delivered("o.uid::text")}
`

/** The band of a lapse on a day, as the invite's rule (kinds/Invite `bandSql`). */
const band = (day: string, last: string) => `CASE
  WHEN ${day} - ${last} > 28 AND ${last} > (${day} - interval '3 months')::date THEN 'A'
  WHEN ${day} - ${last} > 14 AND ${day} - ${last} < 28 THEN 'B' END`

/**
 * Each lapse (a closed order and the time to the next) was invited at 12:00 on the first run day
 * it was in a band: its 15th day, or LAUNCH's day for a lapse already older.
 */
const invite = `
  INSERT INTO pronto_notify.notifications ${columns}
  SELECT 'invite', l.client_id || '@' || ${iso("l.closed_at")}, l.client_id, NULL, c.phone, a, a, 'invite text', 'sent',
         s, s, 'invite:' || b, CASE WHEN a = 2 THEN 100 END
  FROM (
    SELECT o.client_id, o.closed_at, (o.closed_at AT TIME ZONE '${TZ}')::date AS last_day,
           lead(o.closed_at) OVER (PARTITION BY o.client_id ORDER BY o.closed_at, o.uid) AS next_at
    FROM jupiter.orders o
    WHERE o.status = 'closed' AND o.client_id IS NOT NULL AND o.closed_at >= '${LAUNCH}'::timestamptz - interval '4 months'
  ) l
  JOIN jupiter.clients c ON c.id = l.client_id
  CROSS JOIN LATERAL (SELECT greatest(l.last_day + 15, ('${LAUNCH}'::timestamptz AT TIME ZONE '${TZ}')::date) AS day) d
  CROSS JOIN LATERAL (SELECT (d.day + time '12:00') AT TIME ZONE '${TZ}' AS s, ${band("d.day", "l.last_day")} AS b) x
  CROSS JOIN LATERAL (SELECT ${pick("l.client_id::text || l.closed_at::text", 3)} AS a3, ${pick("l.client_id::text || l.closed_at::text", 2)} AS a2) r
  CROSS JOIN LATERAL (SELECT CASE WHEN x.b = 'A' THEN r.a3 ELSE r.a2 END AS a) y
  WHERE x.b IS NOT NULL AND x.s < '${END}' AND (l.next_at IS NULL OR l.next_at > x.s)
    AND ${delivered("l.client_id::text || l.closed_at::text")}
`

/** On each 1st since LAUNCH: the clients without a birthday who closed an order in the month before. */
const profile = `
  INSERT INTO pronto_notify.notifications ${columns}
  SELECT 'profile', c.id || '@' || to_char(m.m, 'YYYY-MM'), c.id, NULL, c.phone, 1, 1, 'profile text', 'sent', m.s, m.s, 'profile', NULL
  FROM (
    SELECT m::date AS m, ((m + interval '1 month')::date + time '12:30') AT TIME ZONE '${TZ}' AS s,
           m::timestamp AT TIME ZONE '${TZ}' AS starts, (m + interval '1 month') AT TIME ZONE '${TZ}' AS ends
    FROM generate_series(date '2025-05-01', date '2026-01-01', interval '1 month') m
  ) m
  JOIN LATERAL (
    SELECT DISTINCT o.client_id FROM jupiter.orders o
    WHERE o.status = 'closed' AND o.closed_at >= m.starts AND o.closed_at < m.ends AND o.client_id IS NOT NULL
  ) a ON true
  JOIN jupiter.clients c ON c.id = a.client_id AND c.birthday IS NULL
  WHERE m.s >= '${LAUNCH}' AND ${delivered("c.id::text || m.m::text")}
`

/** Each birthday since LAUNCH greeted at 13:00 on the first run day 0 to 14 days before it, up to yesterday. */
const birthday = `
  INSERT INTO pronto_notify.notifications ${columns}
  SELECT 'birthday', c.id || '@' || y, c.id, NULL, c.phone, a, a, 'birthday text', 'sent', s, s, 'birthday', CASE WHEN a = 2 THEN 500 END
  FROM jupiter.clients c CROSS JOIN (VALUES (2025), (2026)) years(y)
  CROSS JOIN LATERAL (SELECT pronto_notify.birthday_in_year(c.birthday, y) AS day) b
  CROSS JOIN LATERAL (SELECT greatest(b.day - 14, ('${LAUNCH}'::timestamptz AT TIME ZONE '${TZ}')::date) AS g) g
  CROSS JOIN LATERAL (SELECT (g.g + time '13:00') AT TIME ZONE '${TZ}' AS s, ${pick("c.id::text || y::text", 2)} AS a) x
  WHERE c.birthday IS NOT NULL AND g.g <= b.day AND x.s < '${END}' AND ${delivered("c.id::text || y::text")}
`

/** What each message left: the order's mark, the client's marks (the latest lapse, month and year). */
const marks = [
  `INSERT INTO pronto_notify.order_marks (order_uid, notification_id)
   SELECT order_uid, id FROM pronto_notify.notifications WHERE kind = 'feedback'`,
  `INSERT INTO pronto_notify.client_marks (client_id, invite_lapse, profile_month, birthday_year)
   SELECT client_id, max(lapse), max(month), max(year) FROM (
     SELECT c.id AS client_id, c.last_order_at AS lapse, NULL::date AS month, NULL::int AS year
     FROM jupiter.clients c JOIN pronto_notify.notifications n
       ON n.kind = 'invite' AND n.trigger_key = c.id || '@' || ${iso("c.last_order_at")}
     UNION ALL
     SELECT client_id, NULL, max(to_date(split_part(trigger_key, '@', 2), 'YYYY-MM')), NULL
     FROM pronto_notify.notifications WHERE kind = 'profile' GROUP BY client_id
     UNION ALL
     SELECT client_id, NULL, NULL, max(split_part(trigger_key, '@', 2)::int)
     FROM pronto_notify.notifications WHERE kind = 'birthday' GROUP BY client_id
   ) m GROUP BY client_id`
]

/** The library's history at the current orders: notifications (all still pending a reaction) and marks. */
export const history = [
  "TRUNCATE pronto_notify.order_marks, pronto_notify.client_marks, pronto_notify.notifications",
  feedback,
  invite,
  profile,
  birthday,
  ...marks
]

/**
 * The bonus ledger: an accrual for every closed order with a client, the gifts of the actions that
 * gave bonuses, and the reactions of the accrual kinds (25% of review requests answered with a
 * review, 15% of profile requests with a filled-in profile, within three days).
 */
export const accruals = [
  `INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at, order_uid)
   SELECT client_id, round(total * 0.05, 2), 'order', closed_at, uid FROM jupiter.orders
   WHERE status = 'closed' AND client_id IS NOT NULL`,
  `INSERT INTO jupiter.bonus_temporary (client_id, amount, reason, created_at, expires_at)
   SELECT client_id, bonus_granted, kind, sent_at, sent_at + interval '14 days' FROM pronto_notify.notifications
   WHERE bonus_granted IS NOT NULL`,
  `INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at, order_uid)
   SELECT client_id, CASE WHEN kind = 'profile' THEN 100 ELSE 50 * performed_action END, kind,
          sent_at + (abs(hashtext(trigger_key || '/when')) % 72) * interval '1 hour', order_uid
   FROM pronto_notify.notifications
   WHERE (kind = 'feedback' AND abs(hashtext(trigger_key || '/reacts')) % 100 < 25)
      OR (kind = 'profile' AND abs(hashtext(trigger_key || '/reacts')) % 100 < 15)`
]

/** Runs statements in order on one connection. */
export const runAll = async (client: pg.Client, statements: ReadonlyArray<string>) => {
  for (const statement of statements) await client.query(statement)
}

/**
 * Inserts into a table without its secondary indexes (and primary key, for the orders), then
 * builds them again: one sort per index instead of millions of random B-tree inserts.
 */
export const withoutIndexes = async (client: pg.Client, table: string, fill: () => Promise<void>) => {
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
     FROM pg_index i WHERE i.indrelid = $1::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [table]
  )
  const { rows: constraints } = await client.query<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
     WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint d WHERE d.confrelid = $1::regclass AND d.conindid = pg_constraint.conindid)
     ORDER BY contype = 'f'`,
    [table]
  )
  for (const c of [...constraints].reverse()) await client.query(`ALTER TABLE ${table} DROP CONSTRAINT ${c.name}`)
  for (const i of indexes) await client.query(`DROP INDEX ${i.name}`)
  await fill()
  for (const c of constraints) await client.query(`ALTER TABLE ${table} ADD CONSTRAINT ${c.name} ${c.def}`)
  for (const i of indexes) await client.query(i.def)
}
