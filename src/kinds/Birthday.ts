/**
 * `birthday`: greet a client before the birthday (SPEC, C6).
 *
 * Daily at 13:00: clients whose next birthday is 0 to 14 days away (inclusive) from the run's
 * date in the business zone, 29 February counting as 28 February in other years, and who were
 * not yet greeted for that birthday. The mark holds the year of the birthday greeted, so a
 * 5 January birthday greeted on 25 December is not greeted again on 1 January. Two actions by
 * rotation: the discount (applied by `BirthdayDiscount`) or 500 temporary bonuses.
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer } from "effect"
import { BonusServer } from "../bonus/BonusServer.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { grantTemporaryBonus } from "./Gift.ts"
import { ActionStrategy, type Candidate, Selector } from "./Kind.ts"
import type { Notifications } from "../store/Notifications.ts"

export const KIND = "birthday" as const

export const TEXTS: Readonly<Record<number, string>> = {
  1: "У вас скоро день рождения: дарим скидку 15% на всю следующую неделю",
  2: "С Днем рождения! Дарим 500 бонусов на 2 недели"
}
export const ACTION_COUNT = 2

/** How many days ahead a birthday is greeted (inclusive). */
export const DAYS_AHEAD = 14

/** Action 2: temporary bonuses, expiring `TEMPORARY_LIFETIME_DAYS` (14) days after accrual. */
export const BONUS = 500
export const BONUS_REASON = "birthday"

/** The trigger is `<client id>@<year of the birthday greeted>`. */
const yearOf = (candidate: Candidate) => Number(candidate.trigger.slice(candidate.trigger.indexOf("@") + 1))

export const selector = Layer.effect(
  Selector,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { name: tz } = yield* BusinessTimeZone
    return {
      kind: KIND,
      candidates: (at) => {
        const now = DateTime.toDateUtc(at)
        return sql<Candidate>`
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
          ), due AS (
            SELECT u.id, u.phone, extract(year FROM u.occurs)::int AS year,
                   u.id || '@' || extract(year FROM u.occurs)::int AS trigger
            FROM upcoming u
            WHERE u.occurs - u.today <= ${DAYS_AHEAD}
          )
          SELECT d.id AS "clientId", d.phone, NULL::text AS "orderUid", ${KIND}::text AS "actionSet", d.trigger
          FROM due d
          LEFT JOIN pronto_notify.client_marks m ON m.client_id = d.id
          WHERE m.birthday_year IS DISTINCT FROM d.year
            AND NOT EXISTS (
              SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = ${KIND} AND n.trigger_key = d.trigger
            )
          ORDER BY d.id
        `.stream
      }
    }
  })
)

export const actions = Layer.effect(
  ActionStrategy,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const services = yield* Effect.context<BonusServer | Notifications>()
    return {
      actionCount: () => ACTION_COUNT,
      plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: TEXTS[chosenAction]! }),
      perform: (candidate, plan, notificationId, at) =>
        Effect.gen(function*() {
          if (plan.performedAction === 2) {
            yield* grantTemporaryBonus({
              kind: KIND,
              action: 2,
              clientId: candidate.clientId,
              amount: BONUS,
              reason: BONUS_REASON,
              notificationId,
              at
            }).pipe(Effect.provide(services))
          }
          yield* sql`
            INSERT INTO pronto_notify.client_marks (client_id, birthday_year)
            VALUES (${candidate.clientId}, ${yearOf(candidate)})
            ON CONFLICT (client_id) DO UPDATE SET birthday_year = EXCLUDED.birthday_year
          `
        })
    }
  })
)

/** The birthday kind: its Selector and ActionStrategy. */
export const layer = Layer.merge(selector, actions)
