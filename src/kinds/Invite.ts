/**
 * `invite`: win back a client who stopped ordering (SPEC, C4).
 *
 * Daily at 12:00. With d = days from the local date of the client's last order
 * (`jupiter.clients.last_order_at`) to the local date of the run, both in the business zone:
 * band A is 28 < d and the last order's date after the run's date minus 3 calendar months;
 * band B is 14 < d < 28. Band A's candidates come first, each band by client id; each band
 * rotates its own actions with its own counter (C2). One message per lapse, ever: the mark holds
 * the `last_order_at` that was notified, and the next closed order clears it (`Orders`).
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer } from "effect"
import { BonusServer } from "../bonus/BonusServer.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { grantTemporaryBonus } from "./Gift.ts"
import { ActionFailed, type ActionPlan, ActionStrategy, type Candidate, Selector } from "./Kind.ts"
import type { Notifications } from "../store/Notifications.ts"

export const KIND = "invite" as const

/** Rotation counters: band A (more than 4 weeks) and band B (more than 2, less than 4 weeks). */
export const BAND_A = "invite:A"
export const BAND_B = "invite:B"
export const ACTION_COUNTS: Readonly<Record<string, number>> = { [BAND_A]: 3, [BAND_B]: 2 }

/** Action 1: the balance shown as a whole number of bonuses. */
export const balanceText = (balance: number) => `На счету ${balance} бонусов! Потрать их в новом заказе`
export const TEXTS: Readonly<Record<number, string>> = {
  2: "Как насчет подарков? Дарим 100 бонусов на 2 недели",
  3: "Как насчет скидки? -10% по промокоду PRO10"
}

/** Action 2: temporary bonuses, expiring `TEMPORARY_LIFETIME_DAYS` (14) days after accrual. */
export const BONUS = 100
export const BONUS_REASON = "invite"

/** "4 weeks", "2 weeks" and "3 months" of C4. */
export const FOUR_WEEKS_DAYS = 28
export const TWO_WEEKS_DAYS = 14
export const BAND_A_MONTHS = 3

/** The trigger is `<client id>@<last_order_at, ISO with microseconds>`: one message per lapse. */
const lapseOf = (candidate: Candidate) => candidate.trigger.slice(candidate.trigger.indexOf("@") + 1)

export const selector = Layer.effect(
  Selector,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { name: tz } = yield* BusinessTimeZone
    return {
      kind: KIND,
      candidates: (at) => {
        const now = DateTime.toDateUtc(at)
        // The instant bounds only narrow the scan (an index on last_order_at can serve them);
        // the local-date conditions below decide, with a day's margin for zones and DST.
        return sql<Candidate>`
          WITH lapsed AS (
            SELECT c.id, c.phone, c.last_order_at,
                   (${now}::timestamptz AT TIME ZONE ${tz}::text)::date AS today,
                   (c.last_order_at AT TIME ZONE ${tz}::text)::date AS last_day
            FROM jupiter.clients c
            WHERE c.last_order_at > ${now}::timestamptz - make_interval(months => ${BAND_A_MONTHS}, days => 2)
              AND c.last_order_at < ${now}::timestamptz - make_interval(days => ${TWO_WEEKS_DAYS - 1})
          ), banded AS (
            SELECT l.id, l.phone, l.last_order_at,
                   CASE
                     WHEN l.today - l.last_day > ${FOUR_WEEKS_DAYS}
                          AND l.last_day > (l.today - make_interval(months => ${BAND_A_MONTHS}))::date THEN 'A'
                     WHEN l.today - l.last_day > ${TWO_WEEKS_DAYS} AND l.today - l.last_day < ${FOUR_WEEKS_DAYS} THEN 'B'
                   END AS band,
                   l.id || '@' || to_char(l.last_order_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS trigger
            FROM lapsed l
          )
          SELECT b.id AS "clientId", b.phone, NULL::text AS "orderUid", ${KIND}::text || ':' || b.band AS "actionSet", b.trigger
          FROM banded b
          LEFT JOIN pronto_notify.client_marks m ON m.client_id = b.id
          WHERE b.band IS NOT NULL
            AND m.invite_lapse IS DISTINCT FROM b.last_order_at
            AND NOT EXISTS (
              SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = ${KIND} AND n.trigger_key = b.trigger
            )
          ORDER BY b.band, b.id
        `.stream
      }
    }
  })
)

export const actions = Layer.effect(
  ActionStrategy,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const bonus = yield* BonusServer
    const services = yield* Effect.context<BonusServer | Notifications>()
    const failed = (action: number) => (error: { readonly message: string }) =>
      new ActionFailed({ kind: KIND, action, reason: error.message })
    return {
      actionCount: (actionSet) => ACTION_COUNTS[actionSet]!,
      plan: (candidate, chosenAction, at) => {
        if (chosenAction !== 1) return Effect.succeed<ActionPlan>({ performedAction: chosenAction, text: TEXTS[chosenAction]! })
        // Shown as a whole number, rounded down (C14). A balance below one whole bonus would read
        // "0 бонусов", so it counts as nothing to show: action 2 instead, as for <= 0.
        return bonus.balance(candidate.clientId, at).pipe(
          Effect.mapError(failed(1)),
          Effect.map((balance): ActionPlan => {
            const shown = Math.floor(balance)
            return shown > 0 ? { performedAction: 1, text: balanceText(shown) } : { performedAction: 2, text: TEXTS[2]! }
          })
        )
      },
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
            INSERT INTO pronto_notify.client_marks (client_id, invite_lapse)
            VALUES (${candidate.clientId}, ${lapseOf(candidate)}::timestamptz)
            ON CONFLICT (client_id) DO UPDATE SET invite_lapse = EXCLUDED.invite_lapse
          `
        })
    }
  })
)

/** The invite kind: its Selector and ActionStrategy. */
export const layer = Layer.merge(selector, actions)
