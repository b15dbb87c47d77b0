/**
 * The delivery of candidates, start to end (C10), in two steps. `prepare`, per block: each
 * candidate's plan, then the block's attempts recorded and committed in one statement (`in_doubt`,
 * stamped with the run's token) on the run's own connection. `deliver`, per message, one
 * transaction: its actions and marks; the start of its POST recorded and committed (again on the
 * run's connection, so an attempt without it certainly never reached the Site); the Sender's POST;
 * the notification flipped to `sent`; the commit, once the Site confirmed. A definite failure rolls
 * it all back and forgets the attempt; an ambiguous one after the POST started leaves the attempt
 * in doubt, never sent again automatically. Attempts a run prepared and never posted (it stopped)
 * are forgotten when it ends.
 */
import { Cause, Chunk, Data, DateTime, Effect, Option } from "effect"
import { maskPhone } from "../delivery/Phone.ts"
import { Sender } from "../delivery/Sender.ts"
import { type ActionPlan, ActionStrategy, type NotificationId } from "../kinds/Kind.ts"
import { Notifications } from "../store/Notifications.ts"
import { type HeldConnection, withTransactionOn } from "../store/Transactions.ts"
import { who, type WithAction } from "./Candidates.ts"
import type { RunSession } from "./RunSession.ts"

/** How one candidate's delivery ended. */
export type Outcome = Data.TaggedEnum<{
  /** The Site confirmed; the actions and marks are committed with the sent notification. */
  Sent: { readonly performedAction: number }
  /** Certainly not delivered; nothing is left, and the next run tries again. */
  Failed: { readonly reason: string }
  /** Maybe delivered: the attempt stays, never sent again automatically. */
  InDoubt: { readonly reason: string }
  /** Its trigger already has a message (a concurrent run took it): nothing was done. */
  Skipped: {}
}>
export const Outcome = Data.taggedEnum<Outcome>()

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!

/** The attempt was no longer there when its POST was to start: another run took this run for dead. */
class Released extends Data.TaggedError("Released")<{}> {
  override get message() {
    return "its attempt was released by another run before the POST (this run's lock was lost)"
  }
}

/** A candidate ready to be sent: its plan, its attempt recorded. */
export interface Prepared {
  readonly item: WithAction
  readonly plan: ActionPlan
  readonly id: NotificationId
}

/** A prepared message, or the outcome of a candidate that will not be sent. */
export type Step = Prepared | Outcome

export const isPrepared = (step: Step): step is Prepared => !("_tag" in step)

/**
 * A block of candidates: their plans (as many at once as messages in flight), then the attempts of
 * those planned in one statement. Fails only when the run's own connection fails to record them:
 * the run cannot go on.
 */
export const prepare = Effect.fn("pronto-notify/prepare")(
  function*(kind: string, block: Chunk.Chunk<WithAction>, session: RunSession, inFlight: number) {
    const strategy = yield* ActionStrategy
    const notifications = yield* Notifications
    const at = yield* DateTime.now
    const planned = yield* Effect.forEach(
      block,
      (item) => Effect.either(strategy.plan(item.candidate, item.chosenAction, at)),
      { concurrency: inFlight }
    )
    const ready = Chunk.toReadonlyArray(block).flatMap((item, i) => {
      const plan = planned[i]!
      return plan._tag === "Right" ? [{ item, plan: plan.right }] : []
    })
    const attemptedAt = yield* DateTime.now
    const ids = yield* notifications.reserve(
      ready.map(({ item: { candidate, chosenAction, phone }, plan }) => ({
        kind,
        actionSet: candidate.actionSet,
        triggerKey: candidate.trigger,
        clientId: candidate.clientId,
        orderUid: candidate.orderUid,
        phone,
        chosenAction,
        performedAction: plan.performedAction,
        text: plan.text,
        at: attemptedAt
      })),
      session.token,
      session.execute
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
        onSome: (id) => Effect.succeed<Step>({ item, plan: plan.right, id }),
        onNone: () =>
          Effect.as(
            Effect.logInfo(`skipped ${who(item.candidate)}: this ${kind} trigger already has a message`),
            Outcome.Skipped()
          )
      })
    })
  }
)

