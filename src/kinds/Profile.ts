/**
 * `profile`: ask for the birthday (SPEC, C5).
 *
 * On the 1st of every month at 12:30 (the schedule's business; a run on any day looks at the
 * calendar month before the run's, in the business zone): clients with at least one order closed
 * in that month and no birthday, not yet asked for that month. One action. The mark holds the
 * month asked for; the bonus for filling in the profile is accrued later by the app with reason
 * `profile`, which is the reaction (C7).
 */
import { Duration, Effect, Schema } from "effect"
import * as Rows from "../store/Rows.ts"
import { make, nothingGranted, ReactionRule } from "./Kind.ts"
import { markClient } from "./Marks.ts"
import { CLIENT_PAGE_SIZE, keysetSelector } from "./Selection.ts"
import * as Trigger from "./Trigger.ts"

const NAME = "profile"

const rules = {
  text: "Привет! Заполни дату рождения у себя в профиле и получи 100 бонусов на счет!",
  /** The reason the app accrues the profile bonus with: the reaction (C7). */
  reactionReason: "profile"
}

export const Profile = make({
  name: NAME,
  schedule: {
    cron: "30 12 1 * *",
    words: "on the 1st of every month at 12:30",
    catchUp: Duration.sum(Duration.hours(9), Duration.minutes(30)),
    catchUpWords: "until 22:00 on the same 1st"
  },
  actionSets: [{ name: NAME, band: null, actions: 1 }],
  rules,
  reaction: ReactionRule.Accrual({ reason: rules.reactionReason }),

  select: keysetSelector({
    // A page resumes after the last client read, by id (C2).
    key: Schema.Struct({ clientId: Rows.Id }),
    resume: (sql, k) => sql`a.id > ${k.clientId}::bigint`,
    size: CLIENT_PAGE_SIZE,
    // The month's bounds as instants (local midnights), so the orders' index serves them.
    page: (sql, { after, limit, now, tz }) =>
      sql`
        WITH month AS (
          SELECT m.first_day,
                 m.first_day::timestamp AT TIME ZONE ${tz}::text AS starts,
                 (m.first_day + interval '1 month') AT TIME ZONE ${tz}::text AS ends
          FROM (SELECT (date_trunc('month', ${now}::timestamptz AT TIME ZONE ${tz}::text) - interval '1 month')::date
                       AS first_day) m
        ), asked AS (
          SELECT c.id, c.phone, ${Trigger.clientSql(sql, sql`c.id`, sql`to_char(month.first_day, 'YYYY-MM')`)} AS trigger,
                 month.first_day
          FROM jupiter.clients c CROSS JOIN month
          WHERE c.birthday IS NULL
            AND EXISTS (
              SELECT 1 FROM jupiter.orders o
              WHERE o.client_id = c.id AND o.status = 'closed'
                AND o.closed_at >= month.starts AND o.closed_at < month.ends
            )
        )
        SELECT a.id::text AS "clientId", a.phone, NULL::text AS "orderUid", ${NAME}::text AS "actionSet", a.trigger
        FROM asked a
        LEFT JOIN pronto_notify.client_marks m ON m.client_id = a.id
        WHERE m.profile_month IS DISTINCT FROM a.first_day
          AND NOT EXISTS (
            SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = ${NAME} AND n.trigger_key = a.trigger
          )
          AND ${after}
        ORDER BY a.id
        LIMIT ${limit}
      `
  }),

  plan: () => Effect.succeed({ performedAction: 1, text: rules.text }),

  // The mark holds the month's first day.
  perform: (candidate) =>
    Effect.as(markClient(candidate.clientId, "profile_month", `${Trigger.partOf(candidate.trigger)}-01`, "date"), nothingGranted)
})
