/**
 * `birthday`: greet a client before the birthday (SPEC, C6).
 *
 * Daily at 13:00: clients whose next birthday is 0 to 14 days away (inclusive) from the run's
 * date in the business zone, 29 February counting as 28 February in other years, and who were
 * not yet greeted for that birthday. The mark holds the year of the birthday greeted, so a
 * 5 January birthday greeted on 25 December is not greeted again on 1 January. Two actions by
 * rotation: the discount (applied by `host/BirthdayDiscount`) or 500 temporary bonuses.
 */
import { SqlClient, type Statement } from "@effect/sql"
import { DateTime, Duration, Effect, Layer, Schema } from "effect"
import type { BonusServer } from "../bonus/BonusServer.ts"
import type { Notifications } from "../store/Notifications.ts"
import * as Rows from "../store/Rows.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { grantTemporaryBonus } from "./Gift.ts"
import {
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

const NAME = "birthday"

const rules = {
  texts: {
    1: "У вас скоро день рождения: дарим скидку 15% на всю следующую неделю",
    2: "С Днем рождения! Дарим 500 бонусов на 2 недели"
  } as Readonly<Record<number, string>>,
  /** How many days ahead a birthday is greeted (inclusive). */
  daysAhead: 14,
  /** Action 2: temporary bonuses, expiring 14 days after accrual. */
  bonus: 500,
  bonusReason: "birthday"
}

/** Where a page of candidates ends: the last one's client. */
const PageKey = Schema.Struct({ clientId: Rows.Id })

const selector = Layer.effect(
  Selector,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // A page resumes after the last client read, by id (C2).
    const resume = (k: typeof PageKey.Type) => sql`d.id > ${k.clientId}::bigint`
    const { name: tz } = yield* BusinessTimeZone
    return {
      candidates: (at) => {
        const now = DateTime.toDateUtc(at)
        // The clients due are few (a fortnight of birthdays) but the planner cannot tell: computed
        // once, in one pass over the clients, before the marks are looked up (not a merge over all).
        return keysetPages(sql, PageKey, resume, (after, limit) =>
          sql`
            WITH today AS (
              SELECT d, extract(year FROM d)::int AS y
              FROM (SELECT (${now}::timestamptz AT TIME ZONE ${tz}::text)::date AS d) t
            ), upcoming AS (
              SELECT c.id, c.phone, today.d AS today,
                     CASE WHEN pronto_notify.birthday_in_year(c.birthday, today.y) >= today.d
                          THEN pronto_notify.birthday_in_year(c.birthday, today.y)
                          ELSE pronto_notify.birthday_in_year(c.birthday, today.y + 1)
                     END AS occurs
              FROM jupiter.clients c CROSS JOIN today
              WHERE c.birthday IS NOT NULL
            ), due AS MATERIALIZED (
              SELECT u.id, u.phone, extract(year FROM u.occurs)::int AS year,
                     ${Trigger.clientSql(sql, sql`u.id`, sql`extract(year FROM u.occurs)::int`)} AS trigger
              FROM upcoming u
              WHERE u.occurs - u.today <= ${rules.daysAhead}
            )
            SELECT d.id::text AS "clientId", d.phone, NULL::text AS "orderUid", ${NAME}::text AS "actionSet", d.trigger
            FROM due d
            LEFT JOIN pronto_notify.client_marks m ON m.client_id = d.id
            WHERE m.birthday_year IS DISTINCT FROM d.year
              AND NOT EXISTS (
                SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = ${NAME} AND n.trigger_key = d.trigger
              )
              AND ${after}
            ORDER BY d.id
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
    const services = yield* Effect.context<BonusServer | Notifications>()
    return {
      plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: rules.texts[chosenAction]! }),
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
            INSERT INTO pronto_notify.client_marks (client_id, birthday_year)
            VALUES (${candidate.clientId}, ${Number(Trigger.partOf(candidate.trigger))})
            ON CONFLICT (client_id) DO UPDATE SET birthday_year = EXCLUDED.birthday_year
          `
        })
    }
  })
)

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

const baseline: BaselineMethod = {
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

export const Birthday = make({
  name: NAME,
  schedule: {
    cron: "0 13 * * *",
    words: "every day at 13:00",
    // The 0-to-14-day window (C6) lets tomorrow's run greet whoever today's would have.
    catchUp: Duration.hours(9),
    catchUpWords: "until 22:00 the same day"
  },
  actionSets: [{ name: NAME, band: null, actions: 2 }],
  rules,
  reaction: ReactionRule.ClosedOrder(),
  selector,
  actions,
  baseline
})
