/**
 * `pronto-notify settle <notification-id> --delivered | --not-delivered`: settles a message left
 * in doubt, once the operator knows whether the Site delivered it.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { settleDelivered, settleNotDelivered } from "../store/InDoubt.ts"
import { BadInput, withLibrary } from "./Common.ts"

export const command = Command.make(
  "settle",
  {
    id: Args.text({ name: "notification-id" }).pipe(Args.withDescription("the id of a message in doubt (see messages)")),
    delivered: Options.boolean("delivered").pipe(Options.withDescription("the Site did deliver it: do its actions, record it sent")),
    notDelivered: Options.boolean("not-delivered").pipe(
      Options.withDescription("the Site did not deliver it: forget the attempt, the next run sends it")
    )
  },
  ({ delivered, id, notDelivered }) =>
    Effect.gen(function*() {
      if (!/^[1-9][0-9]{0,18}$/.test(id)) {
        return yield* new BadInput({ message: `"${id}" is not a notification id (the number messages shows)` })
      }
      if (delivered === notDelivered) {
        return yield* new BadInput({ message: "say which: settle <notification-id> --delivered, or --not-delivered" })
      }
      yield* withLibrary(delivered ? settleDelivered(id) : settleNotDelivered(id))
      yield* Console.log(
        delivered
          ? `notification ${id}: delivered; its actions are done and it is recorded sent`
          : `notification ${id}: not delivered; the next run of its kind sends it`
      )
    })
).pipe(Command.withDescription("settle a message left in doubt, once you know whether the Site delivered it"))
