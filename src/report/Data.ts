/**
 * The report as data: what `compute` (Report.ts) returns and the renderers (Text.ts, Json.ts,
 * Html.ts) read. Kept apart from `compute` so that the renderers do not depend on the queries.
 */
import type { DateTime } from "effect"
import type { KindName } from "../kinds/Kind.ts"
import type { Baseline } from "./Baselines.ts"
import type { Comparison } from "./Comparison.ts"
import type { ActionFigures, Band } from "./Figures.ts"

/** One action set of a kind (C2), or one band of the invite: its figures, comparison and baseline. */
export interface Group {
  readonly kind: KindName
  readonly band: Band | null
  readonly title: string
  readonly actions: ReadonlyArray<ActionFigures>
  readonly comparison: Comparison
  /** invite and birthday only. */
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
