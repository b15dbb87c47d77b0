/**
 * A mistyped argument is named as such, before @effect/cli parses (it says only "Received unknown
 * argument", or "Expected one of the following cases" without the value): an option its command
 * does not have, with the closest one it may have meant, or a value outside an argument's choices.
 * What each command takes comes from its own usage, so there is no list here to keep.
 */
import { Command, CommandDescriptor, type Usage } from "@effect/cli"
import { Effect, HashMap, Option } from "effect"
import { BadInput } from "./Common.ts"

/** @effect/cli's own options, which every command takes. */
const BUILT_IN: ReadonlyArray<Named> = [
  ...["-h", "--help", "--version", "--wizard"].map((name) => ({ name, choices: Option.none(), takesValue: false })),
  ...["--completions", "--log-level"].map((name) => ({ name, choices: Option.none(), takesValue: true }))
]

interface Named {
  readonly name: string
  readonly takesValue: boolean
  /** `a | b | c` in the usage of a choice. */
  readonly choices: Option.Option<ReadonlyArray<string>>
}

const namedOf = (usage: Usage.Usage): ReadonlyArray<Named> => {
  switch (usage._tag) {
    case "Named": {
      const values = Option.getOrUndefined(usage.acceptedValues)
      return usage.names.map((name) => ({
        name,
        takesValue: values !== undefined,
        choices: values !== undefined && values.includes(" | ") ? Option.some(values.split(" | ")) : Option.none()
      }))
    }
    case "Optional":
    case "Repeated":
      return namedOf(usage.usage)
    case "Alternation":
    case "Concat":
      return [...namedOf(usage.left), ...namedOf(usage.right)]
    default:
      return []
  }
}

const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

const notAChoice = (what: string, value: string, choices: ReadonlyArray<string>) =>
  new BadInput({ message: `unknown ${what} "${value}"; expected one of: ${choices.join(", ")}` })

/**
 * Fails with one line when `args` (without node and the script) give a subcommand an option it
 * does not have, or a value outside a choice; anything else is left to @effect/cli.
 */
export const check = <Name extends string, R, E, A>(
  program: string,
  root: Command.Command<Name, R, E, A>,
  args: ReadonlyArray<string>
): Effect.Effect<void, BadInput> => {
  const subcommands = Command.getSubcommands(root)
  const at = args.findIndex((a) => HashMap.has(subcommands, a))
  if (at < 0) return Effect.void
  const name = args[at]!
  const named = Option.match(HashMap.get(subcommands, name), {
    onNone: () => [],
    onSome: (descriptor) => namedOf(CommandDescriptor.getUsage(descriptor)).slice(1)
  })
  const options = named.filter((n) => n.name.startsWith("-"))
  const positionals = named.filter((n) => n.name.startsWith("<"))
  const rest = args.slice(at + 1)
  let positional = 0
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!
    if (!token.startsWith("-") || token === "-") {
      const arg = positionals[positional++]
      if (arg && Option.isSome(arg.choices) && !arg.choices.value.includes(token)) {
        return Effect.fail(notAChoice(arg.name.slice(1, -1), token, arg.choices.value))
      }
      continue
    }
    const [flag, inline] = token.split(/=(.*)/s) as [string, string | undefined]
    const option = [...options, ...BUILT_IN].find((k) => k.name === flag)
    if (option) {
      const value = option.takesValue ? (inline ?? rest[++i]) : undefined
      if (value !== undefined && Option.isSome(option.choices) && !option.choices.value.includes(value)) {
        return Effect.fail(notAChoice(flag.replace(/^-+/, ""), value, option.choices.value))
      }
      continue
    }
    const closest = options.map((k) => ({ name: k.name, d: distance(flag, k.name) })).sort((x, y) => x.d - y.d)[0]
    const hint = closest !== undefined && closest.d <= Math.max(2, Math.floor(flag.length / 3))
      ? `; did you mean ${closest.name}?`
      : options.length === 0
      ? ": it takes no options"
      : `; its options: ${options.map((k) => k.name).join(", ")}`
    return Effect.fail(new BadInput({ message: `${flag} is not an option of ${program} ${name}${hint} (see ${program} ${name} --help)` }))
  }
  return Effect.void
}
