/**
 * The engine: one run of one kind at the instant the Clock gives (C1). The run takes a session of
 * its own (`RunSession`: its token, held for as long as it lives), releases the attempts that runs
 * now gone left before their POST, then streams candidates from the kind's Selector in its fixed
 * order; invalid phones are counted and skipped; each candidate gets its action from the Rotation
 * (C2); then, with bounded concurrency, each is delivered (`Delivery`). The run stops taking
 * candidates when the Site's answers stay ambiguous (a circuit breaker), at the end of its sending
 * hours (`until`), or when it is interrupted; the messages in flight always finish.
 */
import { DateTime, Effect, Exit, Fiber, Option, Queue, Ref, Stream } from "effect"
import { DEFAULT_IN_FLIGHT, InFlight, postStartLanes } from "../delivery/InFlight.ts"
import { type AnyKind, Selector } from "../kinds/Kind.ts"
import { holdingBonuses, Notifications } from "../store/Notifications.ts"
import { type HeldConnection, hold } from "../store/Transactions.ts"
import { readyOf, reportInvalid, TURN_BLOCK, withActionsOf } from "./Candidates.ts"
import { isPrepared, makeDeliver, Outcome, prepare, type Step } from "./Delivery.ts"
import { Rotation } from "./Rotation.ts"
import * as RunSession from "./RunSession.ts"

/** Messages in flight at once unless the deployment sets it (`InFlight`). */
export const CONCURRENCY = DEFAULT_IN_FLIGHT

/**
 * After this many ambiguous outcomes in a row (no answer, a gateway error, a dropped connection)
 * the Site is taken to be in trouble: the run stops taking candidates and leaves them for later.
 */
export const BREAKER_THRESHOLD = 5

/** Why a run stopped before its last candidate. */
export type Stop = "circuit-breaker" | "sending-hours" | "interrupted"

export interface RunSummary {
  readonly kind: string
  readonly at: string
  /** The run's token: its attempts carry it (see the messages in doubt, settle by run). */
  readonly run: number
  readonly selected: number
  readonly sent: number
  readonly failed: number
  readonly inDoubt: number
  readonly invalid: number
  /** Sent messages per performed action. */
  readonly byAction: Readonly<Record<string, number>>
  /** Present when the run stopped before its last candidate; the rest is left for a later run. */
  readonly stopped?: Stop
}

export interface RunOptions {
  /** No send starts at or after this instant: the run stops taking candidates there. */
  readonly until?: DateTime.Utc | undefined
  /** Told the summary when the run is interrupted, once the messages in flight have finished. */
  readonly onInterrupt?: ((summary: RunSummary) => Effect.Effect<void>) | undefined
}

/** How many actions rotate in each of the kind's action sets; another set is a bug in its selector. */
export const actionCountOf = (kind: AnyKind) => (actionSet: string): Effect.Effect<number> => {
  const set = kind.actionSets.find((s) => s.name === actionSet)
  return set === undefined
    ? Effect.dieMessage(`${kind.name}: its selector yielded the unknown action set "${actionSet}"`)
    : Effect.succeed(set.actions)
}

type Tally = Omit<RunSummary, "kind" | "at" | "run" | "stopped">
type Counter = "selected" | "failed" | "inDoubt" | "invalid"

export const describeSummary = (s: RunSummary): string =>
  `${s.kind} at ${s.at}: selected ${s.selected}, sent ${s.sent}, failed ${s.failed}, in doubt ${s.inDoubt}, invalid ${s.invalid}` +
  (s.stopped === undefined ? "" : `; stopped early (${s.stopped})`)

