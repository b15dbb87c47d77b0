/**
 * The delivery of one candidate, start to end (C10): its plan; its attempt recorded and committed
 * (`in_doubt`, stamped with the run's token) on the run's own connection; then one transaction:
 * its actions and marks; the start of its POST recorded and committed (again on the run's
 * connection, so an attempt without it certainly never reached the Site); the Sender's POST; the
 * notification flipped to `sent`; the commit, once the Site confirmed. A definite failure rolls it
 * all back and forgets the attempt; an ambiguous one after the POST started leaves the attempt in
 * doubt, never sent again automatically.
 */
import { SqlClient } from "@effect/sql"
import { Cause, Data, DateTime, Effect, Exit, Option, Ref } from "effect"
import { maskPhone } from "../delivery/Phone.ts"
import { Sender } from "../delivery/Sender.ts"
import { ActionStrategy } from "../kinds/Kind.ts"
import { holdingBonuses, Notifications } from "../store/Notifications.ts"
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

/**
 * One candidate. Uninterruptible: a stop waits for the message in flight. Fails only when the
 * run's own connection fails to record the attempt: the run cannot go on.
 */
export const deliver = Effect.fn("pronto-notify/deliver")(
  function*(kind: string, at: DateTime.Utc, item: WithAction, session: RunSession) {
    const sql = yield* SqlClient.SqlClient
    const strategy = yield* ActionStrategy
    const notifications = yield* Notifications
    const sender = yield* Sender
    const { candidate, chosenAction, phone } = item
    yield* Effect.annotateCurrentSpan({ kind, actionSet: candidate.actionSet, chosenAction })

    const planned = yield* Effect.either(strategy.plan(candidate, chosenAction, at))
    if (planned._tag === "Left") {
      // Nothing was recorded or sent.
      yield* Effect.logWarning(`not sent to ${who(candidate)}: ${planned.left.message}; will retry next run`)
      return Outcome.Failed({ reason: planned.left.message })
    }
    const plan = planned.right
    const reserved = yield* notifications.reserve(
      {
        kind,
        actionSet: candidate.actionSet,
        triggerKey: candidate.trigger,
        clientId: candidate.clientId,
        orderUid: candidate.orderUid,
        phone,
        chosenAction,
        performedAction: plan.performedAction,
        text: plan.text,
        at: yield* DateTime.now
      },
      session.token,
      session.execute
    )
    if (Option.isNone(reserved)) {
      yield* Effect.logInfo(`skipped ${who(candidate)}: this ${kind} trigger already has a message`)
      return Outcome.Skipped()
    }
    const id = reserved.value
    const posting = yield* Ref.make(false)

    const exit = yield* sql.withTransaction(holdingBonuses(
      Effect.gen(function*() {
        // Each instant recorded is the real one: the gift's 14 days start when it is granted.
        yield* strategy.perform(candidate, plan, id, yield* DateTime.now)
        if (!(yield* notifications.startPost(id, yield* DateTime.now, session.execute))) return yield* new Released()
        yield* Ref.set(posting, true)
        yield* sender.send({ phone, text: plan.text })
        yield* notifications.confirm(id, yield* DateTime.now)
      })
    )).pipe(Effect.exit)

    if (Exit.isSuccess(exit)) return Outcome.Sent({ performedAction: plan.performedAction })

    const failure = Cause.failureOption(exit.cause)
    const definite = Option.isSome(failure) && failure.value._tag === "SendFailed"
    const reason = Option.match(failure, { onNone: () => firstLine(Cause.squash(exit.cause)), onSome: (e) => e.message })
    const posted = yield* Ref.get(posting)
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
  },
  (effect) => Effect.uninterruptible(effect)
)
