/**
 * A baseline as the report shows it: an estimate of a kind's reaction rate without its message,
 * from what the kind's own `baseline` method observed (see `BaselineMethod` in kinds/Kind.ts). No
 * holdout exists, so each is an observational estimate (`OBSERVATIONAL_NOTE`, Report.ts). A method
 * with strata is standardized: each stratum's rate weighted by the messaged clients' share in it.
 */
import type { BaselineMethod, BaselineObservations } from "./BaselineMethod.ts"
import { type Interval, standardized, wilson } from "./Statistics.ts"

export interface Baseline {
  /** How it was computed, in words. */
  readonly method: string
  /** The reference days (business-zone dates, inclusive); null when there are none. */
  readonly days: { readonly from: string; readonly to: string } | null
  /** Comparable client situations observed (one per client and lapse, or client and birthday). */
  readonly observations: number
  /** Of those, how many placed a closed order within 14 days. */
  readonly ordered: number
  /**
   * The estimated rate: ordered / observations, or for a stratified method the strata's rates
   * weighted to the messaged clients' mix.
   */
  readonly rate: number | null
  /** 95% Wilson interval (at the effective sample size when standardized). */
  readonly interval: Interval | null
  /** What the rate is standardized by, when it is (the method's `stratifiedBy`); null otherwise. */
  readonly standardizedBy: string | null
  /** Why there is no rate, when there is none. */
  readonly unavailable: string | null
}

/** A baseline from what its method observed (one row per stratum); `unavailable` says why when there are no reference days. */
export const toBaseline = (
  method: Pick<BaselineMethod, "stratifiedBy" | "unavailable">,
  description: string,
  rows: ReadonlyArray<BaselineObservations>
): Baseline => {
  const first = rows[0]
  const observations = rows.reduce((n, r) => n + r.observations, 0)
  const ordered = rows.reduce((n, r) => n + r.ordered, 0)
  const days = first?.fromDay && first.toDay && first.fromDay <= first.toDay ? { from: first.fromDay, to: first.toDay } : null
  // Dense from stratum 0, so that neighbours in the list are neighbours in the strata's order.
  const strata = Array.from({ length: Math.max(0, ...rows.map((r) => r.stratum + 1)) }, (_, stratum) => {
    const row = rows.find((r) => r.stratum === stratum)
    return { trials: row?.observations ?? 0, successes: row?.ordered ?? 0, weight: row?.messaged ?? 0 }
  })
  const weighted = method.stratifiedBy === undefined ? undefined : standardized(strata)
  const plain = weighted === undefined && observations > 0
  return {
    method: description,
    days,
    observations,
    ordered,
    rate: weighted?.proportion ?? (plain ? ordered / observations : null),
    interval: weighted?.interval ?? (plain ? wilson(ordered, observations)! : null),
    standardizedBy: weighted === undefined ? null : method.stratifiedBy!,
    unavailable: observations > 0
      ? null
      : days === null
      ? method.unavailable
      : "No comparable client on those days (no order history then?)."
  }
}
