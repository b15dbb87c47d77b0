/**
 * A kind that exists only for the tests: one file, built with `Kind.make` exactly as the four are,
 * to prove that a new kind needs nothing else than its definition and a place in the registry.
 * Daily at 15:00 it nudges every client without a birthday on file, once ever; two actions by
 * rotation; its reaction is the client's next closed order.
 */
import { Duration, Effect, Schema } from "effect"
import { make, nothingGranted, ReactionRule } from "../../src/kinds/Kind.ts"
import { keysetSelector } from "../../src/kinds/Selection.ts"
import * as Trigger from "../../src/kinds/Trigger.ts"
import * as Rows from "../../src/store/Rows.ts"

const NAME = "nudge"

const rules = { texts: { 1: "Загляни к нам!", 2: "Загляни к нам, мы скучаем!" } as Readonly<Record<number, string>> }

export const Nudge = make({
  name: NAME,
  schedule: { cron: "0 15 * * *", words: "every day at 15:00", catchUp: Duration.hours(1), catchUpWords: "within the hour" },
  actionSets: [{ name: NAME, band: null, actions: 2 }],
  rules,
  reaction: ReactionRule.ClosedOrder(),
  select: keysetSelector({
    key: Schema.Struct({ clientId: Rows.Id }),
    resume: (sql, k) => sql`c.id > ${k.clientId}::bigint`,
    page: (sql, { after, limit }) =>
      sql`
        SELECT c.id::text AS "clientId", c.phone, NULL::text AS "orderUid", ${NAME}::text AS "actionSet",
               ${Trigger.clientSql(sql, sql`c.id`, sql`'once'`)} AS trigger
        FROM jupiter.clients c
        WHERE c.birthday IS NULL
          AND NOT EXISTS (
            SELECT 1 FROM pronto_notify.notifications n
            WHERE n.kind = ${NAME} AND n.trigger_key = ${Trigger.clientSql(sql, sql`c.id`, sql`'once'`)}
          )
          AND ${after}
        ORDER BY c.id
        LIMIT ${limit}
      `
  }),
  plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: rules.texts[chosenAction]! }),
  perform: () => Effect.succeed(nothingGranted)
})
