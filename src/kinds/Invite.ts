/**
 * `invite`: win back a client who stopped ordering (SPEC, C4).
 *
 * Daily at 12:00. With d = days from the local date of the client's last order
 * (`jupiter.clients.last_order_at`) to the local date of the run, both in the business zone:
 * band A is 28 < d and the last order's date after the run's date minus 3 calendar months;
 * band B is 14 < d < 28 (`bandSql`, the one statement of the rule). Band A's candidates come first,
 * each band by client id; each band rotates its own actions with its own counter (C2). One message
 * per lapse, ever: the mark holds the `last_order_at` that was notified, and the next closed order
 * clears it (`host/Orders`).
 */
import { SqlClient, type Statement } from "@effect/sql"
import { DateTime, Duration, Effect, Layer, Schema } from "effect"
import { BonusServer } from "../bonus/BonusServer.ts"
import type { Notifications } from "../store/Notifications.ts"
import * as Rows from "../store/Rows.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { grantTemporaryBonus } from "./Gift.ts"
import {
  ActionFailed,
  type ActionPlan,
  ActionStrategy,
  type BaselineMethod,
  BaselineObservations,
  CLIENT_PAGE_SIZE,
  keysetPages,
  make,
  ReactionRule,
  Selector,
  strataInWords
} from "./Kind.ts"
import * as Trigger from "./Trigger.ts"

const NAME = "invite"

const rules = {
  /** Action 1: the balance, shown as a whole number of bonuses. */
  balanceText: (balance: number) => `На счету ${balance} бонусов! Потрать их в новом заказе`,
  texts: {
    2: "Как насчет подарков? Дарим 100 бонусов на 2 недели",
    3: "Как насчет скидки? -10% по промокоду PRO10"
  } as Readonly<Record<number, string>>,
  /** Action 2: temporary bonuses, expiring 14 days after accrual. */
  bonus: 100,
  bonusReason: "invite",
  /** "4 weeks", "2 weeks" and "3 months" of C4. */
  fourWeeksDays: 28,
  twoWeeksDays: 14,
  bandAMonths: 3
}

/**
 * The band of a lapse on a day, in SQL: 'A', 'B', or NULL (in neither), from two local dates in
 * the business zone: the day and the last order's day.
 */
export const bandSql = (sql: SqlClient.SqlClient, today: Statement.Fragment, lastDay: Statement.Fragment) =>
  sql`CASE
    WHEN (${today}) - (${lastDay}) > ${rules.fourWeeksDays}
         AND (${lastDay}) > ((${today}) - make_interval(months => ${rules.bandAMonths}))::date THEN 'A'
    WHEN (${today}) - (${lastDay}) > ${rules.twoWeeksDays} AND (${today}) - (${lastDay}) < ${rules.fourWeeksDays} THEN 'B'
  END`

/** Where a page of candidates ends: the last one's band and client. */
const PageKey = Schema.Struct({ band: Schema.String, clientId: Rows.Id })

