/**
 * Every kind by name: the Selector and ActionStrategy layers the engine runs.
 */
import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import type { BonusServer } from "../bonus/BonusServer.ts"
import type { BusinessTimeZone } from "../time/BusinessTime.ts"
import type { Notifications } from "../store/Notifications.ts"
import { type ActionStrategy, type KindName, KINDS, type Selector, UnknownKind } from "./Kind.ts"
import * as Birthday from "./Birthday.ts"
import * as Feedback from "./Feedback.ts"
import * as Invite from "./Invite.ts"
import * as Profile from "./Profile.ts"

export type KindRequirements = SqlClient.SqlClient | BusinessTimeZone | BonusServer | Notifications

const layers: Record<KindName, Layer.Layer<Selector | ActionStrategy, never, KindRequirements>> = {
  feedback: Feedback.layer,
  invite: Invite.layer,
  profile: Profile.layer,
  birthday: Birthday.layer
}

export const parseKind = (name: string): Effect.Effect<KindName, UnknownKind> =>
  (KINDS as ReadonlyArray<string>).includes(name)
    ? Effect.succeed(name as KindName)
    : Effect.fail(new UnknownKind({ kind: name }))

export const layerOf = (kind: KindName): Layer.Layer<Selector | ActionStrategy, never, KindRequirements> => layers[kind]
