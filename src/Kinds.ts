/**
 * Every kind by name: the Selector and ActionStrategy layers the engine runs.
 */
import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import type { BusinessTimeZone } from "./BusinessTime.ts"
import { type ActionStrategy, type KindName, KINDS, type Selector, UnknownKind } from "./Kind.ts"
import * as Feedback from "./kinds/Feedback.ts"

export type KindRequirements = SqlClient.SqlClient | BusinessTimeZone

const layers: Record<KindName, Layer.Layer<Selector | ActionStrategy, never, KindRequirements> | undefined> = {
  feedback: Feedback.layer,
  invite: undefined,
  profile: undefined,
  birthday: undefined
}

export const parseKind = (name: string): Effect.Effect<KindName, UnknownKind> =>
  (KINDS as ReadonlyArray<string>).includes(name) && layers[name as KindName] !== undefined
    ? Effect.succeed(name as KindName)
    : Effect.fail(new UnknownKind({ kind: name }))

export const layerOf = (kind: KindName): Layer.Layer<Selector | ActionStrategy, never, KindRequirements> => {
  const layer = layers[kind]
  return layer ?? Layer.die(new UnknownKind({ kind }))
}