const selector = Layer.effect(
  Selector,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // A page resumes after the last client read: band A before band B, then by id (C2).
    const resume = (k: typeof PageKey.Type) => sql`(b.band, b.id) > (${k.band}, ${k.clientId}::bigint)`
    const { name: tz } = yield* BusinessTimeZone
    return {
      candidates: (at) => {
        const now = DateTime.toDateUtc(at)
        // One message per lapse: the trigger carries the last order's instant, to the microsecond.
        const lapseTrigger = Trigger.clientSql(
          sql,
          sql`l.id`,
          sql`to_char(l.last_order_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
        )
        // The instant bounds only narrow the scan (an index on last_order_at can serve them);
        // the local-date conditions of the band decide, with a day's margin for zones and DST.
        return keysetPages(sql, PageKey, resume, (after, limit) =>
          sql`
            WITH lapsed AS (
              SELECT c.id, c.phone, c.last_order_at,
                     (${now}::timestamptz AT TIME ZONE ${tz}::text)::date AS today,
                     (c.last_order_at AT TIME ZONE ${tz}::text)::date AS last_day
              FROM jupiter.clients c
              WHERE c.last_order_at > ${now}::timestamptz - make_interval(months => ${rules.bandAMonths}, days => 2)
                AND c.last_order_at < ${now}::timestamptz - make_interval(days => ${rules.twoWeeksDays - 1})
            ), banded AS (
              SELECT l.id, l.phone, l.last_order_at, ${bandSql(sql, sql`l.today`, sql`l.last_day`)} AS band,
                     ${lapseTrigger} AS trigger
              FROM lapsed l
            )
            SELECT b.id::text AS "clientId", b.phone, NULL::text AS "orderUid", ${NAME}::text || ':' || b.band AS "actionSet",
                   b.trigger, b.band
            FROM banded b
            LEFT JOIN pronto_notify.client_marks m ON m.client_id = b.id
            WHERE b.band IS NOT NULL
              AND m.invite_lapse IS DISTINCT FROM b.last_order_at
              AND NOT EXISTS (
                SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = ${NAME} AND n.trigger_key = b.trigger
              )
              AND ${after}
            ORDER BY b.band, b.id
            LIMIT ${limit}
          `, CLIENT_PAGE_SIZE)
      }
    }
  })
)

const actions = Layer.effect(
  ActionStrategy,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const bonus = yield* BonusServer
    const services = yield* Effect.context<BonusServer | Notifications>()
    return {
      plan: (candidate, chosenAction, at) => {
        if (chosenAction !== 1) {
          return Effect.succeed<ActionPlan>({ performedAction: chosenAction, text: rules.texts[chosenAction]! })
        }
        // Shown as a whole number, rounded down (C14). A balance below one whole bonus would read
        // "0 бонусов", so it counts as nothing to show: action 2 instead, as for <= 0.
        return bonus.balance(candidate.clientId, at).pipe(
          Effect.mapError((error) => new ActionFailed({ kind: NAME, action: 1, reason: error.message })),
          Effect.map((balance): ActionPlan => {
            const shown = Math.floor(balance)
            return shown > 0
              ? { performedAction: 1, text: rules.balanceText(shown) }
              : { performedAction: 2, text: rules.texts[2]! }
          })
        )
      },
      perform: (candidate, plan, notificationId, at) =>
        Effect.gen(function*() {
          if (plan.performedAction === 2) {
            yield* grantTemporaryBonus({
              kind: NAME,
              action: 2,
              clientId: candidate.clientId,
              amount: rules.bonus,
              reason: rules.bonusReason,
              notificationId,
              at
            }).pipe(Effect.provide(services))
          }
          yield* sql`
            INSERT INTO pronto_notify.client_marks (client_id, invite_lapse)
            VALUES (${candidate.clientId}, ${Trigger.partOf(candidate.trigger)}::timestamptz)
            ON CONFLICT (client_id) DO UPDATE SET invite_lapse = EXCLUDED.invite_lapse
          `
        })
    }
  })
)

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

const baseline: BaselineMethod = {
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

export const Invite = make({
  name: NAME,
  schedule: {
    cron: "0 12 * * *",
    words: "every day at 12:00",
    // Until 22:00 the same day: the bands select by state, so tomorrow's run finds the rest.
    catchUp: Duration.hours(10),
    catchUpWords: "until 22:00 the same day"
  },
  actionSets: [{ name: `${NAME}:A`, band: "A", actions: 3 }, { name: `${NAME}:B`, band: "B", actions: 2 }],
  rules,
  reaction: ReactionRule.ClosedOrder(),
  selector,
  actions,
  baseline,
  reportNote: "Grouped by the action performed: action 1 falls back to action 2 for clients whose balance is not " +
    "positive, so the action 2 group also holds clients that rotation gave action 1."
})
