/**
 * `pronto-notify settle [<notification-id>...] --delivered | --not-delivered [--kind] [--from] [--to]
 * [--run]`: settles messages left in doubt, once the operator knows whether the Site delivered
 * them: the ids given, or every one of a kind, an attempt-time range and a run (see `in-doubt`).
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { Kinds } from "../kinds/Kinds.ts"
import { type InDoubtFilter, settleAllDelivered, settleAllNotDelivered } from "../store/InDoubt.ts"
import { BadInput, parseOptionalInstant, withLibrary } from "./Common.ts"

/** Which messages in doubt, besides ids: shared with `in-doubt`. */
export const filterOptions = {
  kind: Options.text("kind").pipe(Options.withDescription("only this kind's messages"), Options.optional),
  from: Options.text("from").pipe(
    Options.withDescription("only messages attempted at or after this ISO-8601 instant"),
    Options.optional
  ),
  to: Options.text("to").pipe(Options.withDescription("only messages attempted before this ISO-8601 instant"), Options.optional),
  run: Options.text("run").pipe(Options.withDescription("only the messages of this run (its summary's run)"), Options.optional)
}

interface FilterArgs {
  readonly kind: Option.Option<string>
  readonly from: Option.Option<string>
  readonly to: Option.Option<string>
  readonly run: Option.Option<string>
}

/** The filter options checked before the database is touched: a known kind, instants, a run number. */
export const parseFilter = (args: FilterArgs) =>
  Effect.gen(function*() {
    const kind = yield* Option.match(args.kind, {
      onNone: () => Effect.succeed(undefined),
      onSome: (name) =>
        Effect.map(Effect.flatMap(Kinds, (registry) => registry.get(name)), (k) => k.name).pipe(
          Effect.mapError((e) => new BadInput({ message: e.message }))
        )
    })
    const from = Option.getOrUndefined(yield* parseOptionalInstant("--from", args.from))
    const to = Option.getOrUndefined(yield* parseOptionalInstant("--to", args.to))
    const run = yield* Option.match(args.run, {
      onNone: () => Effect.succeed(undefined),
      onSome: (text) =>
        /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 2 ** 31 - 1
          ? Effect.succeed(Number(text))
          : Effect.fail(new BadInput({ message: `--run "${text}" is not a run (the number a run's summary shows)` }))
    })
    return { kind, from, to, run } satisfies InDoubtFilter
  })

export const command = Command.make(
  "settle",
  {
    ids: Args.text({ name: "notification-id" }).pipe(
      Args.withDescription("the id of a message in doubt (see messages)"),
      Args.repeated
    ),
    delivered: Options.boolean("delivered").pipe(Options.withDescription("the Site did deliver it: do its actions, record it sent")),
    notDelivered: Options.boolean("not-delivered").pipe(
      Options.withDescription("the Site did not deliver it: forget the attempt, the next run sends it")
    ),
    ...filterOptions
  },
  (args) =>
    Effect.gen(function*() {
      const bad = args.ids.find((id) => !/^[1-9][0-9]{0,18}$/.test(id))
      if (bad !== undefined) {
        return yield* new BadInput({ message: `"${bad}" is not a notification id (the number messages shows)` })
      }
      if (args.delivered === args.notDelivered) {
        return yield* new BadInput({ message: "say which: settle <notification-id> --delivered, or --not-delivered" })
      }
      const filter = yield* parseFilter(args)
      const byFilter = Object.values(filter).some((v) => v !== undefined)
      if (args.ids.length > 0 && byFilter) {
        return yield* new BadInput({ message: "give notification ids, or --kind/--from/--to/--run, not both" })
      }
      if (args.ids.length === 0 && !byFilter) {
        return yield* new BadInput({
          message: "say which messages: notification ids, or --kind/--from/--to/--run (see pronto-notify in-doubt)"
        })
      }
      const which: InDoubtFilter = args.ids.length > 0 ? { ids: args.ids } : filter
      const { settled } = yield* withLibrary(args.delivered ? settleAllDelivered(which) : settleAllNotDelivered(which))
      const [id] = args.ids
      if (args.ids.length === 1 && id !== undefined) {
        return yield* Console.log(
          args.delivered
            ? `notification ${id}: delivered; its actions are done and it is recorded sent`
            : `notification ${id}: not delivered; the next run of its kind sends it`
        )
      }
      yield* Console.log(
        args.delivered
          ? `${settled} messages settled as delivered: their actions are done and they are recorded sent`
          : `${settled} messages settled as not delivered: the next run of each kind sends them`
      )
    })
).pipe(Command.withDescription("settle a message left in doubt, once you know whether the Site delivered it"))
