/**
 * A clock that reads another instant than the real one: for running a job "as of" an instant
 * (`withClockAt`: the command line's `--at`, the demo, the tests), with real time still passing so
 * that timeouts keep working. The one clock override of the library.
 */
import { Clock, DateTime, Duration, Effect } from "effect"

export interface Shift {
  /** What the clock reads at `anchor`. */
  readonly at: DateTime.DateTime
  /** The real instant at which it reads `at`; default: when the clock is made. */
  readonly anchor?: DateTime.DateTime | undefined
  /** How many times as fast as real time it runs; default 1. */
  readonly speed?: number | undefined
}

/** A live clock moved to `shift.at` (and sped up by `shift.speed`); sleeps follow the speed. */
export const shifted = (shift: Shift): Clock.Clock => {
  const live = Clock.make()
  const speed = shift.speed ?? 1
  const atMs = DateTime.toEpochMillis(shift.at)
  const anchorMs = shift.anchor === undefined ? live.unsafeCurrentTimeMillis() : DateTime.toEpochMillis(shift.anchor)
  const now = () => atMs + (live.unsafeCurrentTimeMillis() - anchorMs) * speed
  const nanos = () => BigInt(Math.round(now())) * 1_000_000n
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: now,
    currentTimeMillis: Effect.sync(now),
    unsafeCurrentTimeNanos: nanos,
    currentTimeNanos: Effect.sync(nanos),
    sleep: (duration) => live.sleep(speed === 1 ? duration : Duration.millis(Duration.toMillis(duration) / speed))
  }
}

/**
 * Runs an effect with a live Clock moved to `at` (time still passes from there), so a job run
 * "as of" an instant sees that instant as now while timeouts keep working.
 */
export const withClockAt = (at: DateTime.DateTime) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => Effect.withClock(effect, shifted({ at })))
