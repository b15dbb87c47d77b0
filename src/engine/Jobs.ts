/**
 * The jobs a host runs, one per kind, by definition or by name (looked up in the `Kinds`
 * registry). The host provides the rest: `ProntoNotify.layer` over its SqlClient, and a Sender
 * (`SiteSender.layer`).
 */
import type { SqlError } from "@effect/sql"
import { Effect } from "effect"
import type { AnyKind, KindRequirements } from "../kinds/Kind.ts"
import { Kinds, type UnknownKind } from "../kinds/Kinds.ts"
import type { TablesMissing } from "../store/TablesMissing.ts"
import * as Preview from "./Preview.ts"
import * as Run from "./Run.ts"
import type { RunSummary } from "./Tally.ts"

export type { PreviewLine } from "./Preview.ts"
export { type RunOptions, type RunRequirements, RunFailed } from "./Run.ts"
export { BREAKER_THRESHOLD } from "./Stopper.ts"
export { describeSummary, type RunSummary, type Stop } from "./Tally.ts"

const resolve = (kind: AnyKind | string): Effect.Effect<AnyKind, UnknownKind> =>
  typeof kind === "string" ? Effect.flatMap(Kinds, (registry) => registry.get(kind)) : Effect.succeed(kind)

/** Runs one kind as of the Clock's now (`options`: when to stop taking candidates, what to do if interrupted). */
export const run = (
  kind: AnyKind | string,
  options?: Run.RunOptions
): Effect.Effect<RunSummary, SqlError.SqlError | UnknownKind | TablesMissing | Run.RunFailed, Run.RunRequirements | KindRequirements> =>
  Effect.flatMap(resolve(kind), (k) => Run.run(k, options))

/**
 * Sends now the kind's messages settled as not delivered (store/InDoubt), and nothing else: what
 * an operator's "not delivered" does at once within the sending hours. Outside them it sends
 * nothing (`stopped: "sending-hours"`); the next run of the kind sends them then.
 */
export const resend = (
  kind: AnyKind | string
): Effect.Effect<RunSummary, SqlError.SqlError | UnknownKind | TablesMissing | Run.RunFailed, Run.RunRequirements | KindRequirements> =>
  Effect.flatMap(resolve(kind), (k) => Run.run(k, { candidates: "resends" }))

/** What a run would send now, changing nothing. */
export const preview = (kind: AnyKind | string) => Effect.flatMap(resolve(kind), Preview.preview)
