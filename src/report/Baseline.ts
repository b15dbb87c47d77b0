/**
 * A baseline as the report shows it: an estimate of a kind's reaction rate without its message,
 * from what the kind's own `baseline` method observed (see `BaselineMethod` in kinds/Kind.ts). No
 * holdout exists, so each is an observational estimate (`OBSERVATIONAL_NOTE`, Report.ts).
 */
import type { BaselineObservations } from "../kinds/Kind.ts"
import { type Interval, wilson } from "./Statistics.ts"

export interface Baseline {
  /** How it was computed, in words. */
  readonly method: string
  /** The reference days (business-zone dates, inclusive); null when there are none. */
  readonly days: { readonly from: string; readonly to: string } | null
  /** Comparable client situations observed (one per client and lapse, or client and birthday). */
  readonly observations: number
  /** Of those, how many placed a closed order within 14 days. */
  readonly ordered: number
  readonly rate: number | null
  readonly interval: Interval | null
  /** Why there is no rate, when there is none. */
  readonly unavailable: string | null
}

/** A baseline from what its method observed; `unavailable` says why when there are no reference days. */
export const toBaseline = (method: string, row: BaselineObservations | undefined, unavailable: string): Baseline => {
  const observations = row?.observations ?? 0
  const ordered = row?.ordered ?? 0
  const days = row?.fromDay && row.toDay && row.fromDay <= row.toDay ? { from: row.fromDay, to: row.toDay } : null
  return {
    method,
    days,
    observations,
    ordered,
    rate: observations > 0 ? ordered / observations : null,
    interval: wilson(ordered, observations) ?? null,
    unavailable: observations > 0
      ? null
      : days === null
      ? unavailable
      : "No comparable client on those days (no order history then?)."
  }
}
