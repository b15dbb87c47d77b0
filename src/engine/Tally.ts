/** A run's counts as it goes, and the summary it ends with. */
import { DateTime, Effect, Option, Ref } from "effect"
import type { Outcome } from "./Outcome.ts"

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

export const describeSummary = (s: RunSummary): string =>
  `${s.kind} at ${s.at}: selected ${s.selected}, sent ${s.sent}, failed ${s.failed}, in doubt ${s.inDoubt}, invalid ${s.invalid}` +
  (s.stopped === undefined ? "" : `; stopped early (${s.stopped})`)

type Counts = Omit<RunSummary, "kind" | "at" | "run" | "stopped">

export interface Tally {
  /** Candidates taken from the selector. */
  readonly selected: (n: number) => Effect.Effect<void>
  /** A prepared message left unsent because the run stopped: it counts as not selected. */
  readonly unselected: Effect.Effect<void>
  readonly invalid: Effect.Effect<void>
  readonly record: (outcome: Outcome) => Effect.Effect<void>
  readonly summary: (stopped: Option.Option<Stop>) => Effect.Effect<RunSummary>
}

export const make = (kind: string, at: DateTime.Utc, run: number): Effect.Effect<Tally> =>
  Effect.map(Ref.make<Counts>({ selected: 0, sent: 0, failed: 0, inDoubt: 0, invalid: 0, byAction: {} }), (counts) => {
    const bump = (key: "selected" | "failed" | "inDoubt" | "invalid", by = 1) =>
      Ref.update(counts, (c) => ({ ...c, [key]: c[key] + by }))
    return {
      selected: (n) => bump("selected", n),
      unselected: bump("selected", -1),
      invalid: bump("invalid"),
      record: (outcome) => {
        switch (outcome._tag) {
          case "Sent":
            return Ref.update(counts, (c) => ({
              ...c,
              sent: c.sent + 1,
              byAction: { ...c.byAction, [outcome.performedAction]: (c.byAction[outcome.performedAction] ?? 0) + 1 }
            }))
          case "Failed":
            return bump("failed")
          case "InDoubt":
            return bump("inDoubt")
          case "Skipped":
            return Effect.void
        }
      },
      summary: (stopped) =>
        Effect.map(Ref.get(counts), (c): RunSummary => ({
          kind,
          at: DateTime.formatIso(at),
          run,
          ...c,
          ...Option.match(stopped, { onNone: () => ({}), onSome: (reason) => ({ stopped: reason }) })
        }))
    }
  })
