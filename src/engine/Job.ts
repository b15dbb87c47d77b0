/**
 * The engine: one run of one kind at the instant the Clock gives (C1). Candidates stream from the
 * kind's Selector in its fixed order; invalid phones are counted and skipped; each candidate gets
 * its action from the Rotation (C2); then, with bounded concurrency, each is delivered
 * (`Delivery`): planned, its attempt committed, its actions and send in one transaction (C10).
 */
import { DateTime, Effect, Ref, Stream } from "effect"
import { type AnyKind, Selector } from "../kinds/Kind.ts"
import { validPhones, withActions } from "./Candidates.ts"
import { deliver, Outcome } from "./Delivery.ts"
import { Rotation } from "./Rotation.ts"

/** Messages in flight at once. */
export const CONCURRENCY = 8

export interface RunSummary {
  readonly kind: string
  readonly at: string
  readonly selected: number
  readonly sent: number
  readonly failed: number
  readonly inDoubt: number
  readonly invalid: number
  /** Sent messages per performed action. */
  readonly byAction: Readonly<Record<string, number>>
}

type Counter = "selected" | "failed" | "inDoubt" | "invalid"

/** How many actions rotate in each of the kind's action sets; another set is a bug in its selector. */
export const actionCountOf = (kind: AnyKind) => (actionSet: string): Effect.Effect<number> => {
  const set = kind.actionSets.find((s) => s.name === actionSet)
  return set === undefined
    ? Effect.dieMessage(`${kind.name}: its selector yielded the unknown action set "${actionSet}"`)
    : Effect.succeed(set.actions)
}

/** Runs a kind as of the Clock's now. */
export const run = Effect.fn("pronto-notify/run")(function*(kind: AnyKind) {
  const at = yield* DateTime.now
  yield* Effect.annotateCurrentSpan({ kind: kind.name, at: DateTime.formatIso(at) })
  const selector = yield* Selector
  const rotation = yield* Rotation
  const tally = yield* Ref.make({ selected: 0, sent: 0, failed: 0, inDoubt: 0, invalid: 0, byAction: {} as Record<string, number> })
  const bump = (key: Counter) => Ref.update(tally, (t) => ({ ...t, [key]: t[key] + 1 }))

  yield* selector.candidates(at).pipe(
    Stream.tap(() => bump("selected")),
    validPhones(bump("invalid")),
    withActions(rotation.take, actionCountOf(kind)),
    Stream.mapEffect((item) => deliver(kind.name, at, item), { concurrency: CONCURRENCY, unordered: true }),
    Stream.runForEach(Outcome.$match({
      Sent: ({ performedAction }) =>
        Ref.update(tally, (t) => ({
          ...t,
          sent: t.sent + 1,
          byAction: { ...t.byAction, [performedAction]: (t.byAction[performedAction] ?? 0) + 1 }
        })),
      Failed: () => bump("failed"),
      InDoubt: () => bump("inDoubt"),
      Skipped: () => Effect.void
    }))
  )
  const summary: RunSummary = { kind: kind.name, at: DateTime.formatIso(at), ...(yield* Ref.get(tally)) }
  yield* Effect.logInfo(
    `${kind.name} at ${summary.at}: selected ${summary.selected}, sent ${summary.sent}, failed ${summary.failed}, in doubt ${summary.inDoubt}, invalid ${summary.invalid}`
  )
  return summary
}, (effect, kind) => Effect.provide(effect, kind.layer))
