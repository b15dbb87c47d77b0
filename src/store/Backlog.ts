/**
 * What is left for people and for the reaction job, by kind, as monitoring samples it: the messages
 * in doubt of runs that have ended (what an operator can settle) with the oldest one's attempt,
 * and the sent messages whose reaction is still pending. Two aggregates over the partial indexes
 * of in-doubt and pending notifications, in one statement.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Rows from "./Rows.ts"
import { runIsGone } from "./RunSession.ts"
import * as TablesMissing from "./TablesMissing.ts"

export const KindBacklog = Schema.Struct({
  kind: Schema.String,
  inDoubt: Rows.Int,
  /** When the oldest message in doubt was attempted; null when none is. */
  oldestInDoubt: Schema.NullOr(Rows.Instant),
  reactionsPending: Rows.Int
})
export type KindBacklog = typeof KindBacklog.Type
const decode = Rows.decodeRows(KindBacklog)

/** Each kind that has messages in doubt or reactions pending; a kind with neither has no row. */
export const byKind: Effect.Effect<ReadonlyArray<KindBacklog>, SqlError.SqlError | TablesMissing.TablesMissing, SqlClient.SqlClient> =
  TablesMissing.named(Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      SELECT kind, sum("inDoubt")::int AS "inDoubt", min("oldestInDoubt") AS "oldestInDoubt",
             sum("reactionsPending")::int AS "reactionsPending"
      FROM (
        SELECT n.kind, count(*) AS "inDoubt", min(n.attempted_at) AS "oldestInDoubt", 0 AS "reactionsPending"
        FROM pronto_notify.notifications n
        WHERE n.status = 'in_doubt' AND ${runIsGone(sql)}
        GROUP BY n.kind
        UNION ALL
        SELECT n.kind, 0, NULL, count(*)
        FROM pronto_notify.notifications n
        WHERE n.status = 'sent' AND n.reaction = 'pending'
        GROUP BY n.kind
      ) b
      GROUP BY kind ORDER BY kind
    `.pipe(Effect.flatMap(decode))))
