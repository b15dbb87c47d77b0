/**
 * `pronto-notify run reactions [--at <instant>] [--json]`: the reaction job as of an instant.
 */
import { Console, Effect, Option } from "effect"
import { withClockAt } from "../time/Clock.ts"
import { KINDS } from "../kinds/Kind.ts"
import * as Reactions from "../reactions/Reactions.ts"
import { businessTimeZone, libraryLayer, parseOptionalInstant, printJson } from "./Common.ts"

export const formatSummary = (summary: Reactions.ReactionSummary): ReadonlyArray<string> => [
  `reactions at ${summary.at}: examined ${summary.examined}, reacted ${summary.reacted}, none ${summary.none}, still pending ${summary.pending}`,
  ...KINDS.map((kind) => {
    const t = summary.byKind[kind]
    return `  ${kind.padEnd(8)} examined ${t.examined}, reacted ${t.reacted}, none ${t.none}, still pending ${t.pending}`
  })
]

/** What `run reactions` does: the input is checked before the database is touched. */
export const runReactions = (args: { readonly at: Option.Option<string>; readonly json: boolean }) =>
  Effect.gen(function*() {
    const instant = yield* parseOptionalInstant("--at", args.at)
    const zone = yield* businessTimeZone
    const program = Effect.gen(function*() {
      const summary = yield* Reactions.run
      if (args.json) return yield* printJson(summary)
      for (const line of formatSummary(summary)) yield* Console.log(line)
    })
    const asOf = Option.match(instant, { onNone: () => program, onSome: (at) => withClockAt(at)(program) })
    return yield* asOf.pipe(Effect.provide(libraryLayer(zone)))
  })
