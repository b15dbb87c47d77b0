/** A run's counts as it goes, and the summary it ends with. */
import { DateTime, Effect, Option, Ref, Schema } from "effect"
import type { Outcome } from "./Outcome.ts"

/** Why a run stopped before its last candidate. */
export type Stop = "circuit-breaker" | "sending-hours" | "interrupted"

const Count = Schema.Int

/** What a run did; as JSON in `job_runs.summary` and on the command line's `--json`. */
export const RunSummary = Schema.Struct({
  kind: Schema.String,
  at: Schema.String,
  /** The run's token: its attempts carry it (see the messages in doubt, settle by run). */
  run: Count,
  selected: Count,
  sent: Count,
  /** Certainly not delivered; a retry of the slot or the next run sends them. */
  failed: Count,
  /** Refused by the Site in this slot (by this run, or by an earlier try left out of it); not posted again before the kind's next slot. */
  refused: Count,
  inDoubt: Count,
  invalid: Count,
  /** Sent messages per performed action. */
  byAction: Schema.Record({ key: Schema.String, value: Count }),
  /** Present when the run stopped before its last candidate; the rest is left for a later run. */
  stopped: Schema.optionalWith(Schema.Literal("circuit-breaker", "sending-hours", "interrupted"), { exact: true })
})
export type RunSummary = typeof RunSummary.Type

export const describeSummary = (s: RunSummary): string =>
  `${s.kind} at ${s.at}: selected ${s.selected}, sent ${s.sent}, failed ${s.failed}, refused ${s.refused}, in doubt ${s.inDoubt}, invalid ${s.invalid}` +
  (s.stopped === undefined ? "" : `; stopped early (${s.stopped})`)

type Counts = Omit<RunSummary, "kind" | "at" | "run" | "stopped">

export interface Tally {
  /** Candidates taken from the selector. */
  readonly selected: (n: number) => Effect.Effect<void>
  /** A prepared message left unsent because the run stopped: it counts as not selected. */
  readonly unselected: Effect.Effect<void>
  readonly invalid: Effect.Effect<void>
  /** Candidates the Site refused earlier in the slot, left out: counted with the refused. */
  readonly refusedEarlier: (n: number) => Effect.Effect<void>
  readonly record: (outcome: Outcome) => Effect.Effect<void>
  readonly summary: (stopped: Option.Option<Stop>) => Effect.Effect<RunSummary>
}

export const make = (kind: string, at: DateTime.Utc, run: number): Effect.Effect<Tally> =>
  Effect.map(Ref.make<Counts>({ selected: 0, sent: 0, failed: 0, refused: 0, inDoubt: 0, invalid: 0, byAction: {} }), (counts) => {
    const bump = (key: "selected" | "failed" | "refused" | "inDoubt" | "invalid", by = 1) =>
      Ref.update(counts, (c) => ({ ...c, [key]: c[key] + by }))
    return {
      selected: (n) => bump("selected", n),
      unselected: bump("selected", -1),
      invalid: bump("invalid"),
      refusedEarlier: (n) => bump("refused", n),
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
          case "Refused":
            return bump("refused")
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
