/**
 * `pronto-notify run <kind> [--at <instant>] [--dry-run] [--json]`: one job as of an instant.
 * A kind sends its messages (or with --dry-run only shows them) and exits with a status that says
 * how it went (`EXIT`); `run reactions` runs the reaction job.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Layer, Option, Stream } from "effect"
import * as SiteSender from "../delivery/SiteSender.ts"
import type { RunSummary } from "../engine/Jobs.ts"
import * as Jobs from "../engine/Jobs.ts"
import { Kinds, KINDS } from "../kinds/Kinds.ts"
import * as Reactions from "../reactions/Reactions.ts"
import { withClockAt } from "../time/ShiftedClock.ts"
import { BadInput, businessTimeZone, json, libraryLayer, parseOptionalInstant, printJson } from "./Common.ts"

const at = Options.text("at").pipe(
  Options.withPseudoName("instant"),
  Options.withDescription("run as of this ISO-8601 instant with an offset, e.g. 2026-03-01T12:00:00+03:00 (default: now)"),
  Options.optional
)

/**
 * The exit status of a kind's run, for a cron wrapper: 0 when every message selected went out (or
 * there was nothing to send; invalid phones are never sendable), otherwise the most urgent of
 * these. Any error (bad input, the database, a run that failed) is 1.
 */
export const EXIT = {
  /**
   * Some sends failed for certain (the next run, or the slot's retry, sends them), or the Site
   * refused some (the kind's next slot tries them again).
   */
  failed: 3,
  /** Some messages are in doubt: an operator settles them (`in-doubt`, `settle`); also when the run failed on the database with some in doubt. */
  inDoubt: 4,
  /** Stopped by a signal (SIGTERM, SIGINT) after the messages in flight; the rest is for the next run. */
  interrupted: 5,
  /** Outside the sending hours, or they ended during the run: what is left goes at the next run within them. */
  sendingHours: 6
} as const

export const exitStatusOf = (summary: RunSummary): number =>
  summary.stopped === "interrupted"
    ? EXIT.interrupted
    : summary.inDoubt > 0
    ? EXIT.inDoubt
    : summary.failed > 0 || summary.refused > 0
    ? EXIT.failed
    : summary.stopped === "sending-hours"
    ? EXIT.sendingHours
    : 0

const formatRunSummary = (summary: RunSummary): ReadonlyArray<string> => [
  `${summary.kind} at ${summary.at} (run ${summary.run}): selected ${summary.selected}, sent ${summary.sent}, failed ${summary.failed}, refused ${summary.refused}, in doubt ${summary.inDoubt}, invalid phones ${summary.invalid}`,
  ...Object.entries(summary.byAction).map(([action, n]) => `  action ${action}: ${n} sent`),
  ...(summary.stopped === undefined ? [] : [`  stopped early (${stopWords[summary.stopped]}); the rest is left for a later run`])
]

const stopWords: Record<NonNullable<RunSummary["stopped"]>, string> = {
  "circuit-breaker": "the Site's answers stayed ambiguous",
  "sending-hours": "the sending hours are over",
  interrupted: "stopped by a signal"
}

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
      const report = (summary: RunSummary) =>
        Effect.zipRight(
          args.json ? printJson(summary) : Effect.forEach(formatRunSummary(summary), (line) => Console.log(line)),
          Effect.sync(() => {
            process.exitCode = exitStatusOf(summary)
          })
        )
      // Stopped by a signal, the run still reports what it did, once the messages in flight are done;
      // stopped before it began, it exits as stopped all the same.
      const program = Effect.flatMap(Jobs.run(kind, { onInterrupt: report }), report).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            process.exitCode = EXIT.interrupted
          })
        ),
        // The database failed the run: what it did, why, and with messages in doubt the status that says "settle them".
        Effect.catchTag("RunFailed", (failure) =>
          Effect.gen(function*() {
            yield* args.json
              ? printJson({ ...failure.summary, error: failure.reason })
              : Effect.forEach(formatRunSummary(failure.summary), (line) => Console.log(line))
            yield* Console.error(`pronto-notify: ${failure.message}`)
            process.exitCode = failure.summary.inDoubt > 0 ? EXIT.inDoubt : 1
          }))
      )
      return yield* asOf(program.pipe(Effect.provide(Layer.merge(libraryLayer(zone), SiteSender.layer(site)))))
    })
).pipe(Command.withDescription("run one job as of an instant"))
