/**
 * The kinds the library runs: the four kinds themselves and the only list of them. Adding a kind
 * is one new file (or folder) here and one line in `BUILT_IN`. Everything else (the schedule, the jobs, the reaction job, the report,
 * the command line's kind list and `due`) derives what it needs from the registry in the context,
 * `Kinds`, whose default holds the built-in kinds; a test (or a host) provides another with
 * `Kinds.layer`.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { Birthday } from "./birthday/Birthday.ts"
import { Feedback } from "./Feedback.ts"
import { Invite } from "./invite/Invite.ts"
import type { AnyKind } from "./Kind.ts"
import { Profile } from "./Profile.ts"

export { Birthday, Feedback, Invite, Profile }

/** The four kinds of the specification, in the order the schedule and the report list them. */
export const BUILT_IN = [Feedback, Invite, Profile, Birthday] as const

export type BuiltInKindName = typeof BUILT_IN[number]["name"]

/** The names of the built-in kinds. */
export const KINDS: ReadonlyArray<BuiltInKindName> = BUILT_IN.map((kind) => kind.name)

export class UnknownKind extends Schema.TaggedError<UnknownKind>()("UnknownKind", {
  kind: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message() {
    return `unknown kind "${this.kind}"; expected one of: ${this.known.join(", ")}`
  }
}

export interface Registry {
  /** In order: the schedule, the report and the command line list them so. */
  readonly kinds: ReadonlyArray<AnyKind>
  readonly names: ReadonlyArray<string>
  readonly get: (name: string) => Effect.Effect<AnyKind, UnknownKind>
}

export const make = (kinds: ReadonlyArray<AnyKind>): Registry => {
  const names = kinds.map((kind) => kind.name)
  if (new Set(names).size !== names.length) throw new Error(`two kinds share a name: ${names.join(", ")}`)
  const byName = new Map(kinds.map((kind) => [kind.name, kind]))
  return {
    kinds,
    names,
    get: (name) => {
      const kind = byName.get(name)
      return kind === undefined ? Effect.fail(new UnknownKind({ kind: name, known: names })) : Effect.succeed(kind)
    }
  }
}

/** The registry in the context; by default the built-in kinds. */
export class Kinds extends Context.Reference<Kinds>()("pronto-notify/Kinds", { defaultValue: () => make(BUILT_IN) }) {
  /** A registry of these kinds instead of the built-in ones. */
  static readonly layer = (kinds: ReadonlyArray<AnyKind>): Layer.Layer<Kinds> => Layer.succeed(Kinds, make(kinds))
}
