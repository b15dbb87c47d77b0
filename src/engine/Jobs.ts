/**
 * The jobs a host runs, one per kind, by definition or by name (looked up in the `Kinds`
 * registry): the engine with the kind's Selector and ActionStrategy provided. The host provides
 * the rest (`ProntoNotify.layer`, a Sender, SQL).
 */
import { Effect } from "effect"
import type { AnyKind } from "../kinds/Kind.ts"
import { Kinds } from "../kinds/Registry.ts"
import * as Job from "./Job.ts"
import * as Preview from "./Preview.ts"

const resolve = (kind: AnyKind | string) =>
  typeof kind === "string" ? Effect.flatMap(Kinds, (registry) => registry.get(kind)) : Effect.succeed(kind)

/** Runs one kind as of the Clock's now (`options`: when to stop taking candidates, what to do if interrupted). */
export const run = (kind: AnyKind | string, options?: Job.RunOptions) =>
  Effect.flatMap(resolve(kind), (k) => Job.run(k, options))

/** What a run would send now, changing nothing. */
export const preview = (kind: AnyKind | string) => Effect.flatMap(resolve(kind), Preview.preview)
