/**
 * The `pronto-notify` program: the command line with one line on stderr and a non-zero exit for
 * any error, and logs on stderr so that `--json` output stays clean; help without @effect/cli's
 * built-in options, and colour only at a terminal. `bin.ts` runs it on Node.
 */
import { CliConfig } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import type { Teardown } from "@effect/platform/Runtime"
import { Cause, ConfigError, Console, Effect, Exit, Logger, LogLevel, Option } from "effect"
import * as Deployment from "../config/Deployment.ts"
import { cli, command } from "./Cli.ts"
import { type Streams, withColourWhereWanted } from "./Colour.ts"
import * as Mistyped from "./Mistyped.ts"

const oneLine = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" && error.message !== ""
    ? error.message.split("\n")[0]!
    : String(error)

const isCliValidation = (error: unknown) =>
  typeof error === "object" && error !== null && "_tag" in error &&
  ["CommandMismatch", "CorrectedFlag", "HelpRequested", "InvalidArgument", "InvalidValue", "MissingValue", "MissingFlag", "MultipleValuesDetected", "MissingSubcommand", "NoBuiltInMatch", "UnclusteredFlag"].includes(String(error._tag))

/**
 * Log lines on stderr: key=value text, or with `PRONTO_NOTIFY_LOG_FORMAT=json` one JSON object per
 * line, its annotations (the run, the job, the slot, the kind) under `annotations`. (A bad value
 * falls back to text here; `main` refuses it.)
 */
const logger = Logger.replaceEffect(
  Logger.defaultLogger,
  Effect.map(
    Effect.orElseSucceed(Deployment.logFormat, () => "text" as const),
    (format) => Logger.withConsoleError(format === "json" ? Logger.jsonLogger : Logger.logfmtLogger)
  )
)

/** The command line over these arguments (`process.argv`), with its error output and logging. */
export const main = (
  argv: ReadonlyArray<string>,
  streams: Streams = { outIsTerminal: process.stdout.isTTY === true, errIsTerminal: process.stderr.isTTY === true }
) =>
  Mistyped.check("pronto-notify", command, argv.slice(2)).pipe(
    // A log format that is neither text nor json is said in one line, before anything runs.
    Effect.zipRight(Effect.orDie(Deployment.logFormat)),
    Effect.zipRight(Effect.suspend(() => cli(argv))),
    Effect.catchAllCause((cause) => {
      // A stop by a signal: the command has said what it had to.
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
      const failure = Cause.failureOption(cause)
      // @effect/cli has already printed what was wrong with the arguments.
      if (Option.isSome(failure) && isCliValidation(failure.value)) return Effect.failCause(cause)
      // A defect is a bug or a broken environment: one line here, the whole cause at debug level.
      // A setting that cannot be read is the operator's to fix, not a bug: its own words.
      const message = Option.match(failure, {
        onNone: () => {
          const defect = Cause.squash(cause)
          return ConfigError.isConfigError(defect) ? oneLine(defect) : `unexpected failure: ${oneLine(defect)}`
        },
        onSome: oneLine
      })
      return Console.error(`pronto-notify: ${message}`).pipe(
        Effect.zipRight(Effect.logDebug(Cause.pretty(cause))),
        Effect.zipRight(Effect.failCause(cause))
      )
    }),
    Effect.provide(CliConfig.layer({ showBuiltIns: false })),
    Effect.provide(NodeContext.layer),
    Effect.provide(logger),
    Logger.withMinimumLogLevel(LogLevel.Info),
    withColourWhereWanted(streams)
  )

/**
 * How the process exits: 1 for any failure; otherwise the status the command set
 * (`process.exitCode`: `run`'s outcome, see `Run.EXIT`), also when a signal stopped it; else 0.
 */
export const teardown: Teardown = (exit, onExit) => {
  const own = Number(process.exitCode ?? 0)
  onExit(Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : Number.isInteger(own) ? own : 0)
}
