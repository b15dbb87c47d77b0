/**
 * `pronto-notify order-closed <order-uid>`: replays a missed order-close event and prints one
 * line about what changed.
 */
import { Args, Command } from "@effect/cli"
import { Console, DateTime, Effect, Option } from "effect"
import { orderClosed } from "../host/Orders.ts"
import { parseOrderUid } from "../host/OrderUid.ts"
import { withLibrary } from "./Common.ts"

/** Runs `Orders.orderClosed` and prints one line about what changed. */
const orderClosedProgram = (orderUid: string) =>
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

export const command = Command.make(
  "order-closed",
  { orderUid: Args.text({ name: "order-uid" }).pipe(Args.withDescription("the UID of a closed order in jupiter.orders")) },
  ({ orderUid }) => Effect.flatMap(parseOrderUid(orderUid), (uid) => withLibrary(orderClosedProgram(uid)))
).pipe(Command.withDescription("record an order's close: the client's last order time; clears the inactivity mark"))
