/**
 * The report as JSON: `toJson`, the same figures as plain values, and their shape `ReportJson`.
 */
import { DateTime } from "effect"
import type { ReportData } from "./Data.ts"

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
