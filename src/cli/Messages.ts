/**
 * `pronto-notify messages [--kind] [--from] [--to] [--json]`: the messages table, streamed.
 */
import { Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Option, Stream } from "effect"
import { Kinds, KINDS } from "../kinds/Kinds.ts"
import { Notifications } from "../store/Notifications.ts"
import { businessTimeZone, json, libraryLayer, parseOptionalInstant } from "./Common.ts"

export const command = Command.make(
  "messages",
  {
    kind: Options.choice("kind", KINDS).pipe(Options.withDescription("only this kind's messages"), Options.optional),
    from: Options.text("from").pipe(
      Options.withPseudoName("instant"),
      Options.withDescription("only messages sent at or after this ISO-8601 instant (with an offset)"),
      Options.optional
    ),
    to: Options.text("to").pipe(
      Options.withPseudoName("instant"),
      Options.withDescription("only messages sent before this instant"),
      Options.optional
    ),
    json
  },
  (args) =>
    Effect.gen(function*() {
      const kind = yield* Option.match(args.kind, {
        onNone: () => Effect.succeed(undefined),
        onSome: (name) => Effect.map(Effect.flatMap(Kinds, (registry) => registry.get(name)), (kind) => kind.name)
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
