/**
 * A host program for test/embedding.test.ts: copied into a fresh host project beside
 * examples/host-embed.ts, it imports only the packed @pronto/notify and the host's own effect and
 * @effect/* packages, and does one thing per invocation over the host's plain
 * `PgClient.layer({ url })` (no type parsers), printing the result as one JSON line:
 *
 *   host-jobs migrate | run <kind|reactions> <instant> | order-closed <uid> | discount <uid>
 *   | settle <delivered|not-delivered> <id> <instant> | messages | report | backfill
 */
import { PgClient } from "@effect/sql-pg"
import {
  BirthdayDiscount,
  HostSchema,
  InDoubt,
  Instant,
  Jobs,
  Migrations,
  Notifications,
  Orders,
  ProntoNotify,
  Reactions,
  Report,
  ShiftedClock,
  SiteSender
} from "@pronto/notify"
import { Cause, Config, Console, DateTime, Effect, Exit, Layer, Logger, Option, Redacted, Stream } from "effect"
import process from "node:process"

const [command = "", ...args] = process.argv.slice(2)

const instant = (text: string | undefined) =>
  Option.match(Instant.parseIsoInstant(text ?? ""), {
    onNone: () => Effect.fail(new Error(`not an instant: ${text}`)),
    onSome: Effect.succeed
  })

const print = (value: unknown) => Console.log(JSON.stringify(value))

const program = Effect.gen(function*() {
  switch (command) {
    case "migrate": {
      yield* HostSchema.installReferenceHostSchema
      return yield* print((yield* Migrations.migrate).map(([id]) => id))
    }
    case "run": {
      const at = yield* instant(args[1])
      const job: Effect.Effect<unknown, unknown, Layer.Layer.Success<typeof Notify>> = args[0] === "reactions"
        ? Reactions.run
        : Jobs.run(args[0] ?? "")
      return yield* print(yield* ShiftedClock.withClockAt(at)(job))
    }
    case "order-closed": {
      return yield* print(yield* Orders.orderClosed(args[0] ?? ""))
    }
    case "discount":
      return yield* print(Option.getOrNull(yield* BirthdayDiscount.birthdayDiscountForOrder(args[0] ?? "")))
    case "settle": {
      const at = yield* instant(args[2])
      const settle = args[0] === "delivered" ? InDoubt.settleDelivered(args[1] ?? "") : InDoubt.settleNotDelivered(args[1] ?? "")
      yield* ShiftedClock.withClockAt(at)(settle)
      return yield* print({ settled: args[1] })
    }
    case "messages": {
      const messages = yield* Effect.flatMap(Notifications.Notifications, (n) => Stream.runCollect(n.list({})))
      return yield* print([...messages].map((m) => ({ ...m, sentAt: DateTime.formatIso(m.sentAt) })))
    }
    case "report":
      return yield* print(Report.toJson(yield* Report.compute()))
    case "backfill":
      return yield* print(yield* Orders.backfillLastOrder)
    default:
      return yield* Effect.fail(new Error(`unknown command: ${command}`))
  }
})

const Database = PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL ?? "") })
const Site = Layer.unwrapEffect(
  Effect.map(Config.all({ url: Config.string("SITE_URL"), key: Config.redacted("SITE_KEY") }), SiteSender.layer)
)
const Notify = Layer.mergeAll(ProntoNotify.layer({ timeZone: "Europe/Moscow" }), Site).pipe(Layer.provideMerge(Database))

Effect.runPromiseExit(
  program.pipe(
    Effect.provide(Notify),
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)))
  )
).then((exit) => {
  if (Exit.isFailure(exit)) {
    console.error(`host-jobs: ${Cause.pretty(exit.cause)}`)
    process.exitCode = 1
  }
})
