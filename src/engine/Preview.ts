/**
 * A dry run: what a run of a kind at the Clock's now would send, without sending or writing
 * anything. Rotation turns are read, not taken.
 */
import { DateTime, Effect, Stream } from "effect"
import { maskPhone } from "../delivery/Phone.ts"
import { ActionStrategy, type AnyKind, type ClientId, Selector } from "../kinds/Kind.ts"
import { readyOf, TURN_BLOCK, withActionsOf } from "./Candidates.ts"
import { actionCountOf } from "./Job.ts"
import { Rotation } from "./Rotation.ts"

export interface PreviewLine {
  readonly clientId: ClientId
  readonly orderUid: string | null
  /** Masked. */
  readonly phone: string
  readonly chosenAction: number
  readonly performedAction: number
  readonly text: string
}

export const preview = (kind: AnyKind) =>
  Effect.gen(function*() {
    const selector = yield* Selector
    const strategy = yield* ActionStrategy
    const rotation = yield* Rotation
    const at = yield* DateTime.now
    const counters = new Map<string, number>()
    const peekAndAdvance = (actionSet: string, count: number) =>
      Effect.map(
        counters.has(actionSet) ? Effect.succeed(counters.get(actionSet)!) : rotation.peek(actionSet),
        (first) => {
          counters.set(actionSet, first + count)
          return first
        }
      )
    return selector.candidates(at).pipe(
      Stream.grouped(TURN_BLOCK),
      // A dry run reports nothing of its own: invalid phones simply get no line.
      Stream.mapEffect((block) => Effect.flatMap(readyOf(block, () => Effect.void), withActionsOf(peekAndAdvance, actionCountOf(kind)))),
      Stream.flattenChunks,
      Stream.mapEffect(({ candidate, chosenAction, phone }) =>
        Effect.map(strategy.plan(candidate, chosenAction, at), (plan): PreviewLine => ({
          clientId: candidate.clientId,
          orderUid: candidate.orderUid,
          phone: maskPhone(phone),
          chosenAction,
          performedAction: plan.performedAction,
          text: plan.text
        }))
      )
    )
  }).pipe(Effect.provide(kind.layer))
