/**
 * The jobs a host runs: one per kind. Each is the engine (`Job`) with that kind's Selector and
 * ActionStrategy provided; the host provides the rest (`ProntoNotify.layer`, a Sender, SQL).
 */
import { Effect } from "effect"
import * as Job from "./Job.ts"
import type { KindName } from "../kinds/Kind.ts"
import * as Kinds from "../kinds/Registry.ts"

/** Runs one kind as of the Clock's now. */
export const run = (kind: KindName) => Job.run.pipe(Effect.provide(Kinds.layerOf(kind)))

/** What a run would send now, changing nothing. */
export const preview = (kind: KindName) => Job.preview.pipe(Effect.provide(Kinds.layerOf(kind)))
