/**
 * The stages a kind's candidates pass before delivery: phones normalised (invalid ones counted,
 * reported once per trigger, masked, and never sent), then each candidate's action from the rotation, one counter per action
 * set, turns taken in blocks in the stream's order (C2).
 */
import { Chunk, Effect, Option, Stream } from "effect"
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

/** Normalises phones; `onInvalid` is told of each candidate whose phone cannot be sent to. */
export const validPhones = <E2, R2>(onInvalid: (candidate: Candidate) => Effect.Effect<void, E2, R2>) =>
<E, R>(candidates: Stream.Stream<Candidate, E, R>): Stream.Stream<Ready, E | E2, R | R2> =>
  candidates.pipe(
    Stream.mapEffect((candidate) =>
      Option.match(normalizePhone(candidate.phone), {
        onNone: () => Effect.as(onInvalid(candidate), Option.none<Ready>()),
        onSome: (phone) => Effect.succeed(Option.some<Ready>({ candidate, phone }))
      })
    ),
    Stream.filterMap((ready) => ready)
  )

/** Logs an invalid phone (masked) the first time its trigger meets it; later runs only count it. */
export const reportInvalid = (kind: string) => (candidate: Candidate) =>
  Effect.flatMap(InvalidPhones.remember(kind, candidate.trigger, candidate.clientId), (first) =>
    first
      ? Effect.logWarning(
        `not sent: invalid phone ${maskPhone(candidate.phone)} for ${who(candidate)}; reported once, counted as invalid until corrected`
      )
      : Effect.void)

/**
 * Gives each candidate its action, in stream order, one counter per action set: `take` reserves
 * turns (the Rotation's, or a dry run's peek), `actionCount` says how many actions rotate in a set.
 * In blocks of TURN_BLOCK, as the turns are taken.
 */
export const withActionBlocks = <E2, R2>(
  take: (actionSet: string, count: number) => Effect.Effect<number, E2, R2>,
  actionCount: (actionSet: string) => Effect.Effect<number>
) =>
<E, R>(ready: Stream.Stream<Ready, E, R>): Stream.Stream<Chunk.Chunk<WithAction>, E | E2, R | R2> =>
  ready.pipe(
    Stream.grouped(TURN_BLOCK),
    Stream.mapEffect((block) =>
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
    )
  )

/** `withActionBlocks`, one candidate at a time. */
export const withActions = <E2, R2>(
  take: (actionSet: string, count: number) => Effect.Effect<number, E2, R2>,
  actionCount: (actionSet: string) => Effect.Effect<number>
) =>
<E, R>(ready: Stream.Stream<Ready, E, R>): Stream.Stream<WithAction, E | E2, R | R2> =>
  Stream.flattenChunks(withActionBlocks(take, actionCount)(ready))
