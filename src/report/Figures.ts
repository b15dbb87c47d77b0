/**
 * The report's figures per kind, action set and action: what was sent and how it was decided (C7),
 * with the reacting orders of the kinds whose reaction is an order, read in one set-based statement
 * over `pronto_notify.notifications` and the host's `jupiter.orders`; and the messages left in doubt.
 */
import { SqlClient, type SqlError } from "@effect/sql"
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
  /** 95% Wilson interval of the rate. */
  readonly interval: Interval | null
  /** Median of reacted_at − sent_at over the reacted ones. */
  readonly medianSecondsToReaction: number | null
  /** Sum of the bonuses the actions accrued. */
  readonly bonusGranted: number
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
  none: Rows.Int,
  pending: Rows.Int,
  medianSeconds: Schema.NullOr(Schema.Number),
  bonusGranted: Schema.Number,
  reactingOrders: Rows.Int,
  reactingOrdersTotal: Schema.Number
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
        SELECT kind, action_set, performed_action AS action, reaction, sent_at, reacted_at, bonus_granted,
               CASE WHEN kind IN ${sql.in(orderKinds.length > 0 ? orderKinds : [""])} AND reaction = 'reacted'
                         AND reaction_ref ~* ${UUID_PATTERN}
                    THEN reaction_ref::uuid END AS order_uid
        FROM pronto_notify.notifications
        WHERE status = 'sent' AND ${inPeriod("sent_at")}
      )
      SELECT n.kind, n.action_set AS "actionSet", n.action::int AS action,
             count(*)::int AS sent,
             count(*) FILTER (WHERE n.reaction = 'reacted')::int AS reacted,
             count(*) FILTER (WHERE n.reaction = 'none')::int AS none,
             count(*) FILTER (WHERE n.reaction = 'pending')::int AS pending,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM n.reacted_at - n.sent_at))
               FILTER (WHERE n.reaction = 'reacted' AND n.reacted_at IS NOT NULL) AS "medianSeconds",
             coalesce(sum(n.bonus_granted), 0)::float8 AS "bonusGranted",
             count(o.uid)::int AS "reactingOrders",
             coalesce(sum(o.total), 0)::float8 AS "reactingOrdersTotal"
      FROM n LEFT JOIN jupiter.orders o ON o.uid = n.order_uid
      GROUP BY n.kind, n.action_set, n.action
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
