/**
 * The `pronto-notify` command line. Configuration comes from the environment only (C12):
 * DATABASE_URL (absent: embedded PostgreSQL), SITE_URL, SITE_KEY, NOTIFY_TIME_ZONE.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Layer, Option, Stream } from "effect"
import { withClockAt } from "../time/BusinessTime.ts"
import { BadInput, businessTimeZone, libraryLayer, parseOptionalInstant, printJson } from "./Common.ts"
import * as Database from "../database/Database.ts"
import { installReferenceHostSchema } from "../host/HostSchema.ts"
import * as Jobs from "../engine/Jobs.ts"
import * as Kinds from "../kinds/Registry.ts"
import { settleDelivered, settleNotDelivered } from "../store/InDoubt.ts"
import { migrate } from "../store/Migrations.ts"
import { Notifications } from "../store/Notifications.ts"
import * as SiteSender from "../delivery/SiteSender.ts"
import { backfillLastOrderProgram, orderClosedProgram } from "./OrderCommands.ts"
import { runReactions } from "./ReactionsCommand.ts"
import { reportCommand } from "./ReportCommand.ts"
import { runDemo } from "../demo/Demo.ts"
import { dueCommand, scheduleCommand } from "./ScheduleCommands.ts"
import * as Serve from "./Serve.ts"
import { parseOrderUid } from "../host/Orders.ts"

export const VERSION = "0.1.0"

const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of text"))
const at = Options.text("at").pipe(
  Options.withDescription("run as of this ISO-8601 instant (default: now)"),
  Options.optional
)

const migrateCommand = Command.make(
  "migrate",
  {
    referenceHost: Options.boolean("reference-host").pipe(
      Options.withDescription("also create the reference Jupiter tables (for a database without Jupiter)")
    )
  },
  ({ referenceHost }) =>
    Effect.gen(function*() {
      if (referenceHost) yield* installReferenceHostSchema
      const applied = yield* migrate
      yield* Console.log(
        applied.length === 0
          ? "pronto_notify schema is up to date"
          : `applied: ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`
      )
    }).pipe(Effect.provide(Database.layer()))
).pipe(Command.withDescription("create or update the library's tables"))

const runCommand = Command.make(
  "run",
  {
    kind: Args.text({ name: "kind" }).pipe(Args.withDescription("feedback, invite, profile, birthday or reactions")),
    at,
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("show who would get which text; change nothing")),
    json
  },
  (args) =>
    Effect.gen(function*() {
      if (args.kind === "reactions") {
        if (args.dryRun) return yield* new BadInput({ message: "--dry-run does not apply to run reactions" })
        return yield* runReactions({ at: args.at, json: args.json })
      }
      // Every input is checked before the database is touched: bad input writes nothing.
      const kind = yield* Kinds.parseKind(args.kind).pipe(
        Effect.mapError((e) => new BadInput({ message: `${e.message}, or reactions` }))
      )
      const instant = yield* parseOptionalInstant("--at", args.at)
      const zone = yield* businessTimeZone
      const asOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Option.match(instant, { onNone: () => effect, onSome: (i) => withClockAt(i)(effect) })

      if (args.dryRun) {
        const program = Effect.gen(function*() {
          const when = DateTime.formatIso(yield* DateTime.now)
          const preview = yield* Jobs.preview(kind)
          if (args.json) {
            return yield* printJson({ kind, at: when, dryRun: true, messages: [...yield* Stream.runCollect(preview)] })
          }
          // Printed as they come: a large run's preview is never held in memory.
          const count = yield* preview.pipe(
            Stream.runFoldEffect(0, (n, l) =>
              Effect.as(
                Console.log(
                  `client ${l.clientId}${l.orderUid ? ` order ${l.orderUid}` : ""} ${l.phone}: action ${l.chosenAction}${
                    l.performedAction !== l.chosenAction ? ` -> ${l.performedAction}` : ""
                  }: ${l.text}`
                ),
                n + 1
              ))
          )
          yield* Console.log(`${kind} at ${when}: ${count} would be sent (dry run: nothing sent or written)`)
        })
        return yield* asOf(program.pipe(Effect.provide(libraryLayer(zone, "read-only"))))
      }

      const site = yield* SiteSender.siteConfig.pipe(
        Effect.mapError((e) => new BadInput({ message: `${e.message} to send messages, or use --dry-run` }))
      )
      const program = Effect.gen(function*() {
        const summary = yield* Jobs.run(kind)
        if (args.json) return yield* printJson(summary)
        yield* Console.log(
          `${summary.kind} at ${summary.at}: selected ${summary.selected}, sent ${summary.sent}, failed ${summary.failed}, in doubt ${summary.inDoubt}, invalid phones ${summary.invalid}`
        )
        for (const [action, n] of Object.entries(summary.byAction)) yield* Console.log(`  action ${action}: ${n} sent`)
      })
      return yield* asOf(program.pipe(Effect.provide(Layer.merge(libraryLayer(zone), SiteSender.layer(site)))))
    })
).pipe(Command.withDescription("run one job as of an instant"))

const messagesCommand = Command.make(
  "messages",
  {
    kind: Options.text("kind").pipe(Options.optional),
    from: Options.text("from").pipe(Options.optional),
    to: Options.text("to").pipe(Options.optional),
    json
  },
  (args) =>
    Effect.gen(function*() {
      const kind = yield* Option.match(args.kind, {
        onNone: () => Effect.succeed(undefined),
        onSome: Kinds.parseKind
      })
      const from = yield* parseOptionalInstant("--from", args.from)
      const to = yield* parseOptionalInstant("--to", args.to)
      const zone = yield* businessTimeZone
      // Printed as they stream: the table may be large. JSON is one array, written piece by piece.
      const count = yield* Effect.flatMap(Notifications, (n) =>
        n.list({ kind, from: Option.getOrUndefined(from), to: Option.getOrUndefined(to) }).pipe(
          Stream.runFoldEffect(0, (i, m) =>
            Effect.as(
              args.json
                ? Console.log(`${i === 0 ? "[" : ","}${JSON.stringify({ ...m, sentAt: DateTime.formatIso(m.sentAt) })}`)
                : Console.log(
                  [
                    String(m.id).padStart(6),
                    DateTime.formatIso(m.sentAt),
                    m.kind.padEnd(8),
                    `client ${m.clientId}`,
                    m.phone,
                    `action ${m.chosenAction}${m.performedAction !== m.chosenAction ? `->${m.performedAction}` : ""}`,
                    m.status,
                    m.reaction + (m.reactionRef ? ` ${m.reactionRef}` : ""),
                    m.text
                  ].join("  ")
                ),
              i + 1
            ))
        )).pipe(Effect.provide(libraryLayer(zone, "read-only")))
      yield* args.json ? Console.log(count === 0 ? "[]" : "]") : Console.log(`${count} messages`)
    })
).pipe(Command.withDescription("the messages table (Таблица сообщений)"))

/** Runs a program over the configured database, once the time zone is known to be valid. */
const withLibrary = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.flatMap(businessTimeZone, (zone) => Effect.provide(program, libraryLayer(zone)))

