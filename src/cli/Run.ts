/**
 * `pronto-notify run <kind> [--at <instant>] [--dry-run] [--json]`: one job as of an instant.
 * A kind sends its messages (or with --dry-run only shows them); `run reactions` runs the
 * reaction job.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Layer, Option, Stream } from "effect"
import * as SiteSender from "../delivery/SiteSender.ts"
import * as Jobs from "../engine/Jobs.ts"
import { Kinds, KINDS } from "../kinds/Registry.ts"
import * as Reactions from "../reactions/Reactions.ts"
import { withClockAt } from "../time/Clock.ts"
import { BadInput, businessTimeZone, json, libraryLayer, parseOptionalInstant, printJson } from "./Common.ts"

const at = Options.text("at").pipe(
  Options.withPseudoName("instant"),
  Options.withDescription("run as of this ISO-8601 instant with an offset, e.g. 2026-03-01T12:00:00+03:00 (default: now)"),
  Options.optional
)

const formatSummary = (summary: Reactions.ReactionSummary): ReadonlyArray<string> => [
  `reactions at ${summary.at}: examined ${summary.examined}, reacted ${summary.reacted}, none ${summary.none}, still pending ${summary.pending}`,
  ...Object.entries(summary.byKind).map(([kind, t]) => {
    return `  ${kind.padEnd(8)} examined ${t.examined}, reacted ${t.reacted}, none ${t.none}, still pending ${t.pending}`
  })
]

/** What `run reactions` does: the input is checked before the database is touched. */
const runReactions = (args: { readonly at: Option.Option<string>; readonly json: boolean }) =>
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

export const command = Command.make(
  "run",
  {
    kind: Args.choice([...KINDS, "reactions"].map((k): [string, string] => [k, k]), { name: "kind" }).pipe(
      Args.withDescription("the kind whose messages to send, or reactions: the reaction job")
    ),
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
      const kind = yield* Effect.flatMap(Kinds, (registry) => registry.get(args.kind)).pipe(
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
            return yield* printJson({ kind: kind.name, at: when, dryRun: true, messages: [...yield* Stream.runCollect(preview)] })
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
          yield* Console.log(`${kind.name} at ${when}: ${count} would be sent (dry run: nothing sent or written)`)
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
