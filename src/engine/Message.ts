/**
 * One message: its transaction, start to end, and how it ended (C10). Its attempt is already
 * recorded and committed, in doubt (engine/Candidates). Then, on the connection its sender holds:
 *
 *   1. BEGIN (the previous message's commit may have begun it);
 *   2. the kind's actions (`perform`: marks, a gift), inside the transaction; what they granted
 *      comes back;
 *   3. the POST's start, recorded and committed on the run's own connection, outside the
 *      transaction: an attempt without it certainly never reached the Site. Recorded after the
 *      actions, so an attempt whose actions never finished (the process died while they waited on
 *      a lock, say) reached nobody;
 *   4. the Site's POST;
 *   5. the flip to `sent` with the bonus granted, and COMMIT, in one round trip.
 *
 * How it ends (docs/guarantees.md, "What each failure leaves"):
 *
 * | what failed | what is left | outcome |
 * |---|---|---|
 * | 1–3: an action, the database, the attempt released by another run | rolled back, attempt released | Failed |
 * | 4: the Site certainly did not take it, a later try may pass (`SendFailed`) | rolled back, attempt released | Failed |
 * | 4: the Site refused this message (`SendFailed`, `lasting`) | rolled back, attempt released, refusal kept | Refused |
 * | 4: nobody knows (`SendInDoubt`) | rolled back, attempt in doubt | InDoubt (the Site's) |
 * | 5: the commit | attempt in doubt (the Site took it) | InDoubt (the database's) |
 * | a release that fails after the POST started | attempt in doubt | InDoubt (the database's) |
 *
 * A message in doubt is never sent again automatically; an operator settles it (store/InDoubt).
 */
import { Cause, Data, DateTime, Effect } from "effect"
import { maskPhone } from "../delivery/Phone.ts"
import { Sender, type SendFailed, SendInDoubt } from "../delivery/Sender.ts"
import type { Kind, Performed } from "../kinds/Kind.ts"
import { Attempts } from "../store/Attempts.ts"
import type { MessageConnection } from "../store/MessageConnection.ts"
import type { RunSession } from "../store/RunSession.ts"
import { type Prepared, who } from "./Candidates.ts"
import * as Metrics from "../observability/Metrics.ts"
import { Outcome } from "./Outcome.ts"

/** Steps 1 to 3 failed: the POST never started, so nothing reached the Site. */
class NotPosted extends Data.TaggedError("NotPosted")<{ readonly reason: string }> {}

/** The Site took the message and step 5 failed: nobody knows whether the flip to sent was committed. */
class NotConfirmed extends Data.TaggedError("NotConfirmed")<{ readonly reason: string }> {}

const RELEASED = "its attempt was released by another run before the POST (this run's lock was lost)"

const firstLine = (text: string) => text.split("\n")[0]!

const causeText = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return firstLine(error instanceof Error ? error.message : String(error))
}

/**
 * The delivery of a kind's prepared messages in one run (`session`): each message's transaction on
 * the connection its sender holds (`beginNext` says whether that sender has another message for
 * it). Uninterruptible: a stop waits for the message in flight.
 */
