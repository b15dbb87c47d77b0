/**
 * Per report group, the sums over its clients that the client-clustered variances need
 * (ClusteredVariance.ts): for each pair of actions, Σ r_i r_j, Σ d_i r_j, Σ r_i d_j and Σ d_i d_j
 * over the clients' decided (d) and reacted (r) messages of the period, and how many clients had
 * decided messages of both. One set-based statement: the messages are counted per client and
 * action, then the clients' counts of two actions multiplied and summed.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Rows from "../store/Rows.ts"
import type { InPeriod } from "./Period.ts"

const ClientSumsRow = Schema.Struct({
  kind: Schema.String,
  actionSet: Schema.String,
  first: Rows.Int,
  second: Rows.Int,
  rr: Schema.Number,
  dr: Schema.Number,
  rd: Schema.Number,
  dd: Schema.Number,
  clients: Rows.Int
})
export type ClientSumsRow = typeof ClientSumsRow.Type
const decode = Rows.decodeRows(ClientSumsRow)

/** The client sums of every group and pair of actions (first ≤ second) over the decided messages sent in the period. */
export const clientSums = (
  ctx: { readonly inPeriod: InPeriod }
): Effect.Effect<ReadonlyArray<ClientSumsRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql`
      WITH per_client AS (
        SELECT kind, action_set, performed_action AS action, client_id, count(*)::float8 AS d,
               count(*) FILTER (WHERE reaction = 'reacted')::float8 AS r
        FROM pronto_notify.notifications
        WHERE status = 'sent' AND reaction IN ('reacted', 'none') AND ${ctx.inPeriod("sent_at")}
        GROUP BY kind, action_set, performed_action, client_id
      )
      SELECT a.kind, a.action_set AS "actionSet", a.action::int AS first, b.action::int AS second,
             sum(a.r * b.r) AS rr, sum(a.d * b.r) AS dr, sum(a.r * b.d) AS rd, sum(a.d * b.d) AS dd,
             count(*)::int AS clients
      FROM per_client a
      JOIN per_client b ON b.kind = a.kind AND b.action_set = a.action_set AND b.client_id = a.client_id
                        AND b.action >= a.action
      GROUP BY a.kind, a.action_set, a.action, b.action
    `.pipe(Effect.flatMap(decode))
  })
