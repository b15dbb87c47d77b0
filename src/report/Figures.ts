/**
 * The report's figures per kind, action set and action: what was sent and how it was decided (C7),
 * with the reacting orders of the kinds whose reaction is an order, read in one set-based statement
 * over `pronto_notify.notifications` and the host's `jupiter.orders`; and the messages left in doubt.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Effect, Schema } from "effect"
import { UUID_PATTERN } from "../host/OrderUid.ts"
import * as Rows from "../store/Rows.ts"
import type { InPeriod } from "./Period.ts"
import type { Interval } from "./Statistics.ts"

export interface Uplift extends Interval {
  /** The action's reaction rate minus the baseline's order rate. */
  readonly difference: number
}

export interface ActionFigures {
  /** The action performed (for an invite fallback, 2). */
  readonly action: number
  readonly sent: number
  readonly reacted: number
  readonly none: number
  readonly pending: number
  /** reacted / (reacted + none); null with nothing decided. */
  readonly rate: number | null
  /**
   * 95% Wilson interval of the rate, at the effective number of decided messages when messages to
   * one client move together (one event answering two of them): `clusteredWilson`.
   */
  readonly interval: Interval | null
  /** Median of reacted_at − sent_at over the reacted ones. */
  readonly medianSecondsToReaction: number | null
  /** Sum of the bonuses the actions accrued. */
  readonly bonusGranted: number
  /**
   * Reactions also credited to another message: one event after two messages open at once (an
   * order after an invite and a greeting, a review after two requests) counts for each (C7).
   */
  readonly sharedReactions: number
  /** Order kinds only: the orders that were the reactions. */
  readonly reactingOrders: { readonly count: number; readonly total: number } | null
  /** Order kinds only: rate − baseline rate, Newcombe's 95% interval; null without a baseline. */
  readonly uplift: Uplift | null
}

/** One row of `figures`: the counts of one kind, action set and action. */
const FigureRow = Schema.Struct({
  kind: Schema.String,
  actionSet: Schema.String,
  action: Rows.Int,
  sent: Rows.Int,
  reacted: Rows.Int,
  sharedReactions: Rows.Int,
  none: Rows.Int,
  pending: Rows.Int,
  medianSeconds: Schema.NullOr(Schema.Number),
  bonusGranted: Schema.Number,
  reactingOrders: Rows.Int,
  reactingOrdersTotal: Schema.Number,
  /** Over the clients: Σ reacted², Σ decided × reacted, Σ decided² (see `clusteredWilson`). */
  reacted2: Schema.Number,
  decidedReacted: Schema.Number,
  decided2: Schema.Number
})
export type FigureRow = typeof FigureRow.Type
const decodeFigures = Rows.decodeRows(FigureRow)
const decodeInDoubt = Rows.decodeRows(Schema.Struct({ kind: Schema.String, count: Rows.Int }))

/**
 * The sent notifications of the period, counted per kind, action set and action performed;
 * `orderKinds` are the kinds whose reaction is an order (their reactions are order UIDs).
 */
export const figures = (
  ctx: { readonly inPeriod: InPeriod; readonly orderKinds: ReadonlyArray<string> }
): Effect.Effect<ReadonlyArray<FigureRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { inPeriod, orderKinds } = ctx
    return yield* sql`
      WITH n AS (
        SELECT kind, action_set, performed_action AS action, client_id, reaction, reaction_ref, sent_at, reacted_at,
               bonus_granted,
               CASE WHEN kind IN ${sql.in(orderKinds.length > 0 ? orderKinds : [""])} AND reaction = 'reacted'
                         AND reaction_ref ~* ${UUID_PATTERN}
                    THEN reaction_ref::uuid END AS order_uid
        FROM pronto_notify.notifications
        WHERE status = 'sent' AND ${inPeriod("sent_at")}
      ),
      -- Events credited to more than one message, whenever those were sent.
      shared AS (
        SELECT reaction_ref FROM pronto_notify.notifications
        WHERE reaction = 'reacted' AND reaction_ref IS NOT NULL
        GROUP BY reaction_ref HAVING count(*) > 1
      ),
      -- Per client: decided and reacted messages, for the variance of a rate whose messages cluster.
      per_client AS (
        SELECT kind, action_set, action, count(*) FILTER (WHERE reaction IN ('reacted', 'none'))::float8 AS d,
               count(*) FILTER (WHERE reaction = 'reacted')::float8 AS r
        FROM n GROUP BY kind, action_set, action, client_id
      ),
      clusters AS (
        SELECT kind, action_set, action, sum(r * r) AS reacted2, sum(d * r) AS "decidedReacted", sum(d * d) AS decided2
        FROM per_client GROUP BY kind, action_set, action
      ),
      counted AS (
      SELECT n.kind, n.action_set AS "actionSet", n.action::int AS action,
             count(*)::int AS sent,
             count(*) FILTER (WHERE n.reaction = 'reacted')::int AS reacted,
             count(*) FILTER (WHERE n.reaction = 'reacted' AND n.reaction_ref IN (SELECT reaction_ref FROM shared))::int
               AS "sharedReactions",
             count(*) FILTER (WHERE n.reaction = 'none')::int AS none,
             count(*) FILTER (WHERE n.reaction = 'pending')::int AS pending,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM n.reacted_at - n.sent_at))
               FILTER (WHERE n.reaction = 'reacted' AND n.reacted_at IS NOT NULL) AS "medianSeconds",
             coalesce(sum(n.bonus_granted), 0)::float8 AS "bonusGranted",
             count(o.uid)::int AS "reactingOrders",
             coalesce(sum(o.total), 0)::float8 AS "reactingOrdersTotal"
      FROM n LEFT JOIN jupiter.orders o ON o.uid = n.order_uid
      GROUP BY n.kind, n.action_set, n.action
      )
      SELECT counted.*, c.reacted2, c."decidedReacted", c.decided2
      FROM counted JOIN clusters c ON c.kind = counted.kind AND c.action_set = counted."actionSet" AND c.action = counted.action
    `.pipe(Effect.flatMap(decodeFigures))
  })

/** The messages attempted in the period and left in doubt, counted per kind. */
export const inDoubt = (
  ctx: { readonly inPeriod: InPeriod }
): Effect.Effect<ReadonlyArray<{ kind: string; count: number }>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql`
      SELECT kind, count(*)::int AS count FROM pronto_notify.notifications
      WHERE status = 'in_doubt' AND ${ctx.inPeriod("attempted_at")}
      GROUP BY kind
    `.pipe(Effect.flatMap(decodeInDoubt))
  })
