/**
 * The stages a kind's candidates pass before delivery, a block of TURN_BLOCK at a time: phones
 * normalised (invalid ones counted, reported once per trigger, masked, and never sent); each
 * candidate's action from the rotation, one counter per action set, the block's turns taken at
 * once, blocks in the stream's order (C2); then each one's plan, and the block's attempts recorded
 * and committed in one statement, in doubt, stamped with the run's token, before any POST.
 */
import { Chunk, DateTime, Effect, Option } from "effect"
import { maskPhone, normalizePhone } from "../delivery/Phone.ts"
import type { ActionPlan, Candidate, Kind } from "../kinds/Kind.ts"
import type { RunSession } from "../store/RunSession.ts"
import type { NotificationId } from "../store/Ids.ts"
import { InvalidPhones } from "../store/InvalidPhones.ts"
import { Outcome } from "./Outcome.ts"
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

/** A candidate ready to be sent: its plan, its attempt recorded. */
export interface Prepared extends WithAction {
  readonly plan: ActionPlan
  readonly id: NotificationId
}

/** A prepared message, or the outcome of a candidate that will not be sent. */
export type Step = Prepared | Outcome

export const isPrepared = (step: Step): step is Prepared => !("_tag" in step)

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
  Effect.flatMap(InvalidPhones, (phones) => phones.remember(kind, candidate.trigger, candidate.clientId)).pipe(
    Effect.flatMap((first) =>
      first
        ? Effect.logWarning(
          `not sent: invalid phone ${maskPhone(candidate.phone)} for ${who(candidate)}; reported once, counted as invalid until corrected`
        )
        : Effect.void
    )
  )

/** How many actions rotate in each of the kind's action sets; another set is a bug in its selector. */
export const actionCountOf = (kind: Pick<Kind, "name" | "actionSets">) => (actionSet: string): Effect.Effect<number> => {
  const set = kind.actionSets.find((s) => s.name === actionSet)
  return set === undefined
    ? Effect.dieMessage(`${kind.name}: its selector yielded the unknown action set "${actionSet}"`)
    : Effect.succeed(set.actions)
}

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

/**
 * A block of candidates: their plans (as many at once as messages in flight), then the attempts of
 * those planned in one statement on the run's own connection. Fails only when that fails: the run
 * cannot go on.
 */
export const prepare = <R>(kind: Kind<string, unknown, R>, session: RunSession, inFlight: number) =>
(block: Chunk.Chunk<WithAction>) =>
  Effect.gen(function*() {
    const at = yield* DateTime.now
    const planned = yield* Effect.forEach(block, (item) => Effect.either(kind.plan(item.candidate, item.chosenAction, at)), {
      concurrency: inFlight
    })
    const ready = Chunk.toReadonlyArray(block).flatMap((item, i) => {
      const plan = planned[i]!
      return plan._tag === "Right" ? [{ item, plan: plan.right }] : []
    })
    const attemptedAt = yield* DateTime.now
    const ids = yield* session.record(
      ready.map(({ item: { candidate, chosenAction, phone }, plan }) => ({
        kind: kind.name,
        actionSet: candidate.actionSet,
        triggerKey: candidate.trigger,
        clientId: candidate.clientId,
        orderUid: candidate.orderUid,
        phone,
        chosenAction,
        performedAction: plan.performedAction,
        text: plan.text,
        at: attemptedAt
      }))
    )
    // The attempts' ids are in the order of the planned candidates.
    let next = 0
    return yield* Effect.forEach(block, (item, i): Effect.Effect<Step> => {
      const plan = planned[i]!
      if (plan._tag === "Left") {
        // Nothing was recorded or sent.
        return Effect.as(
          Effect.logWarning(`not sent to ${who(item.candidate)}: ${plan.left.message}; will retry next run`),
          Outcome.Failed({ reason: plan.left.message })
        )
      }
      return Option.match(ids[next++]!, {
        onSome: (id) => Effect.succeed<Step>({ ...item, plan: plan.right, id }),
        onNone: () =>
          Effect.as(
            Effect.logInfo(`skipped ${who(item.candidate)}: this ${kind.name} trigger already has a message`),
            Outcome.Skipped()
          )
      })
    })
  }).pipe(Effect.withSpan("pronto-notify/prepare", { attributes: { kind: kind.name, candidates: block.length } }))
