/**
 * A fixed set of senders, the messages in flight: each takes the next step from a queue that the
 * producer fills, in order, a block at a time (the queue holds one block, so the next block is
 * prepared while this one is sent). A sender keeps its connection for the next step while one is
 * waiting (its commit can begin the next transaction), and gives it back when none is (the
 * candidates' pages may need it) or after a step that says not to keep it (a message that did
 * not go out: the connection may be what failed).
 *
 * The producer and the senders stand or fall together: when one fails, the others are
 * interrupted (a sender only between steps; the step in hand always finishes), so no part waits
 * for another that is gone.
 */
import { Effect, Option, Queue, type Scope } from "effect"

type Item<S> = { readonly _tag: "Step"; readonly step: S } | { readonly _tag: "End" }

const END: Item<never> = { _tag: "End" }

export interface Senders<S, C, EP, RP, EH, RH, RS> {
  /** How many senders: the messages in flight at once. */
  readonly senders: number
  /** The queue's capacity: how many steps may wait. */
  readonly capacity: number
  /** Produces the steps, in order, through `offer`. */
  readonly produce: (offer: (steps: Iterable<S>) => Effect.Effect<void>) => Effect.Effect<void, EP, RP>
  /** A connection a sender holds while steps keep coming. */
  readonly hold: Effect.Effect<C, EH, RH | Scope.Scope>
  /** Handles one step on the sender's connection (`moreWaiting`: whether another step waits); whether to keep the connection. */
  readonly handle: (step: S, conn: C, moreWaiting: Effect.Effect<boolean>) => Effect.Effect<boolean, never, RS>
}

export const run = <S, C, EP, RP, EH, RH, RS>(
  options: Senders<S, C, EP, RP, EH, RH, RS>
): Effect.Effect<void, EP | EH, RP | Exclude<RH, Scope.Scope> | RS> =>
  Effect.gen(function*() {
    const queue = yield* Queue.bounded<Item<S>>(options.capacity)
    const moreWaiting = Effect.map(Queue.size(queue), (n) => n > 0)

    const producer = Effect.zipRight(
      options.produce((steps) => Queue.offerAll(queue, Array.from(steps, (step): Item<S> => ({ _tag: "Step", step })))),
      // One end for each sender; offered while they all still run, so there is room for it.
      Queue.offerAll(queue, Array.from({ length: options.senders }, () => END))
    )

    /** Steps on one held connection, from `first`: the item that ends the hold, or none when the queue ran dry. */
    const onOneConnection = (first: Item<S>) =>
      Effect.scoped(Effect.gen(function*() {
        const conn = yield* options.hold
        for (let item = first; item._tag === "Step";) {
          const keep = yield* options.handle(item.step, conn, moreWaiting)
          const waiting = yield* Queue.poll(queue)
          if (Option.isNone(waiting) || !keep) return waiting
          item = waiting.value
        }
        return Option.some(END)
      }))

    const sender = Effect.gen(function*() {
      for (let item = yield* Queue.take(queue); item._tag === "Step";) {
        const next = yield* onOneConnection(item)
        item = Option.isSome(next) ? next.value : yield* Queue.take(queue)
      }
    })

    yield* Effect.all([producer, ...Array.from({ length: options.senders }, () => sender)], {
      concurrency: "unbounded",
      discard: true
    })
  })
