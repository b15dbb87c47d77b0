/**
 * `profile`: ask for the birthday (SPEC, C5).
 *
 * On the 1st of every month at 12:30 (the schedule's business; a run on any day looks at the
 * calendar month before the run's, in the business zone): clients with at least one order closed
 * in that month and no birthday, not yet asked for that month. One action. The mark holds the
 * month asked for; the bonus for filling in the profile is accrued later by the app with reason
 * `profile`, which is the reaction (C7).
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer } from "effect"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { ActionStrategy, type Candidate, Selector } from "./Kind.ts"

export const KIND = "profile" as const

export const TEXT = "Привет! Заполни дату рождения у себя в профиле и получи 100 бонусов на счет!"
export const ACTION_COUNT = 1

/** The bonus reason the app uses when it accrues the profile bonus: the reaction (C7). */
export const REACTION_REASON = "profile"

/** The trigger is `<client id>@<YYYY-MM>`, the month asked for. */
const monthOf = (candidate: Candidate) => `${candidate.trigger.slice(candidate.trigger.indexOf("@") + 1)}-01`

export const selector = Layer.effect(
  Selector,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { name: tz } = yield* BusinessTimeZone
    return {
      kind: KIND,
      candidates: (at) => {
        const now = DateTime.toDateUtc(at)
        // The month's bounds as instants (local midnights), so the orders' index serves them.
        return sql<Candidate>`
          WITH month AS (
            SELECT m.first_day,
                   m.first_day::timestamp AT TIME ZONE ${tz}::text AS starts,
                   (m.first_day + interval '1 month') AT TIME ZONE ${tz}::text AS ends
            FROM (SELECT (date_trunc('month', ${now}::timestamptz AT TIME ZONE ${tz}::text) - interval '1 month')::date
                         AS first_day) m
          ), asked AS (
            SELECT c.id, c.phone, c.id || '@' || to_char(month.first_day, 'YYYY-MM') AS trigger, month.first_day
            FROM jupiter.clients c CROSS JOIN month
            WHERE c.birthday IS NULL
              AND EXISTS (
                SELECT 1 FROM jupiter.orders o
                WHERE o.client_id = c.id AND o.status = 'closed'
                  AND o.closed_at >= month.starts AND o.closed_at < month.ends
              )
          )
          SELECT a.id AS "clientId", a.phone, NULL::text AS "orderUid", ${KIND}::text AS "actionSet", a.trigger
          FROM asked a
          LEFT JOIN pronto_notify.client_marks m ON m.client_id = a.id
          WHERE m.profile_month IS DISTINCT FROM a.first_day
            AND NOT EXISTS (
              SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = ${KIND} AND n.trigger_key = a.trigger
            )
          ORDER BY a.id
        `.stream
      }
    }
  })
)

export const actions = Layer.effect(
  ActionStrategy,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return {
      actionCount: () => ACTION_COUNT,
      plan: () => Effect.succeed({ performedAction: 1, text: TEXT }),
      perform: (candidate) =>
        sql`
          INSERT INTO pronto_notify.client_marks (client_id, profile_month)
          VALUES (${candidate.clientId}, ${monthOf(candidate)}::date)
          ON CONFLICT (client_id) DO UPDATE SET profile_month = EXCLUDED.profile_month
        `.pipe(Effect.asVoid)
    }
  })
)

/** The profile kind: its Selector and ActionStrategy. */
export const layer = Layer.merge(selector, actions)
