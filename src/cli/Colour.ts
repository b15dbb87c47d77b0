/**
 * Colour only for a person at a terminal: @effect/cli writes its help and its errors with ANSI
 * escapes whatever the output is, so the command line's Console drops them from what goes to a
 * stream that is not a terminal, and from everything when NO_COLOR is set (https://no-color.org).
 */
import { Config, Console, Effect, Option } from "effect"

/** Whether each stream is a terminal (Node: `process.stdout.isTTY`). */
export interface Streams {
  readonly outIsTerminal: boolean
  readonly errIsTerminal: boolean
}

// The CSI sequences (colours, bold) that @effect/printer-ansi writes.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g

const strip = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? a.replace(ANSI, "") : a))

/** NO_COLOR set to anything but the empty string. */
const noColor = Config.string("NO_COLOR").pipe(Config.option, Config.map(Option.exists((v) => v !== "")))

const plain = (base: Console.Console, plainOut: boolean, plainErr: boolean): Console.Console => {
  const out = <R>(f: (...args: ReadonlyArray<unknown>) => R) => (...args: ReadonlyArray<unknown>) =>
    f(...(plainOut ? strip(args) : args))
  const err = <R>(f: (...args: ReadonlyArray<unknown>) => R) => (...args: ReadonlyArray<unknown>) =>
    f(...(plainErr ? strip(args) : args))
  const unsafe = base.unsafe
  return {
    ...base,
    log: out(base.log),
    info: out(base.info),
    error: err(base.error),
    warn: err(base.warn),
    unsafe: {
      ...unsafe,
      log: out(unsafe.log.bind(unsafe)),
      info: out(unsafe.info.bind(unsafe)),
      error: err(unsafe.error.bind(unsafe)),
      warn: err(unsafe.warn.bind(unsafe))
    }
  }
}

/** Runs the command line with a Console that writes escapes only to a terminal, and never under NO_COLOR. */
export const withColourWhereWanted = (streams: Streams) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const off = yield* Effect.orElseSucceed(noColor, () => false)
    const base = yield* Console.consoleWith(Effect.succeed)
    return yield* Effect.withConsole(effect, plain(base, off || !streams.outIsTerminal, off || !streams.errIsTerminal))
  })
