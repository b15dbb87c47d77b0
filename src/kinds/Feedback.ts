/**
 * `feedback`: ask for a review of a delivery order (SPEC, C3).
 *
 * Every hour from 11:00 to 22:00, closed delivery orders from the Site, the App or the New App
 * that have a client, closed within the 24 hours before the run and not yet notified, get one
 * message each, in order of close time then UID. Two actions by rotation: an A/B test of 50
 * against 100 points. The order is marked; the review bonus is accrued later by the mobile app
 * with reason `feedback`.
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer } from "effect"
import { ActionStrategy, type Candidate, Selector } from "./Kind.ts"

export const KIND = "feedback" as const

export const TEXTS: Readonly<Record<number, string>> = {
  1: "Все понравилось? Оцени заказ и получи 50 баллов!",
  2: "Все понравилось? Оцени заказ в приложении и получи 100 баллов!"
}
export const ACTION_COUNT = 2

/** Order sources whose delivery orders are asked about. */
export const SOURCES = ["site", "app", "new_app"] as const
/** Only orders closed within this many hours before the run are eligible (C3). */
export const WINDOW_HOURS = 24
/** The bonus reason the app uses when it accrues the review bonus: the reaction (C7). */
export const REACTION_REASON = "feedback"

export const selector = Layer.effect(
  Selector,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return {
      kind: KIND,
      candidates: (at) => {
        const now = DateTime.toDateUtc(at)
        return sql<Candidate>`
          SELECT o.client_id AS "clientId", c.phone, o.uid::text AS "orderUid",
                 ${KIND}::text AS "actionSet", o.uid::text AS trigger
          FROM jupiter.orders o
          JOIN jupiter.clients c ON c.id = o.client_id
          WHERE o.status = 'closed'
            AND o.is_delivery
            AND o.source IN ${sql.in(SOURCES)}
            AND o.closed_at > ${now}::timestamptz - make_interval(hours => ${WINDOW_HOURS})
            AND o.closed_at <= ${now}
            AND NOT EXISTS (SELECT 1 FROM pronto_notify.order_marks m WHERE m.order_uid = o.uid)
            AND NOT EXISTS (
              SELECT 1 FROM pronto_notify.notifications n
              WHERE n.kind = ${KIND} AND n.trigger_key = o.uid::text
            )
          ORDER BY o.closed_at, o.uid
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
      plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: TEXTS[chosenAction]! }),
      perform: (candidate, _plan, notificationId) =>
        sql`INSERT INTO pronto_notify.order_marks (order_uid, notification_id) VALUES (${candidate.orderUid}, ${notificationId})`
          .pipe(Effect.asVoid)
    }
  })
)

/** The feedback kind: its Selector and ActionStrategy. */
export const layer = Layer.merge(selector, actions)
