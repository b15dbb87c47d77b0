/**
 * The pace of sending: each group's and action's messages sent in the `PACE_DAYS` days before the
 * report's end, for "how long until we know" (Decision.ts). One set-based statement over the
 * `sent_at` index; the period's start does not bound it (the pace is of the sending, not of what
 * the period counts).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { DateTime, Effect, Schema } from "effect"
import * as Rows from "../store/Rows.ts"

const PaceRow = Schema.Struct({ kind: Schema.String, actionSet: Schema.String, action: Rows.Int, sent: Rows.Int })
export type PaceRow = typeof PaceRow.Type
const decode = Rows.decodeRows(PaceRow)

/** Messages sent per group and action in the `days` days that end at `end` (exclusive). */
export const recentlySent = (
  ctx: { readonly end: DateTime.Utc; readonly days: number }
): Effect.Effect<ReadonlyArray<PaceRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const end = DateTime.toDateUtc(ctx.end)
    const start = DateTime.toDateUtc(DateTime.subtract(ctx.end, { days: ctx.days }))
    return yield* sql`
      SELECT kind, action_set AS "actionSet", performed_action::int AS action, count(*)::int AS sent
      FROM pronto_notify.notifications
      WHERE status = 'sent' AND sent_at >= ${start} AND sent_at < ${end}
      GROUP BY 1, 2, 3
    `.pipe(Effect.flatMap(decode))
  })
