/**
 * A gift of temporary bonuses that an action makes (invite action 2, birthday action 2): accrued
 * with the kind's reason and a 14-day expiry inside the notification's transaction, and recorded
 * on the notification for the report.
 */
import type { DateTime } from "effect"
import { Effect } from "effect"
import { temporaryExpiry } from "../bonus/BonusLedger.ts"
import { BonusServer } from "../bonus/BonusServer.ts"
import { Notifications } from "../store/Notifications.ts"
import { ActionFailed, type ActionError, type ClientId, type NotificationId } from "./Kind.ts"

export interface Gift {
  readonly kind: string
  readonly action: number
  readonly clientId: ClientId
  readonly amount: number
  readonly reason: string
  readonly notificationId: NotificationId
  /** When it is granted: the 14 days start here. */
  readonly at: DateTime.Utc
}

export const grantTemporaryBonus = (gift: Gift): Effect.Effect<void, ActionError, BonusServer | Notifications> =>
  Effect.gen(function*() {
    const bonus = yield* BonusServer
    const notifications = yield* Notifications
    const operation = yield* bonus.accrue({
      type: "temporary",
      clientId: gift.clientId,
      amount: gift.amount,
      reason: gift.reason,
      at: gift.at,
      expiresAt: temporaryExpiry(gift.at)
    }).pipe(Effect.mapError((error) => new ActionFailed({ kind: gift.kind, action: gift.action, reason: error.message })))
    yield* notifications.recordBonus(gift.notificationId, gift.amount, operation)
  })
