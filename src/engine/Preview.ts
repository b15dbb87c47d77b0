/**
 * A dry run: what a run of a kind at the Clock's now would send, without sending or writing
 * anything. Rotation turns are read, not taken.
 */
import { DateTime, Effect, Stream } from "effect"
import { maskPhone } from "../delivery/Phone.ts"
import type { Kind } from "../kinds/Kind.ts"
import type { ClientId } from "../store/Ids.ts"
import { actionCountOf, readyOf, TURN_BLOCK, withActionsOf } from "./Candidates.ts"
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

export const preview = <R>(kind: Kind<string, unknown, R>) =>
  Effect.gen(function*() {
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
    return kind.select(at).pipe(
      Stream.grouped(TURN_BLOCK),
      // A dry run reports nothing of its own: invalid phones simply get no line.
      Stream.mapEffect((block) => Effect.flatMap(readyOf(block, () => Effect.void), withActionsOf(peekAndAdvance, actionCountOf(kind)))),
      Stream.flattenChunks,
      Stream.mapEffect(({ candidate, chosenAction, phone }) =>
        Effect.map(kind.plan(candidate, chosenAction, at), (plan): PreviewLine => ({
          clientId: candidate.clientId,
          orderUid: candidate.orderUid,
          phone: maskPhone(phone),
          chosenAction,
          performedAction: plan.performedAction,
          text: plan.text
        }))
      )
    )
  })
