/**
 * The engine: one run of one kind at the instant the Clock gives (C1), as a pipeline of named
 * pieces. The run keeps to the sending hours (time/SendingHours): outside them it sends nothing.
 * It opens its session (`Attempts.open`: its token, held for as long as it lives) and releases the
 * attempts that runs now gone left before their POST. Its candidates then pass, a block at a time,
 * the stages before delivery (engine/Candidates: phones, refusals of this slot, rotation turns,
 * plans, attempts) into the senders (engine/Senders), each message one transaction
 * (engine/Message), as many in flight as the breaker's window allows (engine/Breaker). The stopper
 * (engine/Stopper) ends the taking of candidates when the breaker trips or the sending hours end;
 * an interruption does too. The tally (engine/Tally) counts it all into the run's summary. The
 * messages in flight always finish; a run whose database fails ends with `RunFailed`, which says
 * how many of its messages are left in doubt.
 */
import type { SqlError } from "@effect/sql"
import { Chunk, DateTime, Effect, Option, Schema, Stream } from "effect"
import { InFlight, postStartLanes } from "../delivery/InFlight.ts"
import { normalizePhone } from "../delivery/Phone.ts"
import type { Sender } from "../delivery/Sender.ts"
import type { Candidate, Kind } from "../kinds/Kind.ts"
import { latestSlot } from "../scheduling/Schedule.ts"
import { Attempts } from "../store/Attempts.ts"
import type { InvalidPhones } from "../store/InvalidPhones.ts"
import type { MessageConnection } from "../store/MessageConnection.ts"
import * as TablesMissing from "../store/TablesMissing.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import * as SendingHours from "../time/SendingHours.ts"
import * as Metrics from "../observability/Metrics.ts"
import * as Breaker from "./Breaker.ts"
import { actionCountOf, isPrepared, prepare, readyOf, reportInvalid, type Step, TURN_BLOCK, withActionsOf } from "./Candidates.ts"
import { deliverer } from "./Message.ts"
import type { Outcome } from "./Outcome.ts"
import { Rotation } from "./Rotation.ts"
import * as Senders from "./Senders.ts"
import * as Stopper from "./Stopper.ts"
import * as Tally from "./Tally.ts"

/** What a run needs besides its kind's own requirements: `ProntoNotify.layer` and a Sender provide them. */
export type RunRequirements = Attempts | Rotation | Sender | InvalidPhones | BusinessTimeZone

export interface RunOptions {
  /** No send starts at or after this instant (nor after the sending hours): the run stops taking candidates there. */
  readonly until?: DateTime.Utc | undefined
  /** The slot the run is for: a message the Site refused since then is not posted again. Default: the kind's latest slot. */
  readonly slot?: DateTime.Utc | undefined
  /** Told the summary when the run is interrupted, once the messages in flight have finished. */
  readonly onInterrupt?: ((summary: Tally.RunSummary) => Effect.Effect<void>) | undefined
  /** `resends`: only the messages settled as not delivered, none of the selector's candidates. Default `all`. */
  readonly candidates?: "all" | "resends" | undefined
}

/** The run's database failed it: what it did until then, and why it ended. */
export class RunFailed extends Schema.TaggedError<RunFailed>()("RunFailed", {
  reason: Schema.String,
  summary: Tally.RunSummary
}) {
  override get message() {
    const { inDoubt, kind, run } = this.summary
    return `${kind} run ${run} failed: ${this.reason}` + (inDoubt > 0
      ? `; ${inDoubt} of its messages are in doubt: settle them (pronto-notify in-doubt --run ${run})`
      : "")
  }
}

/** Forgets the attempts of a kind's runs that are gone before their POST: their messages go out now. */
const releaseAbandoned = (kind: string) =>
  Effect.flatMap(Attempts, (attempts) => attempts.releaseAbandoned(kind)).pipe(
    Effect.tap((released) =>
      released > 0
        ? Effect.zipRight(
          Metrics.message(kind, null, "released", released),
          Effect.logInfo(`${kind}: released ${released} attempts whose POST never started (their run is gone); sending them now`)
        )
        : Effect.void
    )
  )

