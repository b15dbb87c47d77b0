/**
 * Whether a marketer can decide between the actions of one report group, however often the report
 * is read: each pair of actions compared by the always-valid test (Sequential.ts) on the
 * client-clustered variance of their difference (ClusteredVariance.ts), at 5% for all pairs
 * together (Bonferroni); the fixed-sample interval beside it, with each client counted once; each
 * action's effective number of decided messages; and for a pair not yet told apart, how many more
 * messages it needs to tell `DETECTABLE` with `POWER`, and how many days that is at the last four
 * weeks' pace (SampleSize.ts). A pure function of counts, so that the calibration can read it every
 * simulated day.
 */
import { differenceVariance, effectiveSize } from "./ClusteredVariance.ts"
import type { Decision, DecisionAction, DecisionOutcome, EffectiveCount, Needed, PairDecision } from "./DecisionData.ts"
import { alwaysValidPValue, confidenceSequence, MIXTURE_SD } from "./Sequential.ts"
import { fixedSampleSize, sequentialSampleSize } from "./SampleSize.ts"
import { verdictOf } from "./DecisionWords.ts"
import { chiSquarePValue, Z_95 } from "./Statistics.ts"

/** The chance, for all of a group's pairs together, of ever declaring a difference that does not exist. */
export const ALPHA = 0.05
/** The difference the "how long until we know" figures are for: 3 percentage points. */
export const DETECTABLE = 0.03
export const POWER = 0.8
/** The pace is of the messages sent in this many days before the report's end. */
export const PACE_DAYS = 28
/** Below this expected count of reacted or not reacted per action, a pair is not tested (the normal approximation). */
export const MIN_EXPECTED = 5

const methodOf = (pairs: number) =>
  "Always-valid test: the mixture sequential probability ratio test (Johari, Pekelis and Walsh, 2017) of each pair " +
  "of actions, on the variance of their difference with each client counted once per action, mixing over " +
  `differences of about ${MIXTURE_SD * 100} percentage points; ${
    pairs > 1 ? `${pairs} pairs, each at ${ALPHA * 100}%/${pairs}, so that together they declare` : "it declares"
  } a difference that does not exist at most ${ALPHA * 100}% of the time, however often the report is read.`

/** The decision for one group: its actions' counts and client sums, and its messages of the last four weeks. */
export const decide = (input: {
  readonly actions: ReadonlyArray<DecisionAction>
  readonly recent: ReadonlyArray<{ readonly action: number; readonly sent: number }>
  /** The reaction window, in days (C7). */
  readonly windowDays: number
}): Decision => {
  const perDay = (action: number) => (input.recent.find((r) => r.action === action)?.sent ?? 0) / PACE_DAYS
  const arm = (a: DecisionAction) => ({ reacted: a.reacted, decided: a.reacted + a.none, clusters: a.clusters })
  const actions = input.actions.map((a): EffectiveCount => ({
    action: a.action,
    decided: a.reacted + a.none,
    effectiveDecided: effectiveSize(arm(a)),
    sentPerDay: perDay(a.action)
  }))
  const pairCount = (input.actions.length * (input.actions.length - 1)) / 2
  const alpha = ALPHA / Math.max(1, pairCount)

  const pairs = input.actions.flatMap((a, i) =>
    input.actions.slice(i + 1).map((b): PairDecision => {
      const [x, y] = [arm(a), arm(b)]
      const variance = differenceVariance(x, y)
      const decided = x.decided + y.decided
      const pooled = decided > 0 ? (x.reacted + y.reacted) / decided : null
      const minExpected = pooled === null ? 0 : Math.min(x.decided, y.decided) * Math.min(pooled, 1 - pooled)
      const testable = variance !== undefined && variance.variance > 0 && minExpected >= MIN_EXPECTED
      const pValue = testable ? Math.min(1, pairCount * alwaysValidPValue(variance.difference, variance.variance)!) : null
      const outcome = pValue === null ? "too-few" : pValue < ALPHA ? "different" : "undecided"
      const designEffect = variance !== undefined && variance.independent > 0 ? variance.variance / variance.independent : null
      return {
        actions: [a.action, b.action],
        outcome,
        difference: variance?.difference ?? null,
        alwaysValid: testable && pValue !== null
          ? { pValue, interval: confidenceSequence(variance.difference, variance.variance, alpha)! }
          : null,
        fixedSample: testable
          ? {
            pValue: chiSquarePValue(variance.difference ** 2 / variance.variance, 1),
            interval: {
              low: variance.difference - Z_95 * Math.sqrt(variance.variance),
              high: variance.difference + Z_95 * Math.sqrt(variance.variance)
            }
          }
          : null,
        designEffect,
        needed: outcome === "different" || pooled === null ? null : neededFor({
          pooled,
          shares: decided > 0 && x.decided > 0 && y.decided > 0 ? [x.decided / decided, y.decided / decided] : [0.5, 0.5],
          designEffect: testable ? designEffect ?? 1 : 1,
          alpha,
          decided,
          pending: a.pending + b.pending,
          perDay: perDay(a.action) + perDay(b.action)
        })
      }
    })
  )
  const outcome: DecisionOutcome = input.actions.filter((a) => a.reacted + a.none > 0).length < 2
    ? "nothing-to-compare"
    : pairs.some((p) => p.outcome === "different")
    ? "different"
    : pairs.some((p) => p.outcome === "undecided")
    ? "undecided"
    : "too-few"
  return {
    method: methodOf(pairCount),
    outcome,
    verdict: verdictOf({ outcome, actions: input.actions, pairs, minExpected: MIN_EXPECTED }),
    detectable: DETECTABLE,
    power: POWER,
    windowDays: input.windowDays,
    actions,
    pairs
  }
}

/** How many decided messages the pair needs, and how many more to send, to tell `DETECTABLE` with `POWER`. */
const neededFor = (o: {
  readonly pooled: number
  readonly shares: readonly [number, number]
  readonly designEffect: number
  readonly alpha: number
  readonly decided: number
  readonly pending: number
  readonly perDay: number
}): Needed => {
  // Around the pair's rate: p1 and p1 + 3 points, inside [0, 1].
  const p1 = Math.min(Math.max(o.pooled - DETECTABLE / 2, 0), 1 - DETECTABLE)
  const p2 = p1 + DETECTABLE
  const unitVariance = o.designEffect * ((p1 * (1 - p1)) / o.shares[0] + (p2 * (1 - p2)) / o.shares[1])
  const total = sequentialSampleSize({ unitVariance, difference: DETECTABLE, alpha: o.alpha, power: POWER })
  const decidedNeeded = Number.isFinite(total) ? Math.ceil(total) : null
  const moreMessages = decidedNeeded === null ? null : Math.max(0, decidedNeeded - o.decided - o.pending)
  return {
    decidedNeeded,
    decided: o.decided,
    pending: o.pending,
    moreMessages,
    perDay: o.perDay,
    days: moreMessages === 0 ? 0 : moreMessages === null || o.perDay <= 0 ? null : Math.ceil(moreMessages / o.perDay),
    fixedSampleDecidedNeeded: Math.ceil(2 * o.designEffect * fixedSampleSize(p1, p2, o.alpha, POWER))
  }
}
