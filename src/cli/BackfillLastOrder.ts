/**
 * `pronto-notify backfill-last-order`: the service procedure that recomputes every client's last
 * order time from closed orders, and prints how many clients changed.
 */
import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { backfillLastOrder } from "../host/Orders.ts"
import { withLibrary } from "./Common.ts"

const backfillLastOrderProgram = Effect.gen(function*() {
  const { clientsChanged, inviteMarksCleared } = yield* backfillLastOrder
  yield* Console.log(`${clientsChanged} clients changed (${inviteMarksCleared} inactivity marks cleared)`)
})

export const command = Command.make("backfill-last-order", {}, () => withLibrary(backfillLastOrderProgram)).pipe(
  Command.withDescription("recompute every client's last order time from closed orders")
)
