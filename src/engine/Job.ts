/**
 * The engine: one run of one kind at the instant the Clock gives (C1).
 *
 * Candidates stream from the Selector in the kind's fixed order; invalid phones are counted and
 * skipped; rotation slots are taken in blocks in that order (C2); then, with bounded concurrency,
 * each candidate is planned, its attempt recorded and committed, and in one transaction its
 * actions and marks are written and the message sent (C10). A definite send failure rolls it all
 * back and forgets the attempt; an ambiguous one leaves the attempt in doubt, never re-sent.
 */
import { SqlClient } from "@effect/sql"
import { Cause, Chunk, DateTime, Effect, Exit, Option, Ref, Stream } from "effect"
import { ActionStrategy, type Candidate, type KindName, Selector } from "../kinds/Kind.ts"
import { Notifications } from "../store/Notifications.ts"
import { maskPhone, normalizePhone } from "../delivery/Phone.ts"
import { actionOfSlot, Rotation } from "./Rotation.ts"
import { Sender } from "../delivery/Sender.ts"

/** Messages in flight at once. */
export const CONCURRENCY = 8
/** Candidates whose rotation slots are taken in one statement. */
const SLOT_BLOCK = 256

export interface RunSummary {
  readonly kind: KindName
  readonly at: string
  readonly selected: number
  readonly sent: number
  readonly failed: number
  readonly inDoubt: number
  readonly invalid: number
  /** Sent messages per performed action. */
  readonly byAction: Readonly<Record<string, number>>
}

interface Ready {
  readonly candidate: Candidate
  /** Normalised. */
  readonly phone: string
}

interface Slotted extends Ready {
  readonly chosenAction: number
}

type Outcome =
  | { readonly _tag: "Sent"; readonly performedAction: number }
  | { readonly _tag: "Failed" }
  | { readonly _tag: "InDoubt" }
  | { readonly _tag: "Skipped" }

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!

const who = (c: Candidate) => `client ${c.clientId}${c.orderUid ? ` order ${c.orderUid}` : ""}`

/** Normalises phones; invalid ones are logged (masked) and counted, never sent. */
const validPhones = (onInvalid: Effect.Effect<void>) => <E, R>(candidates: Stream.Stream<Candidate, E, R>) =>
  candidates.pipe(
    Stream.mapEffect((candidate) =>
      Option.match(normalizePhone(candidate.phone), {
        onNone: () =>
          Effect.as(
            Effect.zipRight(
              Effect.logWarning(`not sent: invalid phone ${maskPhone(candidate.phone)} for ${who(candidate)}`),
              onInvalid
            ),
            Option.none<Ready>()
          ),
        onSome: (phone) => Effect.succeed(Option.some<Ready>({ candidate, phone }))
      })
    ),
    Stream.filterMap((ready) => ready)
  )

/** Gives each candidate its action, in stream order, one counter per action set. */
const withSlots = <E, R, E2, R2>(
  take: (actionSet: string, count: number) => Effect.Effect<number, E2, R2>,
  actionCount: (actionSet: string) => number
) =>
(ready: Stream.Stream<Ready, E, R>) =>
  ready.pipe(
    Stream.grouped(SLOT_BLOCK),
    Stream.mapEffect((block) =>
      Effect.gen(function*() {
        const counts = new Map<string, number>()
        for (const r of block) counts.set(r.candidate.actionSet, (counts.get(r.candidate.actionSet) ?? 0) + 1)
        const next = new Map<string, number>()
        for (const [actionSet, count] of counts) next.set(actionSet, yield* take(actionSet, count))
        return Chunk.map(block, (r): Slotted => {
          const slot = next.get(r.candidate.actionSet)!
          next.set(r.candidate.actionSet, slot + 1)
          return { ...r, chosenAction: actionOfSlot(slot, actionCount(r.candidate.actionSet)) }
        })
      })
    ),
    Stream.flattenChunks
  )

