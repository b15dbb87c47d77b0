/**
 * `pronto-notify in-doubt [--kind] [--from] [--to] [--run] [--json]`: the messages left in doubt
 * that an operator can settle (those of runs that have ended), oldest attempt first, streamed.
 */
import { Command } from "@effect/cli"
import { Console, DateTime, Effect, Stream } from "effect"
import * as InDoubt from "../store/InDoubt.ts"
import { businessTimeZone, json, libraryLayer } from "./Common.ts"
import { filterOptions, parseFilter } from "./Settle.ts"

const describe = (m: InDoubt.InDoubtMessage) =>
  [
    String(m.id).padStart(6),
    DateTime.formatIso(m.attemptedAt),
    m.kind.padEnd(8),
    `client ${m.clientId}${m.orderUid ? ` order ${m.orderUid}` : ""}`,
    m.phone,
    `action ${m.chosenAction}${m.performedAction !== m.chosenAction ? `->${m.performedAction}` : ""}`,
    m.postStartedAt === null ? "POST start unknown" : `POST started ${DateTime.formatIso(m.postStartedAt)}`,
    `run ${m.run ?? "unknown"}`,
    m.text
  ].join("  ")

const asJson = (m: InDoubt.InDoubtMessage) =>
  JSON.stringify({
    ...m,
    attemptedAt: DateTime.formatIso(m.attemptedAt),
    postStartedAt: m.postStartedAt === null ? null : DateTime.formatIso(m.postStartedAt)
  })

export const command = Command.make(
  "in-doubt",
  { ...filterOptions, json },
  (args) =>
    Effect.gen(function*() {
      const filter = yield* parseFilter(args)
      const zone = yield* businessTimeZone
      const count = yield* InDoubt.list(filter).pipe(
        Stream.runFoldEffect(0, (i, m) =>
          Effect.as(Console.log(args.json ? `${i === 0 ? "[" : ","}${asJson(m)}` : describe(m)), i + 1)),
        Effect.provide(libraryLayer(zone, "read-only"))
      )
      yield* args.json
        ? Console.log(count === 0 ? "[]" : "]")
        : Console.log(`${count} messages in doubt; settle them with settle --delivered or --not-delivered`)
    })
).pipe(Command.withDescription("the messages left in doubt, to settle once you know whether the Site delivered them"))
