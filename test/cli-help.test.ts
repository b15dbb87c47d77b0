/**
 * The command line reads well: its help gives an overview and the environment, describes every
 * argument and option, offers the kinds as a choice and leaves @effect/cli's built-in options out;
 * colour only at a terminal and never under NO_COLOR; a mistyped option or kind is named as such.
 */
import { CliConfig, CommandDescriptor, HelpDoc } from "@effect/cli"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Console, Effect, Exit, HashMap } from "effect"
import { command } from "../src/cli/Cli.ts"
import { main } from "../src/cli/Main.ts"
import { SETTINGS } from "../src/config/Deployment.ts"
import { KINDS } from "../src/kinds/Kinds.ts"
import * as Cli from "./support/Cli.ts"

const ESCAPE = "\u001b["
// Nothing listens there: a check that let a command through would fail to connect, not write.
const env = { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" }

/** Runs the program in this process with a Console that records what it writes. */
const capture = (args: ReadonlyArray<string>, terminal: boolean, noColor?: string) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const record = (to: Array<string>) => (...args: ReadonlyArray<unknown>) => Effect.sync(() => void to.push(args.join(" ")))
    const base = yield* Console.consoleWith(Effect.succeed)
    const recording: Console.Console = {
      ...base,
      log: record(out),
      error: record(err),
      unsafe: { ...base.unsafe, log: (...a) => void out.push(a.join(" ")), error: (...a) => void err.push(a.join(" ")) }
    }
    const exit = yield* main(["node", "pronto-notify", ...args], { outIsTerminal: terminal, errIsTerminal: terminal }).pipe(
      Effect.withConsole(recording),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(noColor === undefined ? [] : [["NO_COLOR", noColor]]))),
      Effect.exit
    )
    return { exit, out: out.join("\n"), err: err.join("\n") }
  })

describe("the command line's help", { timeout: 120_000 }, () => {
  it.live("the top-level help gives an overview, the environment and the commands, not the built-in options", () =>
    Effect.gen(function*() {
      const result = yield* Cli.run(["--help"], env)
      expect(result.code, result.stderr).toBe(0)
      const help = result.stdout
      // Piped, so no escapes.
      expect(help).not.toContain(ESCAPE)
      expect(help).toMatch(/DESCRIPTION\s+Sends the Pronto delivery chain's win-back messages/)
      expect(help).toMatch(/ENVIRONMENT/)
      for (const setting of SETTINGS) expect(help).toContain(setting.name)
      expect(help).toMatch(/COMMANDS[\s\S]*- run \[--at instant\] \[--dry-run\] \[--json\] <kind>/)
      for (const builtIn of ["--wizard", "--completions", "--log-level"]) expect(help).not.toContain(builtIn)
    }))

  it("describes every argument and option of every command beyond its type", () => {
    const config = CliConfig.make({ showBuiltIns: false })
    const boilerplate = /^(A user-defined piece of text\.|A true or false value\.|One of the following: .*|This setting is optional\.)$/
    const undescribed: Array<string> = []
    const walk = (name: string, doc: HelpDoc.HelpDoc) => {
      if (HelpDoc.isDescriptionList(doc)) {
        for (const [span, block] of doc.definitions) {
          const lines = HelpDoc.toAnsiText(block).replace(/\u001b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
          if (lines.every((l) => l === "" || boilerplate.test(l))) {
            undescribed.push(`${name} ${HelpDoc.toAnsiText(HelpDoc.p(span)).replace(/\u001b\[[0-9;]*m/g, "").trim()}`)
          }
        }
      }
      if (HelpDoc.isSequence(doc)) {
        walk(name, doc.left)
        walk(name, doc.right)
      }
    }
    const subcommands = HashMap.toEntries(CommandDescriptor.getSubcommands(command.descriptor))
    expect(subcommands.length).toBeGreaterThanOrEqual(11)
    for (const [name, descriptor] of subcommands) walk(name, CommandDescriptor.getHelp(descriptor, config))
    expect(undescribed).toEqual([])
  })

  it.effect("colours the help at a terminal only, and never under NO_COLOR", () =>
    Effect.gen(function*() {
      const terminal = yield* capture(["run", "--help"], true)
      expect(Exit.isSuccess(terminal.exit)).toBe(true)
      expect(terminal.out).toContain(ESCAPE)
      expect(terminal.out).toContain(`One of the following: ${[...KINDS, "reactions"].join(", ")}`)
      // An empty NO_COLOR is not set (no-color.org).
      expect((yield* capture(["run", "--help"], true, "")).out).toContain(ESCAPE)
      const noColor = yield* capture(["run", "--help"], true, "1")
      expect(noColor.out).not.toContain(ESCAPE)
      expect(noColor.out).toContain("run as of this ISO-8601 instant")
      const piped = yield* capture(["run", "--help"], false)
      expect(piped.out).not.toContain(ESCAPE)
      expect(piped.out).toEqual(noColor.out)
    }))

  it.live("names a mistyped option, with the one it may have meant, and a kind that is not one; exits non-zero", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [["run", "feedback", "--dryrun"], "pronto-notify: --dryrun is not an option of pronto-notify run; did you mean --dry-run?"],
        [["messages", "--knd", "feedback"], "pronto-notify: --knd is not an option of pronto-notify messages; did you mean --kind?"],
        [["messages", "--kind=feedbak"], `pronto-notify: unknown kind "feedbak"; expected one of: ${KINDS.join(", ")}`],
        [["run", "feedbak"], `pronto-notify: unknown kind "feedbak"; expected one of: ${[...KINDS, "reactions"].join(", ")}`],
        [["schedule", "--json"], "pronto-notify: --json is not an option of pronto-notify schedule: it takes no options"]
      ]
      for (const [args, expected] of cases) {
        const result = yield* Cli.run(args, env)
        expect(result.code, args.join(" ")).not.toBe(0)
        expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1)
        expect(result.stderr).toContain(expected)
        expect(result.stderr).not.toContain(ESCAPE)
      }
    }))
})