/**
 * Sends prepared messages of one run: the services are looked up once, not per message. Every
 * bonus an action grants is held for its notification's `confirmation` for as long as the returned
 * function's caller runs inside `holdingBonuses` (the run does, once for all its messages).
 */
export const makeDeliver = (kind: string, session: RunSession) =>
  Effect.gen(function*() {
    const strategy = yield* ActionStrategy
    const notifications = yield* Notifications
    const sender = yield* Sender

    /** What is left to do once the transaction failed, and how it ended. */
    const failed = (prepared: Prepared, cause: Cause.Cause<{ readonly _tag: string; readonly message: string }>, posted: boolean) =>
      Effect.gen(function*() {
        const { id, item: { candidate, phone } } = prepared
        const failure = Cause.failureOption(cause)
        const definite = Option.isSome(failure) && failure.value._tag === "SendFailed"
        const reason = Option.match(failure, { onNone: () => firstLine(Cause.squash(cause)), onSome: (e) => e.message })
        if (definite || !posted) {
          const released = yield* Effect.either(notifications.release(id))
          if (released._tag === "Left" && !posted) {
            // Its POST never started: a later run releases it once this one has ended.
            yield* Effect.logWarning(
              `not sent to ${who(candidate)} (${maskPhone(phone)}): ${reason}; notification ${id} could not be released (${released.left.message}); a later run releases it`
            )
            return Outcome.Failed({ reason })
          }
          if (released._tag === "Left") {
            // Not sent, but the attempt could not be forgotten: it blocks its trigger until someone looks.
            yield* Effect.logError(
              `not sent to ${who(candidate)} (${maskPhone(phone)}): ${reason}; notification ${id} could not be released (${released.left.message}) and stays in doubt`
            )
            return Outcome.InDoubt({ reason })
          }
          yield* Effect.logWarning(`not sent to ${who(candidate)} (${maskPhone(phone)}): ${reason}; will retry next run`)
          return Outcome.Failed({ reason })
        }
        // The Site may have delivered it (or did, and the commit failed): never send it again blindly.
        yield* Effect.logError(`in doubt for ${who(candidate)} (${maskPhone(phone)}): ${reason}; notification ${id} needs a look`)
        return Outcome.InDoubt({ reason })
      })

    /**
     * One message, its transaction on `held` (a connection the sender holds; `beginNext` says
     * whether the sender has another message for it). Uninterruptible: a stop waits for the
     * message in flight.
     */
    return (prepared: Prepared, held: HeldConnection, beginNext: Effect.Effect<boolean>): Effect.Effect<Outcome> => {
      const { id, item: { candidate, chosenAction, phone }, plan } = prepared
      let posted = false
      const started = (ok: boolean) => (ok ? Effect.void : Effect.fail(new Released()))
      return withTransactionOn(held,
        // Each instant recorded is the real one: the gift's 14 days start when it is granted.
        // The POST's start is recorded once the actions are done: an attempt whose actions never
        // finished (the process died while they waited on a lock, say) certainly reached nobody.
        DateTime.now.pipe(
          Effect.flatMap((now) => strategy.perform(candidate, plan, id, now)),
          Effect.zipRight(session.startPost(id)),
          Effect.flatMap(started),
          Effect.zipRight(Effect.sync(() => {
            posted = true
          })),
          Effect.zipRight(sender.send({ phone, text: plan.text })),
          Effect.zipRight(DateTime.now),
          Effect.flatMap((now) => notifications.confirmation(id, now))
        ), beginNext).pipe(
        Effect.matchCauseEffect({
          onSuccess: () => Effect.succeed(Outcome.Sent({ performedAction: plan.performedAction })),
          onFailure: (cause) => failed(prepared, cause, posted)
        }),
        Effect.withSpan("pronto-notify/deliver", {
          attributes: { kind, actionSet: candidate.actionSet, chosenAction },
          captureStackTrace: false
        }),
        Effect.uninterruptible
      )
    }
  })
