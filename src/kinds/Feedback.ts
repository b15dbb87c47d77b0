/**
 * `feedback`: ask for a review of a delivery order (SPEC, C3).
 *
 * Every hour from 11:00 to 22:00, closed delivery orders from the Site, the App or the New App
 * that have a client, closed within the 24 hours before the run and not yet notified, get one
 * message each, in order of close time then UID. Two actions by rotation: an A/B test of 50
 * against 100 points. The order is marked; the review bonus is accrued later by the mobile app
 * with reason `feedback`, which is the reaction.
 */
import { Duration, Effect, Schema } from "effect"
import { make, nothingGranted, ReactionRule } from "./Kind.ts"
import { markOrder } from "./Marks.ts"
import { keysetSelector } from "./Selection.ts"

const NAME = "feedback"

const rules = {
  texts: {
    1: "Все понравилось? Оцени заказ и получи 50 баллов!",
    2: "Все понравилось? Оцени заказ в приложении и получи 100 баллов!"
  } as Readonly<Record<number, string>>,
  /** Order sources whose delivery orders are asked about. */
  sources: ["site", "app", "new_app"] as ReadonlyArray<string>,
  /** Only orders closed within this many hours before the run are eligible (C3). */
  windowHours: 24,
  /** The reason the app accrues the review bonus with: the reaction (C7). */
  reactionReason: "feedback"
}

export const Feedback = make({
  name: NAME,
  schedule: {
    cron: "0 11-22 * * *",
    words: "every hour from 11:00 to 22:00",
    // Shorter than the step to the next slot; the 24-hour look-back (C3) covers a skipped hour. The
    // 22:00 slot's window closes with the sending hours (scheduling/Schedule): its own minute.
    catchUp: Duration.hours(1),
    catchUpWords: "within the hour; the 22:00 slot within its minute"
  },
  actionSets: [{ name: NAME, band: null, actions: 2 }],
  rules,
  reaction: ReactionRule.Accrual({ reason: rules.reactionReason }),

  select: keysetSelector({
    // A page ends at the last order's close instant (exact, UTC text) and UID, and the next resumes after it (C2).
    key: Schema.Struct({ closedAt: Schema.String, orderUid: Schema.String }),
    resume: (sql, k) => sql`(o.closed_at, o.uid) > (${k.closedAt}::timestamptz, ${k.orderUid}::uuid)`,
    page: (sql, { after, limit, now }) =>
      sql`
        SELECT o.client_id::text AS "clientId", c.phone, o.uid::text AS "orderUid",
               ${NAME}::text AS "actionSet", o.uid::text AS trigger,
               to_char(o.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "closedAt"
        FROM jupiter.orders o
        JOIN jupiter.clients c ON c.id = o.client_id
        WHERE o.status = 'closed'
          AND o.is_delivery
          AND o.source IN ${sql.in(rules.sources)}
          AND o.closed_at > ${now}::timestamptz - make_interval(hours => ${rules.windowHours})
          AND o.closed_at <= ${now}
          AND NOT EXISTS (SELECT 1 FROM pronto_notify.order_marks m WHERE m.order_uid = o.uid)
          AND NOT EXISTS (
            SELECT 1 FROM pronto_notify.notifications n
            WHERE n.kind = ${NAME} AND n.trigger_key = o.uid::text
          )
          AND ${after}
        ORDER BY o.closed_at, o.uid
        LIMIT ${limit}
      `
  }),

  plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: rules.texts[chosenAction]! }),

  perform: (candidate, _plan, { notificationId }) => Effect.as(markOrder(candidate.orderUid, notificationId), nothingGranted)
})
