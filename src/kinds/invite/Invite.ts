/**
 * `invite`: win back a client who stopped ordering (SPEC, C4).
 *
 * Daily at 12:00. With d = days from the local date of the client's last order
 * (`jupiter.clients.last_order_at`) to the local date of the run, both in the business zone:
 * band A is 28 < d and the last order's date after the run's date minus 3 calendar months;
 * band B is 14 < d < 28 (`bandSql`, the one statement of the rule). Band A's candidates come first,
 * each band by client id; each band rotates its own actions with its own counter (C2). One message
 * per lapse, ever: the mark holds the `last_order_at` that was notified, and the next closed order
 * clears it (`host/Orders`). The report's baseline is in `Baseline.ts` beside this file.
 */
import { Duration, Effect, Schema } from "effect"
import { BonusServer } from "../../bonus/BonusServer.ts"
import * as Rows from "../../store/Rows.ts"
import { giftThenMark } from "../Gift.ts"
import { ActionFailed, type ActionPlan, make, ReactionRule } from "../Kind.ts"
import { markClient } from "../Marks.ts"
import { CLIENT_PAGE_SIZE, keysetSelector } from "../Selection.ts"
import * as Trigger from "../Trigger.ts"
import { baseline } from "./Baseline.ts"
import { bandSql, NAME, rules } from "./Rules.ts"

export { bandSql } from "./Rules.ts"

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

  select: keysetSelector({
    // A page resumes after the last client read: band A before band B, then by id (C2).
    key: Schema.Struct({ band: Schema.String, clientId: Rows.Id }),
    resume: (sql, k) => sql`(b.band, b.id) > (${k.band}, ${k.clientId}::bigint)`,
    size: CLIENT_PAGE_SIZE,
    page: (sql, { after, limit, now, tz }) => {
      // One message per lapse: the trigger carries the last order's instant, to the microsecond.
      const lapseTrigger = Trigger.clientSql(
        sql,
        sql`l.id`,
        sql`to_char(l.last_order_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
      )
      // The instant bounds only narrow the scan (an index on last_order_at can serve them);
      // the local-date conditions of the band decide, with a day's margin for zones and DST.
      return sql`
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
      `
    }
  }),

  plan: (candidate, chosenAction, at) => {
    if (chosenAction !== 1) {
      return Effect.succeed<ActionPlan>({ performedAction: chosenAction, text: rules.texts[chosenAction]! })
    }
    // Shown as a whole number, rounded down (C14). A balance below one whole bonus would read
    // "0 бонусов", so it counts as nothing to show: action 2 instead, as for <= 0.
    return Effect.flatMap(BonusServer, (bonus) => bonus.balance(candidate.clientId, at)).pipe(
      Effect.mapError((error) => new ActionFailed({ kind: NAME, action: 1, reason: error.message })),
      Effect.map((balance): ActionPlan => {
        const shown = Math.floor(balance)
        return shown > 0
          ? { performedAction: 1, text: rules.balanceText(shown) }
          : { performedAction: 2, text: rules.texts[2]! }
      })
    )
  },

  // Action 2's gift, and for every action the lapse notified (the trigger holds it).
  perform: giftThenMark({
    kind: NAME,
    giftAction: 2,
    amount: rules.bonus,
    reason: rules.bonusReason,
    mark: (candidate) => markClient(candidate.clientId, "invite_lapse", Trigger.partOf(candidate.trigger), "timestamptz")
  }),

  baseline,
  reportNote: "Grouped by the action performed: action 1 falls back to action 2 for clients whose balance is not " +
    "positive, so the action 2 group also holds clients that rotation gave action 1."
})