/** One candidate, start to end. Uninterruptible: a stop waits for the message in flight. */
const deliver = (kind: KindName, at: DateTime.Utc, item: Slotted) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const strategy = yield* ActionStrategy
    const notifications = yield* Notifications
    const sender = yield* Sender
    const { candidate, chosenAction, phone } = item

    const plan = yield* strategy.plan(candidate, chosenAction, at)
    const reserved = yield* notifications.reserve({
      kind,
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
      return { _tag: "Skipped" } as Outcome
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

    if (Exit.isSuccess(exit)) return { _tag: "Sent", performedAction: plan.performedAction } as Outcome

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
        return { _tag: "InDoubt" } as Outcome
      }
      yield* Effect.logWarning(`not sent to ${who(candidate)} (${maskPhone(phone)}): ${reason}; will retry next run`)
      return { _tag: "Failed" } as Outcome
    }
    // The Site may have delivered it (or did, and the commit failed): never send it again blindly.
    yield* Effect.logError(`in doubt for ${who(candidate)} (${maskPhone(phone)}): ${reason}; notification ${id} needs a look`)
    return { _tag: "InDoubt" } as Outcome
  }).pipe(
    Effect.catchAll((error) =>
      Effect.as(Effect.logWarning(`not sent to ${who(item.candidate)}: ${error.message}; will retry next run`), {
        _tag: "Failed"
      } as Outcome)
    ),
    Effect.uninterruptible
  )

/** Runs the kind whose Selector and ActionStrategy are provided, as of the Clock's now. */
export const run = Effect.gen(function*() {
  const selector = yield* Selector
  const strategy = yield* ActionStrategy
  const rotation = yield* Rotation
  const at = yield* DateTime.now
  const kind = selector.kind
  const tally = yield* Ref.make({ selected: 0, sent: 0, failed: 0, inDoubt: 0, invalid: 0, byAction: {} as Record<string, number> })
  const bump = (key: "selected" | "sent" | "failed" | "inDoubt" | "invalid") => Ref.update(tally, (t) => ({ ...t, [key]: t[key] + 1 }))

  yield* selector.candidates(at).pipe(
    Stream.tap(() => bump("selected")),
    validPhones(bump("invalid")),
    withSlots(rotation.take, strategy.actionCount),
    Stream.mapEffect((item) => deliver(kind, at, item), { concurrency: CONCURRENCY, unordered: true }),
    Stream.runForEach((outcome) => {
      switch (outcome._tag) {
        case "Sent":
          return Ref.update(tally, (t) => ({
            ...t,
            sent: t.sent + 1,
            byAction: { ...t.byAction, [outcome.performedAction]: (t.byAction[outcome.performedAction] ?? 0) + 1 }
          }))
        case "Failed":
          return bump("failed")
        case "InDoubt":
          return bump("inDoubt")
        case "Skipped":
          return Effect.void
      }
    })
  )
  const summary: RunSummary = { kind, at: DateTime.formatIso(at), ...(yield* Ref.get(tally)) }
  yield* Effect.logInfo(
    `${kind} at ${summary.at}: selected ${summary.selected}, sent ${summary.sent}, failed ${summary.failed}, in doubt ${summary.inDoubt}, invalid ${summary.invalid}`
  )
  return summary
}).pipe(Effect.withLogSpan("job"))

export interface PreviewLine {
  readonly clientId: number
  readonly orderUid: string | null
  /** Masked. */
  readonly phone: string
  readonly chosenAction: number
  readonly performedAction: number
  readonly text: string
}

/**
 * What a run at the Clock's now would send, without sending or writing anything: rotation slots
 * are read, not taken.
 */
export const preview = Effect.gen(function*() {
  const selector = yield* Selector
  const strategy = yield* ActionStrategy
  const rotation = yield* Rotation
  const at = yield* DateTime.now
  const counters = new Map<string, number>()
  const peekAndAdvance = (actionSet: string, count: number) =>
    Effect.map(
      counters.has(actionSet) ? Effect.succeed(counters.get(actionSet)!) : rotation.peek(actionSet),
      (first) => {
        counters.set(actionSet, first + count)
        return first
      }
    )
  return selector.candidates(at).pipe(
    validPhones(Effect.void),
    withSlots(peekAndAdvance, strategy.actionCount),
    Stream.mapEffect(({ candidate, chosenAction, phone }) =>
      Effect.map(strategy.plan(candidate, chosenAction, at), (plan): PreviewLine => ({
        clientId: candidate.clientId,
        orderUid: candidate.orderUid,
        phone: maskPhone(phone),
        chosenAction,
        performedAction: plan.performedAction,
        text: plan.text
      }))
    )
  )
})
