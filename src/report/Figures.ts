/**
 * The report's figures per kind and action: what was sent and how it was decided (C7), with the
 * reacting orders of the order kinds, read in one set-based statement over
 * `pronto_notify.notifications` and the host's `jupiter.orders`; and the messages left in doubt.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect } from "effect"
import * as Invite from "../kinds/Invite.ts"
import * as Reactions from "../reactions/Reactions.ts"
import type { InPeriod } from "./Period.ts"
import type { Interval } from "./Statistics.ts"

/** An invite band as the report reads it back from the trigger (see `Report.ts`, GROUPS). */
export type Band = "A" | "B"

/** Kinds whose reaction is an order (C7): their reacting orders are reported and they have a baseline. */
export const ORDER_KINDS: ReadonlyArray<string> = Reactions.ORDER_REACTION_KINDS

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

/** One row of `figures`: the counts of one kind, band and action. */
export interface FigureRow {
  readonly kind: string
  readonly band: Band | null
  readonly action: number
  readonly sent: number
  readonly reacted: number
  readonly none: number
  readonly pending: number
  readonly medianSeconds: number | null
  readonly bonusGranted: number
  readonly reactingOrders: number
  readonly reactingOrdersTotal: number
}

const UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
const ISO_INSTANT = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}(:?\\d{2})?)$"

/** The sent notifications of the period, counted per kind, invite band and action performed. */
export const figures = (
  ctx: { readonly tz: string; readonly inPeriod: InPeriod }
): Effect.Effect<ReadonlyArray<FigureRow>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { inPeriod, tz } = ctx
    return yield* sql<FigureRow>`
      WITH n AS (
        SELECT kind, performed_action AS action, reaction, sent_at, reacted_at, bonus_granted,
               CASE WHEN kind IN ${sql.in(ORDER_KINDS)} AND reaction = 'reacted' AND reaction_ref ~* ${UUID}
                    THEN reaction_ref::uuid END AS order_uid,
               CASE WHEN kind = 'invite' AND split_part(trigger_key, '@', 2) ~ ${ISO_INSTANT} THEN
                 CASE WHEN (sent_at AT TIME ZONE ${tz})::date
                           - (split_part(trigger_key, '@', 2)::timestamptz AT TIME ZONE ${tz})::date > ${Invite.FOUR_WEEKS_DAYS}
                      THEN 'A' ELSE 'B' END
               END AS band
        FROM pronto_notify.notifications
        WHERE status = 'sent' AND ${inPeriod("sent_at")}
      )
      SELECT n.kind, n.band, n.action::int AS action,
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
      GROUP BY n.kind, n.band, n.action
    `
  })

/** The messages attempted in the period and left in doubt, counted per kind. */
export const inDoubt = (
  ctx: { readonly inPeriod: InPeriod }
): Effect.Effect<ReadonlyArray<{ kind: string; count: number }>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ kind: string; count: number }>`
      SELECT kind, count(*)::int AS count FROM pronto_notify.notifications
      WHERE status = 'in_doubt' AND ${ctx.inPeriod("attempted_at")}
      GROUP BY kind
    `
  })
