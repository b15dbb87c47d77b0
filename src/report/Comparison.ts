/**
 * Whether the actions of one report group differ: Pearson's chi-square over their decided
 * notifications, and a verdict in plain words that names a winner only when the difference is
 * significant.
 */
import type { ActionFigures } from "./Figures.ts"
import { chiSquareIndependence } from "./Statistics.ts"

/** A difference between actions is reported as real below this p-value. */
export const SIGNIFICANCE = 0.05
/** Below this expected count in any cell the chi-square approximation is not trusted. */
export const MIN_EXPECTED = 5

export type ComparisonOutcome = "significant" | "not-significant" | "too-few" | "nothing-to-compare"

export interface Comparison {
  readonly outcome: ComparisonOutcome
  /** Pearson's chi-square test over the actions with decided notifications (df = k − 1). */
  readonly test: { readonly statistic: number; readonly df: number; readonly pValue: number } | null
  /** Plain words; names a winner only when the difference is significant at 5%. */
  readonly verdict: string
}

// The tables' format of a rate (`formatPercent`), repeated so that the comparison does not depend
// on the renderers.
const percent = (x: number) => `${(x * 100).toFixed(1)}%`
const formatP = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`)
const actionName = (a: ActionFigures) => `action ${a.action}`

/** Compares the actions of one group: Pearson's chi-square over those with decided notifications. */
export const compareActions = (actions: ReadonlyArray<ActionFigures>): Comparison => {
  const decided = actions.filter((a) => a.rate !== null)
  if (decided.length < 2) {
    return {
      outcome: "nothing-to-compare",
      test: null,
      verdict: actions.length < 2
        ? "One action only: nothing to compare."
        : "Fewer than two actions have decided notifications: nothing to compare yet."
    }
  }
  const rates = decided.map((a) => `${actionName(a)} ${percent(a.rate!)}`).join(", ")
  const result = chiSquareIndependence(decided.map((a) => [a.reacted, a.none]))
  if (result === undefined || result.minExpected < MIN_EXPECTED) {
    return {
      outcome: "too-few",
      test: result === undefined ? null : { statistic: result.statistic, df: result.df, pValue: result.pValue },
      verdict: `Too few decided notifications to compare the actions yet (${rates}): the test needs an expected ` +
        `count of at least ${MIN_EXPECTED} reacted and not reacted per action.`
    }
  }
  const test = { statistic: result.statistic, df: result.df, pValue: result.pValue }
  if (result.pValue >= SIGNIFICANCE) {
    return {
      outcome: "not-significant",
      test,
      verdict: `The data cannot tell yet whether the actions differ (${rates}; ${formatP(result.pValue)}).`
    }
  }
  const ranked = [...decided].sort((a, b) => b.rate! - a.rate! || a.action - b.action)
  const best = ranked[0]!
  const worst = ranked[ranked.length - 1]!
  return {
    outcome: "significant",
    test,
    verdict: `Action ${best.action} gets reactions more often than ` +
      `${actionName(worst)}: ${percent(best.rate!)} against ${percent(worst.rate!)} (${
        decided.length > 2 ? `the ${decided.length} actions differ, ` : ""
      }${formatP(result.pValue)}).`
  }
}
