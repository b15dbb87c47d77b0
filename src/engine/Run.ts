/**
 * The engine: one run of one kind at the instant the Clock gives (C1), as a pipeline of named
 * pieces. The run opens its session (`Attempts.open`: its token, held for as long as it lives) and
 * releases the attempts that runs now gone left before their POST. Its candidates then pass, a
 * block at a time, the stages before delivery (engine/Candidates: phones, rotation turns, plans,
 * attempts) into the senders (engine/Senders), each message one transaction (engine/Message). The
 * stopper (engine/Stopper) ends the taking of candidates when the Site's answers stay ambiguous or
 * the sending hours end; an interruption does too. The tally (engine/Tally) counts it all into the
 * run's summary. The messages in flight always finish.
 */
import { DateTime, Effect, Option, Stream } from "effect"
import { InFlight, postStartLanes } from "../delivery/InFlight.ts"
import type { Kind } from "../kinds/Kind.ts"
import type { Sender } from "../delivery/Sender.ts"
import { Attempts } from "../store/Attempts.ts"
import type { MessageConnection } from "../store/MessageConnection.ts"
import * as TablesMissing from "../store/TablesMissing.ts"
import type { InvalidPhones } from "../store/InvalidPhones.ts"
import { actionCountOf, isPrepared, prepare, readyOf, reportInvalid, type Step, TURN_BLOCK, withActionsOf } from "./Candidates.ts"
import { deliverer } from "./Message.ts"
import type { Outcome } from "./Outcome.ts"
import { Rotation } from "./Rotation.ts"
import * as Senders from "./Senders.ts"
import * as Stopper from "./Stopper.ts"
import * as Tally from "./Tally.ts"

/** What a run needs besides its kind's own requirements: `ProntoNotify.layer` and a Sender provide them. */
export type RunRequirements = Attempts | Rotation | Sender | InvalidPhones

export interface RunOptions {
  /** No send starts at or after this instant: the run stops taking candidates there. */
  readonly until?: DateTime.Utc | undefined
  /** Told the summary when the run is interrupted, once the messages in flight have finished. */
  readonly onInterrupt?: ((summary: Tally.RunSummary) => Effect.Effect<void>) | undefined
}

/** Forgets the attempts of a kind's runs that are gone before their POST: their messages go out now. */
const releaseAbandoned = (kind: string) =>
  Effect.flatMap(Attempts, (attempts) => attempts.releaseAbandoned(kind)).pipe(
    Effect.tap((released) =>
      released > 0
        ? Effect.logInfo(`${kind}: released ${released} attempts whose POST never started (their run is gone); sending them now`)
        : Effect.void
    )
  )

/** Runs a kind as of the Clock's now. */
export const run = Effect.fn("pronto-notify/run")(function*<R>(kind: Kind<string, unknown, R>, options: RunOptions = {}) {
  const at = yield* DateTime.now
  yield* Effect.annotateCurrentSpan({ kind: kind.name, at: DateTime.formatIso(at) })
  const attempts = yield* Attempts
  const rotation = yield* Rotation
  const inFlight = yield* InFlight
  const session = yield* attempts.open(postStartLanes(inFlight))
  const deliver = yield* deliverer(kind, session)
  yield* releaseAbandoned(kind.name)
  const tally = yield* Tally.make(kind.name, at, session.token)
  const stopper = yield* Stopper.make(kind.name, options.until)

  const record = (outcome: Outcome) => Effect.zipRight(stopper.record(outcome), tally.record(outcome))

  // A message's delivery and its count are one uninterruptible step: a stop waits for both, so the
  // summary of an interrupted run counts every message that went out. A prepared message left when
  // the run stops is not sent; its attempt is forgotten when the run ends.
  const handle = (step: Step, conn: MessageConnection, moreWaiting: Effect.Effect<boolean>) =>
    Effect.uninterruptible(
      !isPrepared(step)
        ? Effect.as(record(step), true)
        : Effect.flatMap(stopper.stopping, (stopped) =>
          stopped
            ? Effect.as(tally.unselected, true)
            : Effect.flatMap(deliver(step, conn, moreWaiting), (outcome) => Effect.as(record(outcome), outcome._tag === "Sent")))
    )

  const takeActions = withActionsOf(rotation.take, actionCountOf(kind))
  const produce = (offer: (steps: Iterable<Step>) => Effect.Effect<void>) =>
    kind.select(at).pipe(
      Stream.grouped(TURN_BLOCK),
      // Checked before a block's turns are taken, so none is spent on candidates left for later.
      Stream.mapEffect((block) => Effect.map(stopper.stopping, (stopped) => (stopped ? Option.none() : Option.some(block)))),
      Stream.takeWhile(Option.isSome),
      Stream.runForEach(({ value: block }) =>
        Effect.gen(function*() {
          yield* tally.selected(block.length)
          const ready = yield* readyOf(block, (candidate) => Effect.zipRight(tally.invalid, reportInvalid(kind.name)(candidate)))
          yield* offer(yield* prepare(kind, session, inFlight)(yield* takeActions(ready)))
        })
      )
    )

  const forgetUnstarted = session.forgetUnstarted(kind.name).pipe(
    Effect.catchAll((error) =>
      Effect.logWarning(
        `${kind.name}: could not forget the attempts this run prepared and did not send (${error.message}); a later run releases them`
      )
    )
  )

  yield* Senders.run({ senders: inFlight, capacity: TURN_BLOCK, produce, hold: attempts.hold, handle }).pipe(
    Effect.ensuring(forgetUnstarted),
    Effect.onInterrupt(() =>
      Effect.flatMap(tally.summary(Option.some("interrupted")), (s) =>
        Effect.zipRight(
          Effect.logWarning(Tally.describeSummary(s)),
          options.onInterrupt === undefined ? Effect.void : options.onInterrupt(s)
        ))
    )
  )
  const done = yield* tally.summary(yield* stopper.reason)
  yield* Effect.logInfo(Tally.describeSummary(done))
  return done
}, Effect.scoped, TablesMissing.named)