export const deliverer = <R>(kind: Kind<string, unknown, R>, session: RunSession) =>
  Effect.gen(function*() {
    const attempts = yield* Attempts
    const sender = yield* Sender

    /** Steps 1 to 3; any failure, a defect included, means the POST never started. */
    const beforePost = (p: Prepared, conn: MessageConnection) =>
      Effect.gen(function*() {
        yield* conn.begin
        const at = yield* DateTime.now
        const performed = yield* conn.within(kind.perform(p.candidate, p.plan, { notificationId: p.id, at }))
        if (!(yield* session.startPost(p.id))) return yield* new NotPosted({ reason: RELEASED })
        return performed
      }).pipe(Effect.catchAllCause((cause) => new NotPosted({ reason: causeText(cause) })))

    const post = (p: Prepared) =>
      sender.send({ phone: p.phone, text: p.plan.text }).pipe(
        // A defect after the POST started: it may have gone.
        Effect.catchAllDefect((defect) => new SendInDoubt({ reason: firstLine(String(defect)) })),
        Metrics.timedPost,
        // Never the phone nor the text on a span. OpenTelemetry's messaging attributes where they fit:
        // a send to the Site, the kind as its destination.
        Effect.withSpan("pronto-notify/site-post", {
          kind: "client",
          attributes: {
            kind: kind.name,
            "messaging.system": "pronto_site",
            "messaging.operation.name": "send",
            "messaging.operation.type": "send",
            "messaging.destination.name": kind.name
          },
          captureStackTrace: false
        })
      )

    const confirm = (p: Prepared, conn: MessageConnection, performed: Performed, beginNext: Effect.Effect<boolean>) =>
      Effect.all([DateTime.now, beginNext]).pipe(
        Effect.flatMap(([sentAt, next]) => conn.commit({ id: p.id, sentAt, bonus: performed.bonus }, next)),
        Effect.catchAllCause((cause) => new NotConfirmed({ reason: causeText(cause) }))
      )

    const to = (p: Prepared) => `${who(p.candidate)} (${maskPhone(p.phone)})`
    const inDoubt = (p: Prepared, reason: string, blame: "site" | "database") =>
      Effect.as(
        Effect.logError(`in doubt for ${to(p)}: ${reason}; notification ${p.id} needs a look`),
        Outcome.InDoubt({ reason, blame })
      )

    /** Not posted: forgotten now, or by a later run once this one has ended (its POST never started). */
    const notPosted = (p: Prepared, conn: MessageConnection, reason: string) =>
      Effect.zipRight(
        Effect.ignore(conn.rollback),
        attempts.release(p.id).pipe(
          Effect.matchEffect({
            onSuccess: () =>
              Effect.as(Effect.logWarning(`not sent to ${to(p)}: ${reason}; will retry next run`), Outcome.Failed({ reason })),
            onFailure: (error) =>
              Effect.as(
                Effect.logWarning(
                  `not sent to ${to(p)}: ${reason}; notification ${p.id} could not be released (${error.message}); a later run releases it`
                ),
                Outcome.Failed({ reason })
              )
          })
        )
      )

    /**
     * Posted, and the Site certainly did not take it: forgotten, and a refusal remembered so that
     * this slot does not post it again; unless the attempt cannot be forgotten, which blocks its
     * trigger until someone looks.
     */
    const notTaken = (p: Prepared, conn: MessageConnection, error: SendFailed) =>
      Effect.flatMap(DateTime.now, (now) =>
        conn.rollback.pipe(
          Effect.zipRight(error.lasting ? attempts.refuse(p.id, now, error.message) : attempts.release(p.id)),
          Effect.matchEffect({
            onSuccess: (): Effect.Effect<Outcome> =>
              error.lasting
                ? Effect.as(
                  Effect.logWarning(`refused for ${to(p)}: ${error.message}; not posted again before the next ${kind.name} slot`),
                  Outcome.Refused({ reason: error.message })
                )
                : Effect.as(
                  Effect.logWarning(`not sent to ${to(p)}: ${error.message}; will retry next run`),
                  Outcome.Failed({ reason: error.message })
                ),
            onFailure: (released): Effect.Effect<Outcome> =>
              Effect.as(
                Effect.logError(
                  `not sent to ${to(p)}: ${error.message}; notification ${p.id} could not be released (${released.message}) and stays in doubt`
                ),
                Outcome.InDoubt({ reason: error.message, blame: "database" })
              )
          })
        ))

    return (p: Prepared, conn: MessageConnection, beginNext: Effect.Effect<boolean>): Effect.Effect<Outcome, never, R> =>
      Effect.gen(function*() {
        const performed = yield* beforePost(p, conn)
        yield* post(p)
        yield* confirm(p, conn, performed, beginNext)
        return Outcome.Sent({ performedAction: p.plan.performedAction })
      }).pipe(
        Effect.catchTags({
          NotPosted: (e) => notPosted(p, conn, e.reason),
          SendFailed: (e) => notTaken(p, conn, e),
          SendInDoubt: (e) => Effect.zipRight(Effect.ignore(conn.rollback), inDoubt(p, e.message, "site")),
          // The commit's own failure rolled back what was left.
          NotConfirmed: (e) => inDoubt(p, e.reason, "database")
        }),
        Effect.tap((outcome) =>
          Effect.annotateCurrentSpan({
            outcome: Metrics.outcomeOf(outcome),
            action: outcome._tag === "Sent" ? outcome.performedAction : p.chosenAction
          })
        ),
        Effect.withSpan("pronto-notify/deliver", {
          attributes: { kind: kind.name, actionSet: p.candidate.actionSet, chosenAction: p.chosenAction },
          captureStackTrace: false
        }),
        Effect.uninterruptible
      )
  })