/** Runs a kind as of the Clock's now. */
export const run = Effect.fn("pronto-notify/run")(function*(kind: AnyKind, options: RunOptions = {}) {
  const at = yield* DateTime.now
  yield* Effect.annotateCurrentSpan({ kind: kind.name, at: DateTime.formatIso(at) })
  const selector = yield* Selector
  const rotation = yield* Rotation
  const notifications = yield* Notifications
  const inFlight = yield* InFlight
  const session = yield* RunSession.acquireWith(postStartLanes(inFlight))
  const deliver = yield* makeDeliver(kind.name, session)

  const released = yield* notifications.releaseAbandoned(kind.name)
  if (released > 0) {
    yield* Effect.logInfo(`${kind.name}: released ${released} attempts whose POST never started (their run is gone); sending them now`)
  }

  const tally = yield* Ref.make<Tally>({ selected: 0, sent: 0, failed: 0, inDoubt: 0, invalid: 0, byAction: {} })
  const bump = (key: Counter, by = 1) => Ref.update(tally, (t) => ({ ...t, [key]: t[key] + by }))
  const stop = yield* Ref.make(Option.none<Stop>())
  const ambiguousInARow = yield* Ref.make(0)
  const summary = (stopped: Option.Option<Stop>) =>
    Effect.map(Ref.get(tally), (t): RunSummary => ({
      kind: kind.name,
      at: DateTime.formatIso(at),
      run: session.token,
      ...t,
      ...Option.match(stopped, { onNone: () => ({}), onSome: (reason) => ({ stopped: reason }) })
    }))

  /** Whether to stop taking candidates: the breaker tripped, or the sending hours are over. */
  const stopping = Effect.gen(function*() {
    if (Option.isSome(yield* Ref.get(stop))) return true
    if (options.until === undefined || DateTime.lessThan(yield* DateTime.now, options.until)) return false
    yield* Ref.set(stop, Option.some<Stop>("sending-hours"))
    yield* Effect.logWarning(`${kind.name}: the sending hours are over; the rest is left for a later run`)
    return true
  })

  const record = Outcome.$match({
    Sent: ({ performedAction }) =>
      Effect.zipRight(
        Ref.set(ambiguousInARow, 0),
        Ref.update(tally, (t) => ({
          ...t,
          sent: t.sent + 1,
          byAction: { ...t.byAction, [performedAction]: (t.byAction[performedAction] ?? 0) + 1 }
        }))
      ),
    Failed: () => Effect.zipRight(Ref.set(ambiguousInARow, 0), bump("failed")),
    InDoubt: () =>
      Effect.gen(function*() {
        yield* bump("inDoubt")
        const inARow = yield* Ref.updateAndGet(ambiguousInARow, (n) => n + 1)
        if (inARow === BREAKER_THRESHOLD && Option.isNone(yield* Ref.getAndSet(stop, Option.some<Stop>("circuit-breaker")))) {
          yield* Effect.logError(
            `${kind.name}: ${BREAKER_THRESHOLD} ambiguous outcomes in a row: the Site may be down; stopped taking candidates, ` +
              "the rest is left for a later run"
          )
        }
      }),
    Skipped: () => Effect.void
  })

  // Prepared messages wait here for a sender; `none` tells a sender that there are no more.
  const steps = yield* Queue.bounded<Option.Option<Step>>(TURN_BLOCK)
  /** Whether a sender's commit should begin the next transaction: a message is waiting. */
  const moreWaiting = Effect.map(Queue.size(steps), (n) => n > 0)

  // A message's delivery and its count are one uninterruptible step: a stop waits for both, so
  // the summary of an interrupted run counts every message that went out. A prepared message left
  // when the run stops is not sent; its attempt is forgotten when the run ends.
  const handle = (step: Step, held: HeldConnection): Effect.Effect<Outcome | undefined> =>
    Effect.uninterruptible(
      isPrepared(step)
        ? Effect.flatMap(stopping, (stopped) =>
          stopped
            ? Effect.as(bump("selected", -1), undefined)
            : Effect.flatMap(deliver(step, held, moreWaiting), (outcome) => Effect.as(record(outcome), outcome)))
        : Effect.as(record(step), undefined)
    )

  const releaseUnstarted = notifications.releaseUnstarted(kind.name, session.token, session.execute).pipe(
    Effect.catchAll((error) =>
      Effect.logWarning(
        `${kind.name}: could not forget the attempts this run prepared and did not send (${error.message}); a later run releases them`
      )
    )
  )

  const takeActions = withActionsOf(rotation.take, actionCountOf(kind))
  const produce = selector.candidates(at).pipe(
    Stream.grouped(TURN_BLOCK),
    // Checked before a block's turns are taken, so none is spent on candidates left for later.
    Stream.mapEffect((block) => Effect.map(stopping, (stopped) => (stopped ? Option.none() : Option.some(block)))),
    Stream.takeWhile(Option.isSome),
    // The next block is prepared while this one is sent (the queue holds one block).
    Stream.runForEach(({ value: block }) =>
      Effect.gen(function*() {
        yield* bump("selected", block.length)
        const ready = yield* readyOf(block, (candidate) => Effect.zipRight(bump("invalid"), reportInvalid(kind.name)(candidate)))
        const prepared = yield* prepare(kind.name, yield* takeActions(ready), session, inFlight)
        yield* Queue.offerAll(steps, prepared.map(Option.some))
      })
    ),
    Effect.onExit((exit) =>
      Exit.isInterrupted(exit) ? Effect.void : Queue.offerAll(steps, Array.from({ length: inFlight }, () => Option.none()))
    )
  )
  // A fixed set of senders, each taking the next prepared message: the messages in flight. A
  // sender keeps its connection for the next message while one is waiting (its commit begins the
  // next transaction), and gives it back when none is (the candidates' pages may need it) or after
  // a message that did not go out (the connection may be what failed).
  const sendAll = Effect.gen(function*() {
    let next = yield* Queue.take(steps)
    while (Option.isSome(next)) {
      next = yield* Effect.scoped(Effect.gen(function*() {
        const held = yield* hold
        for (let step = next; Option.isSome(step);) {
          const outcome = yield* handle(step.value, held)
          const waiting = yield* Queue.poll(steps)
          if (Option.isNone(waiting) || (outcome !== undefined && outcome._tag !== "Sent")) return waiting
          step = waiting.value
        }
        // The marker that there are no more was taken: it ends this sender.
        return Option.some(Option.none<Step>())
      })).pipe(Effect.flatMap((waiting) => Option.match(waiting, { onNone: () => Queue.take(steps), onSome: Effect.succeed })))
    }
  })

  yield* Effect.gen(function*() {
    const producer = yield* Effect.fork(produce)
    // One map of granted bonuses for the whole run, keyed by notification (store/Notifications).
    yield* holdingBonuses(Effect.all(Array.from({ length: inFlight }, () => sendAll), { concurrency: "unbounded", discard: true }))
    yield* Fiber.join(producer)
  }).pipe(
    Effect.ensuring(releaseUnstarted),
    Effect.onInterrupt(() =>
      Effect.flatMap(summary(Option.some("interrupted")), (s) =>
        Effect.zipRight(
          Effect.logWarning(describeSummary(s)),
          options.onInterrupt === undefined ? Effect.void : options.onInterrupt(s)
        ))
    )
  )
  const done = yield* summary(yield* Ref.get(stop))
  yield* Effect.logInfo(describeSummary(done))
  return done
}, (effect, kind) => Effect.provide(Effect.scoped(effect), kind.layer))