const orderClosedCommand = Command.make(
  "order-closed",
  { orderUid: Args.text({ name: "order-uid" }).pipe(Args.withDescription("the UID of a closed order in jupiter.orders")) },
  ({ orderUid }) => Effect.flatMap(parseOrderUid(orderUid), (uid) => withLibrary(orderClosedProgram(uid)))
).pipe(Command.withDescription("record an order's close: the client's last order time; clears the inactivity mark"))

const backfillLastOrderCommand = Command.make("backfill-last-order", {}, () => withLibrary(backfillLastOrderProgram)).pipe(
  Command.withDescription("recompute every client's last order time from closed orders")
)

const settleCommand = Command.make(
  "settle",
  {
    id: Args.integer({ name: "notification-id" }).pipe(Args.withDescription("the id of a message in doubt (see messages)")),
    delivered: Options.boolean("delivered").pipe(Options.withDescription("the Site did deliver it: do its actions, record it sent")),
    notDelivered: Options.boolean("not-delivered").pipe(
      Options.withDescription("the Site did not deliver it: forget the attempt, the next run sends it")
    )
  },
  ({ delivered, id, notDelivered }) =>
    Effect.gen(function*() {
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

const demoCommand = Command.make("demo", {}, () => runDemo).pipe(
  Command.withDescription("simulate a chain on embedded PostgreSQL with a fake Site, and print what was sent")
)

export const command = Command.make("pronto-notify").pipe(
  Command.withSubcommands([
    migrateCommand,
    runCommand,
    messagesCommand,
    orderClosedCommand,
    backfillLastOrderCommand,
    settleCommand,
    reportCommand,
    demoCommand,
    dueCommand,
    scheduleCommand,
    Serve.command
  ])
)

export const cli = Command.run(command, { name: "pronto-notify", version: VERSION })
