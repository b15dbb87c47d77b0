/**
 * The report's counts per group, action and business-zone week (weeks from Monday), in one
 * set-based statement: the messages sent in the period and how they were decided, for the trend
 * (Trend.ts), and the messages sent in the pace window (the four weeks before the report's end,
 * whatever the period's start), for "how long until we know" (Decision.ts). Each message is put in
 * its week by a binary search over the weeks' first instants, computed once, rather than by
 * converting every `sent_at` to the business zone.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError, Statement } from "@effect/sql"
import { DateTime, Effect, Schema } from "effect"
import * as Rows from "../store/Rows.ts"

/**
 * The period as a condition on a column (Period.ts's `InPeriod`), spelled out: Deno's publish check
 * trims Period's declarations to what the public API names, and this module is not part of it.
 */
type InPeriod = (column: string) => Statement.Fragment

const WeekRow = Schema.Struct({
  kind: Schema.String,
  actionSet: Schema.String,
  action: Rows.Int,
  /** The week's Monday, a business-zone date. */
  week: Schema.String,
  /** In the period: sent, and of those decided reacted or none. */
  sent: Rows.Int,
  reacted: Rows.Int,
  none: Rows.Int,
  /** In the pace window. */
  recent: Rows.Int
})
export type WeekRow = typeof WeekRow.Type
const decode = Rows.decodeRows(WeekRow)

/** The counts of every group, action and week with messages in the period or the pace window. */
export const weeklyCounts = (ctx: {
  readonly inPeriod: InPeriod
  readonly tz: string
  readonly pace: { readonly from: DateTime.Utc; readonly to: DateTime.Utc }
}): Effect.Effect<ReadonlyArray<WeekRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [paceFrom, paceTo] = [DateTime.toDateUtc(ctx.pace.from), DateTime.toDateUtc(ctx.pace.to)]
    const counted = sql`(${ctx.inPeriod("sent_at")} OR (sent_at >= ${paceFrom} AND sent_at < ${paceTo}))`
    return yield* sql`
      WITH span AS (
        SELECT min(sent_at) AS first, max(sent_at) AS last FROM pronto_notify.notifications
        WHERE status = 'sent' AND ${counted}
      ),
      weeks AS (
        SELECT coalesce(array_agg(monday AT TIME ZONE ${ctx.tz} ORDER BY monday), '{}') AS starts
        FROM span, generate_series(date_trunc('week', first AT TIME ZONE ${ctx.tz}), last AT TIME ZONE ${ctx.tz}, interval '1 week') monday
      ),
      counts AS (
        SELECT kind, action_set, performed_action AS action, width_bucket(sent_at, (SELECT starts FROM weeks)) AS week,
               count(*) FILTER (WHERE ${ctx.inPeriod("sent_at")}) AS sent,
               count(*) FILTER (WHERE ${ctx.inPeriod("sent_at")} AND reaction = 'reacted') AS reacted,
               count(*) FILTER (WHERE ${ctx.inPeriod("sent_at")} AND reaction = 'none') AS none,
               count(*) FILTER (WHERE sent_at >= ${paceFrom} AND sent_at < ${paceTo}) AS recent
        FROM pronto_notify.notifications
        WHERE status = 'sent' AND ${counted}
        GROUP BY 1, 2, 3, 4
      )
      SELECT kind, action_set AS "actionSet", action::int AS action,
             to_char(((SELECT starts FROM weeks)[week]) AT TIME ZONE ${ctx.tz}, 'YYYY-MM-DD') AS week,
             sent::int, reacted::int, none::int, recent::int
      FROM counts
    `.pipe(Effect.flatMap(decode))
  })
