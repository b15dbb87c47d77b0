/**
 * The report as data: what `compute` (Report.ts) returns and the renderers (Text.ts, Json.ts,
 * Html.ts) read. Kept apart from `compute` so that the renderers do not depend on the queries.
 */
import type { DateTime } from "effect"
import type { Baseline } from "./Baseline.ts"
import type { Comparison } from "./Comparison.ts"
import type { Decision } from "./DecisionData.ts"
import type { ActionFigures } from "./Figures.ts"
import type { Trend } from "./Trend.ts"

/** A band of a kind (invite's A and B): an action set of its own, measured apart. */
export type Band = string

/** One action set of a kind (C2): its figures, comparisons, trend and baseline. */
export interface Group {
  readonly kind: string
  /** The action set's band; null for a kind with a single action set. */
  readonly band: Band | null
  readonly title: string
  readonly actions: ReadonlyArray<ActionFigures>
  /** The fixed-sample chi-square test: valid only when read once, at a size fixed in advance. */
  readonly comparison: Comparison
  /** The always-valid comparison of the actions, each client counted once, and how long until it can tell. */
  readonly decision: Decision
  /** Each action's rate per week of sending. */
  readonly trend: Trend
  /** For kinds with a baseline method (invite, birthday). */
  readonly baseline: Baseline | null
  readonly note: string | null
}

/** The whole report over one period. */
export interface ReportData {
  readonly generatedAt: DateTime.Utc
  readonly timeZone: string
  /** The period of sent_at, [from, to); null is open. */
  readonly from: DateTime.Utc | null
  readonly to: DateTime.Utc | null
  readonly groups: ReadonlyArray<Group>
  /** Messages left in doubt in the period, per kind: not counted above (nobody knows if they arrived). */
  readonly inDoubt: Readonly<Record<string, number>>
  readonly observationalNote: string
}
