/**
 * The report set against the simulated truth: per kind, band, action and measure (the rate, and
 * the uplift where the kind has a baseline), whether the true value lies inside the report's 95%
 * interval; and whether the reaction job found exactly the reactions of the simulated world.
 */
import { Effect } from "effect"
import type { ReportData } from "../report/Data.ts"
import * as Report from "../report/Report.ts"
import type { FakeSite } from "./FakeSite.ts"
import { simulate, type SimulationOptions } from "./Simulation.ts"
import { byGroup, type GroupTruth } from "./Truth.ts"

export interface TruthCheck {
  readonly kind: string
  readonly band: string | null
  readonly action: number
  readonly measure: "rate" | "uplift"
  /** Decided messages behind the estimate. */
  readonly decided: number
  /** The report's rate, or its uplift (rate minus baseline). */
  readonly estimate: number
  readonly truth: number
  readonly low: number
  readonly high: number
  readonly inside: boolean
}

const truthFor = (truths: ReadonlyArray<GroupTruth>, kind: string, band: string | null, action: number) =>
  truths.find((t) => t.kind === kind && t.band === band && t.action === action)

/** Every measured rate and uplift beside its truth. */
export const checkAgainstTruth = (report: ReportData, truths: ReadonlyArray<GroupTruth>): ReadonlyArray<TruthCheck> =>
  report.groups.flatMap((group) =>
    group.actions.flatMap((a): ReadonlyArray<TruthCheck> => {
      const truth = truthFor(truths, group.kind, group.band, a.action)
      const decided = a.reacted + a.none
      if (truth === undefined || decided === 0 || a.rate === null || a.interval === null) return []
      const check = (measure: TruthCheck["measure"], estimate: number, value: number, low: number, high: number) => ({
        kind: group.kind,
        band: group.band,
        action: a.action,
        measure,
        decided,
        estimate,
        truth: value,
        low,
        high,
        inside: low <= value && value <= high
      })
      return [
        check("rate", a.rate, truth.rate, a.interval.low, a.interval.high),
        ...(a.uplift === null ? [] : [check("uplift", a.uplift.difference, truth.uplift, a.uplift.low, a.uplift.high)])
      ]
    })
  )

export interface ReactionCount {
  readonly kind: string
  readonly band: string | null
  readonly action: number
  /** Reactions in the simulated world: messages whose window saw their event. */
  readonly simulated: number
  /** Reactions the reaction job found. */
  readonly found: number
}

/** The reactions of the simulated world beside those the reaction job found, per kind, band and action. */
export const reactionCounts = (report: ReportData, truths: ReadonlyArray<GroupTruth>): ReadonlyArray<ReactionCount> =>
  truths.map((t) => ({
    kind: t.kind,
    band: t.band,
    action: t.action,
    simulated: t.reacted,
    found: report.groups.filter((g) => g.kind === t.kind && g.band === t.band)
      .flatMap((g) => g.actions.filter((a) => a.action === t.action))
      .reduce((n, a) => n + a.reacted, 0)
  }))

/** The checks as the command line's `demo --json` prints them. */
export const toJson = (checks: ReadonlyArray<TruthCheck>) =>
  checks.map((c) => ({
    kind: c.kind,
    band: c.band,
    action: c.action,
    measure: c.measure,
    truth: c.truth,
    low: c.low,
    high: c.high,
    inside: c.inside
  }))

/**
 * Simulates a chain, computes the report over all of it, and sets it against the truth. The period
 * ends with the days of sending, so that the report's pace is that of their last four weeks.
 */
export const measure = (options: SimulationOptions, site: FakeSite) =>
  Effect.gen(function*() {
    const result = yield* simulate(options, site)
    const report = yield* Report.compute({ to: result.sendingEnd })
    const truths = byGroup(result.messages)
    return {
      result,
      report,
      truths,
      checks: checkAgainstTruth(report, truths),
      reactions: reactionCounts(report, truths)
    }
  })
