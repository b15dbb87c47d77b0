/**
 * The delivery of one candidate, start to end (C10): its plan; its attempt recorded and committed
 * (`in_doubt`) before anything is sent; then in one transaction its actions and marks, the
 * notification flipped to `sent`, and the Sender's POST, committed only once the Site confirmed.
 * A definite send failure rolls it all back and forgets the attempt; an ambiguous one leaves the
 * attempt in doubt, never sent again automatically.
 */
import { SqlClient } from "@effect/sql"
import { Cause, Data, DateTime, Effect, Exit, Option, Ref } from "effect"
import { maskPhone } from "../delivery/Phone.ts"
import { Sender } from "../delivery/Sender.ts"
import { ActionStrategy } from "../kinds/Kind.ts"
import { Notifications } from "../store/Notifications.ts"
import { who, type WithAction } from "./Candidates.ts"

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

/** One candidate. Uninterruptible: a stop waits for the message in flight. */
export const deliver = Effect.fn("pronto-notify/deliver")(
  function*(kind: string, at: DateTime.Utc, item: WithAction) {
    const sql = yield* SqlClient.SqlClient
    const strategy = yield* ActionStrategy
    const notifications = yield* Notifications
    const sender = yield* Sender
    const { candidate, chosenAction, phone } = item
    yield* Effect.annotateCurrentSpan({ kind, actionSet: candidate.actionSet, chosenAction })

    const plan = yield* strategy.plan(candidate, chosenAction, at)
    const reserved = yield* notifications.reserve({
      kind,
      actionSet: candidate.actionSet,
      triggerKey: candidate.trigger,
      clientId: candidate.clientId,
      orderUid: candidate.orderUid,
      phone,
      chosenAction,
      performedAction: plan.performedAction,
      text: plan.text,
      at
    })
    if (Option.isNone(reserved)) {
      yield* Effect.logInfo(`skipped ${who(candidate)}: this ${kind} trigger already has a message`)
      return Outcome.Skipped()
    }
    const id = reserved.value
    const sending = yield* Ref.make(false)

    const exit = yield* sql.withTransaction(
      Effect.gen(function*() {
        yield* strategy.perform(candidate, plan, id, at)
        yield* notifications.confirm(id, yield* DateTime.now)
        yield* Ref.set(sending, true)
        yield* sender.send({ phone, text: plan.text })
      })
    ).pipe(Effect.exit)

    if (Exit.isSuccess(exit)) return Outcome.Sent({ performedAction: plan.performedAction })

    const failure = Cause.failureOption(exit.cause)
    const definite = Option.isSome(failure) && failure.value._tag === "SendFailed"
    const reason = Option.match(failure, { onNone: () => firstLine(Cause.squash(exit.cause)), onSome: (e) => e.message })
    if (definite || !(yield* Ref.get(sending))) {
      const released = yield* Effect.either(notifications.release(id))
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
  (effect, _kind, _at, item) =>
    effect.pipe(
      // Planning or recording the attempt failed: nothing was sent.
      Effect.catchAll((error) =>
        Effect.as(
          Effect.logWarning(`not sent to ${who(item.candidate)}: ${error.message}; will retry next run`),
          Outcome.Failed({ reason: error.message })
        )
      ),
      Effect.uninterruptible
    )
)
