/**
 * A kind that exists only for the tests: one file, built with `Kind.make` exactly as the four are,
 * to prove that a new kind needs nothing else than its definition and a place in the registry.
 * Daily at 15:00 it nudges every client without a birthday on file, once ever; two actions by
 * rotation; its reaction is the client's next closed order.
 */
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Layer, Schema } from "effect"
import { ActionStrategy, keysetPages, make, ReactionRule, Selector } from "../../src/kinds/Kind.ts"
import * as Rows from "../../src/store/Rows.ts"
import * as Trigger from "../../src/kinds/Trigger.ts"

const NAME = "nudge"

const PageKey = Schema.Struct({ clientId: Rows.Id })

const rules = { texts: { 1: "Загляни к нам!", 2: "Загляни к нам, мы скучаем!" } as Readonly<Record<number, string>> }

export const Nudge = make({
  name: NAME,
  schedule: { cron: "0 15 * * *", words: "every day at 15:00", catchUp: Duration.hours(1), catchUpWords: "within the hour" },
  actionSets: [{ name: NAME, band: null, actions: 2 }],
  rules,
  reaction: ReactionRule.ClosedOrder(),
  selector: Layer.effect(
    Selector,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      candidates: () =>
        keysetPages(sql, PageKey, (k) => sql`c.id > ${k.clientId}::bigint`, (after, limit) =>
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
          `)
    }))
  ),
  actions: Layer.succeed(ActionStrategy, {
    plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: rules.texts[chosenAction]! }),
    perform: () => Effect.void
  })
})
