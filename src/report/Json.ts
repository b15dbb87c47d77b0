/**
 * The report as JSON: `toJson`, the same figures as plain values, and their shape `ReportJson`.
 */
import { DateTime } from "effect"
import type { Group, ReportData } from "./Data.ts"
import { describeNeeded } from "./DecisionWords.ts"

const interval = (i: { readonly low: number; readonly high: number } | null) =>
  i === null ? null : { low: i.low, high: i.high }

/** The always-valid comparison as plain data, with each pair's "how long until we know" in words too. */
const decisionJson = (g: Group) => {
  const d = g.decision
  return {
    method: d.method,
    outcome: d.outcome,
    verdict: d.verdict,
    detectable: d.detectable,
    power: d.power,
    windowDays: d.windowDays,
    actions: d.actions.map((a) => ({ ...a })),
    pairs: d.pairs.map((p) => ({
      actions: [p.actions[0], p.actions[1]],
      outcome: p.outcome,
      difference: p.difference,
      alwaysValid: p.alwaysValid === null ? null : { pValue: p.alwaysValid.pValue, ...interval(p.alwaysValid.interval)! },
      fixedSample: p.fixedSample === null ? null : { pValue: p.fixedSample.pValue, ...interval(p.fixedSample.interval)! },
      designEffect: p.designEffect,
      needed: p.needed === null ? null : { ...p.needed },
      neededInWords: describeNeeded(p, d)
    }))
  }
}

const trendJson = (g: Group) => ({
  weeks: [...g.trend.weeks],
  actions: g.trend.actions.map((a) => ({
    action: a.action,
    points: a.points.map((p) => ({ ...p, interval: interval(p.interval) }))
  }))
})

/** The report as JSON-ready data: the same figures, instants as ISO strings, null where undefined. */
export const toJson = (data: ReportData) => ({
  generatedAt: DateTime.formatIso(data.generatedAt),
  timeZone: data.timeZone,
  from: data.from === null ? null : DateTime.formatIso(data.from),
  to: data.to === null ? null : DateTime.formatIso(data.to),
  groups: data.groups.map((g) => ({
    kind: g.kind,
    band: g.band,
    title: g.title,
    actions: g.actions.map((a) => ({
      action: a.action,
      sent: a.sent,
      reacted: a.reacted,
      sharedReactions: a.sharedReactions,
      none: a.none,
      pending: a.pending,
      rate: a.rate,
      interval: a.interval === null ? null : { low: a.interval.low, high: a.interval.high },
      medianSecondsToReaction: a.medianSecondsToReaction,
      bonusGranted: a.bonusGranted,
      reactingOrders: a.reactingOrders === null ? null : { count: a.reactingOrders.count, total: a.reactingOrders.total },
      uplift: a.uplift === null ? null : { difference: a.uplift.difference, low: a.uplift.low, high: a.uplift.high }
    })),
    sharedReactions: g.actions.reduce((n, a) => n + a.sharedReactions, 0),
    comparison: {
      outcome: g.comparison.outcome,
      test: g.comparison.test === null ? null : { ...g.comparison.test },
      verdict: g.comparison.verdict
    },
    decision: decisionJson(g),
    trend: trendJson(g),
    baseline: g.baseline === null ? null : {
      method: g.baseline.method,
      days: g.baseline.days === null ? null : { from: g.baseline.days.from, to: g.baseline.days.to },
      observations: g.baseline.observations,
      ordered: g.baseline.ordered,
      rate: g.baseline.rate,
      interval: g.baseline.interval === null ? null : { low: g.baseline.interval.low, high: g.baseline.interval.high },
      standardizedBy: g.baseline.standardizedBy,
      unavailable: g.baseline.unavailable
    },
    note: g.note
  })),
  inDoubt: { ...data.inDoubt },
  observationalNote: data.observationalNote
})

export type ReportJson = ReturnType<typeof toJson>
