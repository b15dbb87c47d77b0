/**
 * The stages a kind's candidates pass before delivery, a block of TURN_BLOCK at a time: phones
 * normalised (invalid ones counted, reported once per trigger, masked, and never sent), then each
 * candidate's action from the rotation, one counter per action set, the block's turns taken at
 * once, blocks in the stream's order (C2).
 */
import { Chunk, Effect, Option } from "effect"
import { maskPhone, normalizePhone } from "../delivery/Phone.ts"
import type { Candidate } from "../kinds/Kind.ts"
import * as InvalidPhones from "../store/InvalidPhones.ts"
import { actionOfTurn } from "./Rotation.ts"

/** Candidates whose rotation turns are taken in one statement per action set. */
export const TURN_BLOCK = 256

export interface Ready {
  readonly candidate: Candidate
  /** Normalised. */
  readonly phone: string
}

export interface WithAction extends Ready {
  readonly chosenAction: number
}

/** For logs: the client and, when the trigger is one, the order. */
export const who = (c: Candidate) => `client ${c.clientId}${c.orderUid ? ` order ${c.orderUid}` : ""}`

/**
 * A block's candidates whose phones can be sent to, normalised; `onInvalid` is told of each one
 * whose phone cannot.
 */
export const readyOf = <E, R>(
  block: Chunk.Chunk<Candidate>,
  onInvalid: (candidate: Candidate) => Effect.Effect<void, E, R>
): Effect.Effect<Chunk.Chunk<Ready>, E, R> => {
  const ready: Array<Ready> = []
  const invalid: Array<Candidate> = []
  for (const candidate of block) {
    const phone = normalizePhone(candidate.phone)
    if (Option.isSome(phone)) ready.push({ candidate, phone: phone.value })
    else invalid.push(candidate)
  }
  const result = Chunk.unsafeFromArray(ready)
  return invalid.length === 0 ? Effect.succeed(result) : Effect.as(Effect.forEach(invalid, onInvalid, { discard: true }), result)
}

/** Logs an invalid phone (masked) the first time its trigger meets it; later runs only count it. */
export const reportInvalid = (kind: string) => (candidate: Candidate) =>
  Effect.flatMap(InvalidPhones.remember(kind, candidate.trigger, candidate.clientId), (first) =>
    first
      ? Effect.logWarning(
        `not sent: invalid phone ${maskPhone(candidate.phone)} for ${who(candidate)}; reported once, counted as invalid until corrected`
      )
      : Effect.void)

/**
 * Gives each candidate of a block its action, in order, one counter per action set: `take`
 * reserves the block's turns (the Rotation's, or a dry run's peek) in one call per action set,
 * `actionCount` says how many actions rotate in a set. Blocks taken in the stream's order give the
 * same actions whatever their size.
 */
export const withActionsOf = <E2, R2>(
  take: (actionSet: string, count: number) => Effect.Effect<number, E2, R2>,
  actionCount: (actionSet: string) => Effect.Effect<number>
) =>
(block: Chunk.Chunk<Ready>): Effect.Effect<Chunk.Chunk<WithAction>, E2, R2> =>
  Effect.gen(function*() {
    const counts = new Map<string, number>()
    for (const r of block) counts.set(r.candidate.actionSet, (counts.get(r.candidate.actionSet) ?? 0) + 1)
    const next = new Map<string, { turn: number; actions: number }>()
    for (const [actionSet, count] of counts) {
      next.set(actionSet, { turn: yield* take(actionSet, count), actions: yield* actionCount(actionSet) })
    }
    return Chunk.map(block, (r): WithAction => {
      const set = next.get(r.candidate.actionSet)!
      const chosenAction = actionOfTurn(set.turn, set.actions)
      set.turn += 1
      return { ...r, chosenAction }
    })
  })
