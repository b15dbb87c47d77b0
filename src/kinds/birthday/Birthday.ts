/**
 * `birthday`: greet a client before the birthday (SPEC, C6).
 *
 * Daily at 13:00: clients whose next birthday is 0 to 14 days away (inclusive) from the run's
 * date in the business zone, 29 February counting as 28 February in other years, and who were
 * not yet greeted for that birthday. The mark holds the year of the birthday greeted, so a
 * 5 January birthday greeted on 25 December is not greeted again on 1 January. Two actions by
 * rotation: the discount (applied by `host/BirthdayDiscount`) or 500 temporary bonuses. The
 * report's baseline is in `Baseline.ts` beside this file.
 */
import { Duration, Effect, Schema } from "effect"
import * as Rows from "../../store/Rows.ts"
import { giftThenMark } from "../Gift.ts"
import { make, ReactionRule } from "../Kind.ts"
import { markClient } from "../Marks.ts"
import { CLIENT_PAGE_SIZE, keysetSelector } from "../Selection.ts"
import * as Trigger from "../Trigger.ts"
import { baseline } from "./Baseline.ts"
import { NAME, rules } from "./Rules.ts"

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

  select: keysetSelector({
    // A page resumes after the last client read, by id (C2).
    key: Schema.Struct({ clientId: Rows.Id }),
    resume: (sql, k) => sql`d.id > ${k.clientId}::bigint`,
    size: CLIENT_PAGE_SIZE,
    // The clients due are few (a fortnight of birthdays) but the planner cannot tell: computed
    // once, in one pass over the clients, before the marks are looked up (not a merge over all).
    page: (sql, { after, limit, now, tz }) =>
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
      `
  }),

  plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: rules.texts[chosenAction]! }),

  // Action 2's gift, and for every action the birthday's year greeted (the trigger holds it).
  perform: giftThenMark({
    kind: NAME,
    giftAction: 2,
    amount: rules.bonus,
    reason: rules.bonusReason,
    mark: (candidate) => markClient(candidate.clientId, "birthday_year", Number(Trigger.partOf(candidate.trigger)), "integer")
  }),

  baseline
})
