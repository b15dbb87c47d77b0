/**
 * The decision between the actions of one report group as data: what `decide` (Decision.ts)
 * returns and the renderers read.
 */
import type { Clusters, Interval } from "./Statistics.ts"

export type DecisionOutcome = "different" | "undecided" | "too-few" | "nothing-to-compare"

/** One action's counts as the decision reads them. */
export interface DecisionAction {
  readonly action: number
  readonly reacted: number
  readonly none: number
  readonly pending: number
  /** Its decided messages' sums over the clients (see `clusteredWilson`); null counts each message as its own client. */
  readonly clusters: Clusters | null
}

export interface EffectiveCount {
  readonly action: number
  readonly decided: number
  /** The decided messages' worth when each client counts once (`effectiveSize`). */
  readonly effectiveDecided: number
  /** Messages sent a day over the last four weeks (`PACE_DAYS`). */
  readonly sentPerDay: number
}

/** How long until a pair not yet told apart can be. */
export interface Needed {
  /** Decided messages of the two actions the always-valid test needs; null when no number will do. */
  readonly decidedNeeded: number | null
  /** Decided and pending messages of the two actions now. */
  readonly decided: number
  readonly pending: number
  /** Messages still to send beyond the decided and the pending ones; null when no number will do. */
  readonly moreMessages: number | null
  /** Messages of the two actions sent a day over the last four weeks. */
  readonly perDay: number
  /** Days of sending at that pace; null when none were sent in the four weeks and more are needed. */
  readonly days: number | null
  /** What a test planned in advance and read only once would need instead (the textbook formula). */
  readonly fixedSampleDecidedNeeded: number
}

export interface PairDecision {
  /** [a, b]: the difference is b's rate minus a's. */
  readonly actions: readonly [number, number]
  readonly outcome: "different" | "undecided" | "too-few"
  readonly difference: number | null
  /**
   * The always-valid p-value (already multiplied by the group's number of pairs: compare it with
   * 5%) and the 95% confidence sequence of the difference (for all pairs together).
   */
  readonly alwaysValid: { readonly pValue: number; readonly interval: Interval } | null
  /** Fixed-sample, for reference: the 95% interval and p-value of the difference, each client counted once. */
  readonly fixedSample: { readonly pValue: number; readonly interval: Interval } | null
  /** The variance used over the one that counts every message as independent (1 or more). */
  readonly designEffect: number | null
  /** For a pair not told apart: how long until it can be. */
  readonly needed: Needed | null
}

export interface Decision {
  /** The method in words. */
  readonly method: string
  readonly outcome: DecisionOutcome
  /** Plain words; names a winner only where the always-valid test told the actions apart. */
  readonly verdict: string
  /** The difference (in proportion) and the power the `needed` figures are for. */
  readonly detectable: number
  readonly power: number
  /** The reaction window in days: how long after the last message is sent it may still be pending. */
  readonly windowDays: number
  readonly actions: ReadonlyArray<EffectiveCount>
  readonly pairs: ReadonlyArray<PairDecision>
}
