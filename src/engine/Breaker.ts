/**
 * The circuit breaker and the window of messages in flight it paces. The window starts at the
 * breaker's threshold, widens by one with each clean answer from the Site up to the setting, and
 * narrows to one at an ambiguous answer; after BREAKER_THRESHOLD ambiguous answers in a row the
 * breaker trips and the run stops taking candidates. So a Site that is dead from a run's first
 * message leaves at most BREAKER_THRESHOLD messages in doubt, and one that dies mid-run at most the
 * messages then in flight plus BREAKER_THRESHOLD, whatever the setting. Only the Site's answers
 * count: a failure of the database is not the Site's.
 */
import { Effect, Ref, STM, TRef } from "effect"
import { breakerTrip } from "../observability/Metrics.ts"
import type { Outcome } from "./Outcome.ts"

/**
 * After this many ambiguous outcomes in a row (no answer, a gateway error, a dropped connection)
 * the Site is taken to be in trouble: the run stops taking candidates and leaves them for later.
 */
export const BREAKER_THRESHOLD = 5

export interface Breaker {
  /** Waits until the window has room for one more message in flight, and takes it. */
  readonly admit: Effect.Effect<void>
  /** Gives back the room of a message that was not sent after all. */
  readonly withdraw: Effect.Effect<void>
  /** Gives back a sent message's room and counts its outcome: the window and the breaker follow. */
  readonly record: (outcome: Outcome) => Effect.Effect<void>
  /** Whether the breaker has tripped. */
  readonly tripped: Effect.Effect<boolean>
}

export const make = (kind: string, inFlight: number): Effect.Effect<Breaker> =>
  Effect.gen(function*() {
    const active = yield* TRef.make(0)
    const window = yield* TRef.make(Math.min(BREAKER_THRESHOLD, inFlight))
    const ambiguousInARow = yield* Ref.make(0)
    const tripped = yield* Ref.make(false)

    const admit = STM.gen(function*() {
      const [a, w] = [yield* TRef.get(active), yield* TRef.get(window)]
      yield* STM.check(() => a < w)
      yield* TRef.set(active, a + 1)
    }).pipe(STM.commit)
    const leave = (resize: (w: number) => number) =>
      STM.commit(STM.zipRight(TRef.update(active, (a) => a - 1), TRef.update(window, resize)))

    const trip = Effect.flatMap(Ref.getAndSet(tripped, true), (before) =>
      before ? Effect.void : Effect.zipRight(breakerTrip(kind), Effect.logError(
        `${kind}: ${BREAKER_THRESHOLD} ambiguous outcomes in a row: the Site may be down; stopped taking ` +
          "candidates, the rest is left for a later run"
      )))

    const record = (outcome: Outcome): Effect.Effect<void> => {
      switch (outcome._tag) {
        case "InDoubt":
          if (outcome.blame === "database") return leave((w) => w)
          return Effect.zipRight(
            leave(() => 1),
            Effect.flatMap(Ref.updateAndGet(ambiguousInARow, (n) => n + 1), (n) => (n >= BREAKER_THRESHOLD ? trip : Effect.void))
          )
        case "Skipped":
          return leave((w) => w)
        default:
          // A clean answer from the Site, whether it took the message or not.
          return Effect.zipRight(leave((w) => Math.min(inFlight, w + 1)), Ref.set(ambiguousInARow, 0))
      }
    }

    return { admit, withdraw: leave((w) => w), record, tripped: Ref.get(tripped) }
  })
