/**
 * A gift of temporary bonuses that an action makes (invite action 2, birthday action 2): accrued
 * with the kind's reason and a 14-day expiry inside the message's transaction; what was granted
 * goes back to the engine, which records it on the notification with its `sent` status.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { type DateTime, Effect } from "effect"
import { temporaryExpiry } from "../bonus/BonusLedger.ts"
import { BonusServer } from "../bonus/BonusServer.ts"
import type { ClientId } from "../store/Ids.ts"
import {
  ActionFailed,
  type ActionError,
  type ActionPlan,
  type Candidate,
  type GrantedBonus,
  type PerformContext,
  type Performed
} from "./Kind.ts"

export interface Gift {
  readonly kind: string
  readonly action: number
  readonly clientId: ClientId
  readonly amount: number
  readonly reason: string
  /** When it is granted: the 14 days start here. */
  readonly at: DateTime.Utc
}

export const grantTemporaryBonus = (gift: Gift): Effect.Effect<GrantedBonus, ActionFailed, BonusServer> =>
  Effect.flatMap(BonusServer, (bonus) =>
    bonus.accrue({
      type: "temporary",
      clientId: gift.clientId,
      amount: gift.amount,
      reason: gift.reason,
      at: gift.at,
      expiresAt: temporaryExpiry(gift.at)
    })).pipe(
      Effect.map((operation): GrantedBonus => ({ amount: gift.amount, operation })),
      Effect.mapError((error) => new ActionFailed({ kind: gift.kind, action: gift.action, reason: error.message }))
    )

export interface GiftThenMark {
  readonly kind: string
  /** The action that gives the gift. */
  readonly giftAction: number
  readonly amount: number
  readonly reason: string
  /** The trigger's mark, written whatever the action. */
  readonly mark: (candidate: Candidate) => Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient>
}

/** A kind's `perform` when one of its actions is a gift: the gift for that action, then the mark for every action. */
export const giftThenMark = (options: GiftThenMark) =>
(
  candidate: Candidate,
  plan: ActionPlan,
  { at }: PerformContext
): Effect.Effect<Performed, ActionError, SqlClient.SqlClient | BonusServer> =>
  Effect.gen(function*() {
    const bonus = plan.performedAction === options.giftAction
      ? yield* grantTemporaryBonus({
        kind: options.kind,
        action: options.giftAction,
        clientId: candidate.clientId,
        amount: options.amount,
        reason: options.reason,
        at
      })
      : null
    yield* options.mark(candidate)
    return { bonus }
  })
