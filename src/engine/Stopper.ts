/**
 * When a run stops taking candidates: its circuit breaker tripped (engine/Breaker), or its sending
 * hours ended (`until`). The messages in flight always finish.
 */
import { DateTime, Effect, Option, Ref } from "effect"
import type { Breaker } from "./Breaker.ts"
import type { Stop } from "./Tally.ts"

export { BREAKER_THRESHOLD } from "./Breaker.ts"

export interface Stopper {
  /** Whether to stop taking candidates now (the breaker, and the Clock against `until`). */
  readonly stopping: Effect.Effect<boolean>
  /** Why the run stopped early, if it did. */
  readonly reason: Effect.Effect<Option.Option<Stop>>
}

export const make = (kind: string, breaker: Pick<Breaker, "tripped">, until: DateTime.Utc | undefined): Effect.Effect<Stopper> =>
  Effect.map(Ref.make(Option.none<Stop>()), (stop) => {
    const stopping = Effect.gen(function*() {
      if (Option.isSome(yield* Ref.get(stop))) return true
      if (yield* breaker.tripped) {
        yield* Ref.set(stop, Option.some<Stop>("circuit-breaker"))
        return true
      }
      if (until === undefined || DateTime.lessThan(yield* DateTime.now, until)) return false
      yield* Ref.set(stop, Option.some<Stop>("sending-hours"))
      yield* Effect.logWarning(`${kind}: the sending hours are over; the rest is left for a later run`)
      return true
    })
    // A breaker that trips with the last message stops nothing, but the summary says so.
    const reason = Effect.flatMap(Ref.get(stop), (s) =>
      Option.isSome(s)
        ? Effect.succeed(s)
        : Effect.map(breaker.tripped, (t) => (t ? Option.some<Stop>("circuit-breaker") : Option.none())))
    return { stopping, reason }
  })