/** The candidates of a block the Site has not refused since `slot`; the others are counted as refused. */
const notRefusedSince = (kind: string, slot: DateTime.Utc, refusedEarlier: (n: number) => Effect.Effect<void>) => (block: Chunk.Chunk<Candidate>) =>
  Effect.gen(function*() {
    const attempts = yield* Attempts
    const refused = yield* attempts.refusedSince(kind, Chunk.toReadonlyArray(Chunk.map(block, (c) => c.trigger)), slot)
    if (refused.size === 0) return block
    const fresh = Chunk.filter(block, (c) => !refused.has(c.trigger))
    yield* refusedEarlier(block.length - fresh.length)
    yield* Effect.logInfo(`${kind}: left out ${block.length - fresh.length} the Site refused earlier in this slot; the next slot tries them`)
    return fresh
  })

/** A run's counts on its span: numbers only, never a phone or a text. */
const spanAttributesOf = (s: Tally.RunSummary): Record<string, unknown> => ({
  selected: s.selected,
  sent: s.sent,
  failed: s.failed,
  refused: s.refused,
  inDoubt: s.inDoubt,
  invalid: s.invalid,
  ...(s.stopped === undefined ? {} : { stopped: s.stopped })
})

/** Runs a kind as of the Clock's now. */
export const run = Effect.fn("pronto-notify/run")(function*<R>(kind: Kind<string, unknown, R>, options: RunOptions = {}) {
  const at = yield* DateTime.now
  yield* Effect.annotateCurrentSpan({ kind: kind.name, at: DateTime.formatIso(at) })
  const { zone } = yield* BusinessTimeZone
  const attempts = yield* Attempts
  const rotation = yield* Rotation
  const inFlight = yield* InFlight
  const session = yield* attempts.open(postStartLanes(inFlight))
  const tally = yield* Tally.make(kind.name, at, session.token)
  // Every log line of the run names its kind and run (a scheduled run's also its job and slot).
  yield* Effect.annotateLogsScoped({ kind: kind.name, run: session.token })
  yield* Effect.annotateCurrentSpan("run", session.token)
  const countInvalid = Effect.zipRight(tally.invalid, Metrics.message(kind.name, null, "invalid_phone"))
  // Left out of the slot because the Site refused them earlier in it: refused, in the summary and the counters.
  const refusedEarlier = (n: number) => Effect.zipRight(tally.refusedEarlier(n), Metrics.message(kind.name, null, "refused", n))

  if (!SendingHours.within(at, zone)) {
    const summary = yield* tally.summary(Option.some("sending-hours"))
    yield* Effect.logWarning(`${kind.name}: outside the sending hours (${SendingHours.WORDS}): nothing sent`)
    return summary
  }
  const hoursEnd = SendingHours.of(at, zone).end
  const until = options.until === undefined ? hoursEnd : DateTime.min(options.until, hoursEnd)
  const slot = options.slot ?? latestSlot(kind.schedule, at, zone)

  const deliver = yield* deliverer(kind, session)
  const breaker = yield* Breaker.make(kind.name, inFlight)
  const stopper = yield* Stopper.make(kind.name, breaker, until)

  // Room in the breaker's window is waited for before the message's step; the step itself, its
  // delivery and its count, is uninterruptible: a stop waits for it, so the summary of an
  // interrupted run counts every message that went out. A prepared message left when the run
  // stops is not sent; its attempt is forgotten when the run ends.
  const handle = (step: Step, conn: MessageConnection, moreWaiting: Effect.Effect<boolean>) =>
    !isPrepared(step) ? Effect.as(Effect.zipRight(tally.record(step), Metrics.message(kind.name, null, Metrics.outcomeOf(step))), true) : Effect.zipRight(
      breaker.admit,
      Effect.uninterruptible(Effect.flatMap(stopper.stopping, (stopped) =>
        stopped
          ? Effect.as(Effect.zipRight(breaker.withdraw, tally.unselected), true)
          : Effect.flatMap(deliver(step, conn, moreWaiting), (outcome: Outcome) =>
            Effect.as(
              Effect.all([
                breaker.record(outcome),
                tally.record(outcome),
                Metrics.message(
                  kind.name,
                  outcome._tag === "Sent" ? outcome.performedAction : step.chosenAction,
                  Metrics.outcomeOf(outcome)
                )
              ]),
              outcome._tag === "Sent"
            ))))
    )

  // Messages settled as not delivered go first, as they were planned: their action, their text.
  const resends = (offer: (steps: Iterable<Step>) => Effect.Effect<void>) =>
    Effect.gen(function*() {
      const claimed = yield* session.claimResends(kind.name)
      if (claimed.length === 0) return
      const refused = yield* attempts.refusedSince(kind.name, claimed.map((r) => r.triggerKey), slot)
      const fresh = claimed.filter((r) => !refused.has(r.triggerKey))
      yield* refusedEarlier(claimed.length - fresh.length)
      yield* tally.selected(fresh.length)
      yield* Effect.logInfo(`${kind.name}: sending again ${fresh.length} settled as not delivered`)
      const steps: Array<Step> = []
      for (const r of fresh) {
        const candidate = { clientId: r.clientId, phone: r.phone, orderUid: r.orderUid, actionSet: r.actionSet, trigger: r.triggerKey }
        const phone = normalizePhone(r.phone)
        if (Option.isNone(phone)) yield* Effect.zipRight(countInvalid, reportInvalid(kind.name)(candidate))
        else {
          steps.push({
            candidate,
            phone: phone.value,
            chosenAction: r.chosenAction,
            plan: { performedAction: r.performedAction, text: r.text },
            id: r.id
          })
        }
      }
      yield* offer(steps)
    })

  const takeActions = withActionsOf(rotation.take, actionCountOf(kind))
  const produce = (offer: (steps: Iterable<Step>) => Effect.Effect<void>) =>
    Effect.zipRight(resends(offer), options.candidates === "resends" ? Effect.void : fromSelector(offer))
  const fromSelector = (offer: (steps: Iterable<Step>) => Effect.Effect<void>) =>
    kind.select(at).pipe(
      Stream.grouped(TURN_BLOCK),
      // Checked before a block's turns are taken, so none is spent on candidates left for later.
      Stream.mapEffect((block) => Effect.map(stopper.stopping, (stopped) => (stopped ? Option.none() : Option.some(block)))),
      Stream.takeWhile(Option.isSome),
      Stream.runForEach(({ value: block }) =>
        Effect.gen(function*() {
          const fresh = yield* notRefusedSince(kind.name, slot, refusedEarlier)(block)
          yield* tally.selected(fresh.length)
          const ready = yield* readyOf(fresh, (candidate) => Effect.zipRight(countInvalid, reportInvalid(kind.name)(candidate)))
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

  const senders = Senders.run({ senders: inFlight, capacity: TURN_BLOCK, produce, hold: attempts.hold, handle })
  yield* Effect.zipRight(releaseAbandoned(kind.name), senders).pipe(
    Effect.ensuring(forgetUnstarted),
    Effect.onInterrupt(() =>
      Effect.flatMap(tally.summary(Option.some("interrupted")), (s) =>
        Effect.zipRight(
          Effect.logWarning(Tally.describeSummary(s)),
          options.onInterrupt === undefined ? Effect.void : options.onInterrupt(s)
        ))
    ),
    // A missing table is named as such; any other failure of the database fails the run, with its summary.
    TablesMissing.named,
    Effect.catchTag("SqlError", (error: SqlError.SqlError) =>
      Effect.flatMap(Effect.flatMap(stopper.reason, tally.summary), (summary) => new RunFailed({ reason: error.message, summary })))
  )
  const done = yield* tally.summary(yield* stopper.reason)
  yield* Effect.logInfo(Tally.describeSummary(done))
  yield* Effect.annotateCurrentSpan(spanAttributesOf(done))
  return done
}, Effect.scoped, TablesMissing.named, (effect, kind) => Metrics.trackRun(kind.name)(effect))
