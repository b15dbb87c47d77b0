/**
 * The decision and the trend as tables, shared by the text and HTML renderers: one row per pair of
 * actions (the always-valid comparison, the fixed-sample one beside it, what is still needed), the
 * fixed-sample chi-square test in one line, and one row per week of the trend.
 */
import type { Group } from "./Data.ts"
import type { PairDecision } from "./DecisionData.ts"
import { formatCount, formatP, signedPoints } from "./DecisionWords.ts"

export interface Cell<A> {
  readonly header: string
  readonly align: "left" | "right"
  readonly cell: (row: A) => string
}

// The tables' format of a rate (Text.ts's `formatPercent`), repeated so that Text.ts can use this module.
const percent = (x: number) => `${(x * 100).toFixed(1)}%`

const interval = (i: { readonly low: number; readonly high: number } | null) =>
  i === null ? "-" : `${signedPoints(i.low)} .. ${signedPoints(i.high)}`

/** "how long until we know" in a few words: more messages and days, or why none. */
export const neededCell = (p: PairDecision): string => {
  const n = p.needed
  if (n === null) return p.outcome === "different" ? "decided" : "-"
  if (n.decidedNeeded === null || n.moreMessages === null) return "no number will do"
  if (n.decided >= n.decidedNeeded) return "enough decided"
  if (n.moreMessages === 0) return "enough sent: wait for the pending"
  return `${formatCount(n.moreMessages)} more, ${n.days === null ? "never at this pace" : `≈ ${formatCount(n.days)} days`}`
}

/** The pair table's columns, the last for the difference and power of the group's "how long until we know". */
export const pairColumns = (g: Group): ReadonlyArray<Cell<PairDecision>> => [
  { header: "actions", align: "left", cell: (p) => `${p.actions[1]} − ${p.actions[0]}` },
  { header: "difference", align: "right", cell: (p) => (p.difference === null ? "-" : `${signedPoints(p.difference)} pp`) },
  { header: "always-valid 95% interval", align: "right", cell: (p) => interval(p.alwaysValid?.interval ?? null) },
  { header: "always-valid p", align: "right", cell: (p) => (p.alwaysValid === null ? "-" : formatP(p.alwaysValid.pValue)) },
  { header: "fixed-sample 95% interval", align: "right", cell: (p) => interval(p.fixedSample?.interval ?? null) },
  { header: "fixed-sample p", align: "right", cell: (p) => (p.fixedSample === null ? "-" : formatP(p.fixedSample.pValue)) },
  { header: "design effect", align: "right", cell: (p) => (p.designEffect === null ? "-" : p.designEffect.toFixed(2)) },
  {
    header: `messages still needed (${Math.round(g.decision.detectable * 100)} pp, ${Math.round(g.decision.power * 100)}% power)`,
    align: "right",
    cell: neededCell
  }
]

/** The fixed-sample chi-square test in one line, labelled; null when there is nothing to compare. */
export const describeFixedSample = (g: Group): string | null => {
  const c = g.comparison
  if (c.outcome === "nothing-to-compare") return null
  const label = "Fixed-sample chi-square test, for reference (valid only when the report is read once, at a size fixed " +
    "in advance; each message counted as independent)"
  return c.test === null || c.outcome === "too-few"
    ? `${label}: too few decided messages (an expected count below 5).`
    : `${label}: chi-square = ${c.test.statistic.toFixed(2)}, df ${c.test.df}, ${formatP(c.test.pValue)}.`
}

export interface TrendRow {
  readonly week: string
  readonly cells: ReadonlyArray<{ readonly action: number; readonly text: string }>
}

/** The trend by week: each action's rate of the week's decided messages, "*" while some are pending. */
export const trendRows = (g: Group): ReadonlyArray<TrendRow> =>
  g.trend.weeks.map((week, i) => ({
    week,
    cells: g.trend.actions.map((a) => {
      const p = a.points[i]!
      return {
        action: a.action,
        text: p.sent === 0 ? "-" : `${p.rate === null ? "-" : percent(p.rate)} of ${p.reacted + p.none}${p.pending > 0 ? "*" : ""}`
      }
    })
  }))

/** An action's decided messages and their effective number when each client counts once. */
export const effectiveOf = (g: Group, action: number) => g.decision.actions.find((a) => a.action === action)
