/**
 * When a run stops taking candidates: its circuit breaker tripped (the Site's answers stayed
 * ambiguous), or its sending hours ended (`until`). The messages in flight always finish.
 */
import { DateTime, Effect, Option, Ref } from "effect"
import type { Outcome } from "./Outcome.ts"
import type { Stop } from "./Tally.ts"

/**
 * After this many ambiguous outcomes in a row (no answer, a gateway error, a dropped connection)
 * the Site is taken to be in trouble: the run stops taking candidates and leaves them for later.
 */
export const BREAKER_THRESHOLD = 5

export interface Stopper {
  /** Whether to stop taking candidates now (the Clock against `until`, and the breaker). */
  readonly stopping: Effect.Effect<boolean>
  /** Counts an outcome for the breaker. */
  readonly record: (outcome: Outcome) => Effect.Effect<void>
  /** Why the run stopped early, if it did. */
  readonly reason: Effect.Effect<Option.Option<Stop>>
}

export const make = (kind: string, until: DateTime.Utc | undefined): Effect.Effect<Stopper> =>
  Effect.gen(function*() {
    const stop = yield* Ref.make(Option.none<Stop>())
    const ambiguousInARow = yield* Ref.make(0)
    const stopping = Effect.gen(function*() {
      if (Option.isSome(yield* Ref.get(stop))) return true
      if (until === undefined || DateTime.lessThan(yield* DateTime.now, until)) return false
      yield* Ref.set(stop, Option.some<Stop>("sending-hours"))
      yield* Effect.logWarning(`${kind}: the sending hours are over; the rest is left for a later run`)
      return true
    })
    const trip = Effect.flatMap(Ref.getAndSet(stop, Option.some<Stop>("circuit-breaker")), (before) =>
      Option.isSome(before) ? Effect.void : Effect.logError(
        `${kind}: ${BREAKER_THRESHOLD} ambiguous outcomes in a row: the Site may be down; stopped taking candidates, ` +
          "the rest is left for a later run"
      ))
    const record = (outcome: Outcome) => {
      switch (outcome._tag) {
        case "InDoubt":
          return Effect.flatMap(Ref.updateAndGet(ambiguousInARow, (n) => n + 1), (n) => (n === BREAKER_THRESHOLD ? trip : Effect.void))
        case "Skipped":
          return Effect.void
        default:
          return Ref.set(ambiguousInARow, 0)
      }
    }
    return { stopping, record, reason: Ref.get(stop) }
  })
