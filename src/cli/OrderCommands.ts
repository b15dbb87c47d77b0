/**
 * What `pronto-notify order-closed <order-uid>` (replays a missed order-close event) and
 * `pronto-notify backfill-last-order` (the service procedure) do and print. Both take the
 * SqlClient from the context: the command line provides the configured database.
 */
import { Console, DateTime, Effect, Option } from "effect"
import { backfillLastOrder, orderClosed } from "../host/Orders.ts"

/** Runs `Orders.orderClosed` and prints one line about what changed. */
export const orderClosedProgram = (orderUid: string) =>
  Effect.gen(function*() {
    const result = yield* orderClosed(orderUid)
    if (Option.isNone(result.clientId)) {
      return yield* Console.log(`order ${result.orderUid} has no client: nothing to update`)
    }
    const last = Option.match(result.lastOrderAt, { onNone: () => "none", onSome: DateTime.formatIso })
    yield* Console.log(
      `order ${result.orderUid}: client ${result.clientId.value} last order ${last}${
        result.moved ? "" : " (unchanged: a later order is already recorded)"
      }${result.inviteMarkCleared ? "; inactivity mark cleared" : ""}`
    )
  })

/** Runs `Orders.backfillLastOrder` and prints how many clients changed. */
export const backfillLastOrderProgram = Effect.gen(function*() {
  const { clientsChanged, inviteMarksCleared } = yield* backfillLastOrder
  yield* Console.log(`${clientsChanged} clients changed (${inviteMarksCleared} inactivity marks cleared)`)
})
