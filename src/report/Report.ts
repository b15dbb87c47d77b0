/**
 * The effectiveness report: how often each kind and each action of it gets a reaction (C7), with
 * 95% intervals, whether the actions of a kind differ, and — for the order kinds `invite` and
 * `birthday` — an observational baseline without any holdout and each action's uplift over it.
 *
 * Everything is computed in a few set-based statements over `pronto_notify.notifications` and the
 * host's `jupiter.orders` and `jupiter.clients`; business dates in the business time zone (C1).
 * Renderers: `renderText` (Text.ts, fixed-width tables), `toJson` (Json.ts, the same figures as
 * plain data) and `renderHtml` (Html.ts, a self-contained page with charts).
 *
 * This module holds the report's groups and `compute`, which puts the parts together: the period
 * (Period.ts), the figures (Figures.ts), the baselines (Baseline.ts), the comparison between
 * actions (Comparison.ts); the data they make up is in Data.ts. It re-exports what callers use as
 * `Report.…`.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { DateTime, Effect } from "effect"
import type { AnyKind } from "../kinds/Kind.ts"
import type { BaselineObservations } from "./BaselineMethod.ts"
import { Kinds } from "../kinds/Kinds.ts"
import { WINDOW_DAYS } from "../reactions/Reactions.ts"
import * as TablesMissing from "../store/TablesMissing.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { type Baseline, toBaseline } from "./Baseline.ts"
import { compareActions } from "./Comparison.ts"
import { decide, PACE_DAYS } from "./Decision.ts"
import type { Group, ReportData } from "./Data.ts"
import { type ActionFigures, figures as figureRows, inDoubt } from "./Figures.ts"
import { inPeriodOf, type Period } from "./Period.ts"
import { clusteredWilson, differenceOf } from "./Statistics.ts"
import { trendOf } from "./Trend.ts"
import { weeklyCounts } from "./WeeklyCounts.ts"

export { type Baseline } from "./Baseline.ts"
export { compareActions, type Comparison, type ComparisonOutcome, MIN_EXPECTED, SIGNIFICANCE } from "./Comparison.ts"
export type { Band, Group, ReportData } from "./Data.ts"
export { ALPHA, decide, DETECTABLE, PACE_DAYS, POWER } from "./Decision.ts"
export type {
  Decision,
  DecisionAction,
  DecisionOutcome,
  EffectiveCount,
  Needed,
  PairDecision
} from "./DecisionData.ts"
export { describeNeeded } from "./DecisionWords.ts"
export type { ActionFigures, Uplift } from "./Figures.ts"
export { renderHtml } from "./Html.ts"
export { type ReportJson, toJson } from "./Json.ts"
export { InvalidReportPeriod, parseBound, type Period } from "./Period.ts"
export { MIXTURE_SD } from "./Sequential.ts"
export {
  type Column,
  columns,
  describeBaseline,
  describeShared,
  formatAmount,
  formatDuration,
  formatInterval,
  formatPercent,
  formatPeriod,
  formatUplift,
  renderText
} from "./Text.ts"
export type { ActionTrend, Trend, TrendPoint } from "./Trend.ts"

/** A reaction counts within this many days after sending (C7); the baselines use the same window. */
export const REACTION_WINDOW_DAYS = WINDOW_DAYS

export const OBSERVATIONAL_NOTE =
  "The baselines and uplifts are observational estimates, not a randomized holdout: every eligible client got a " +
  "message, so the baseline is the 14-day order rate of comparable clients at a time when no message was sent " +
  "(invite: the lapses in the same band in the weeks before the first invite, once per lapse as the invite goes; " +
  "birthday: the same days before a birthday a year earlier, weighted to the greeted clients' time since their last " +
  "order). Whatever else differs between the two periods (season, prices, the client base, other marketing) is mixed " +
  "into the uplift, and where two messages were open at once (the shared reactions) the uplift of each includes what " +
  "the other caused. Read it as an indication, not a measured causal effect. The comparison between actions of one " +
  "kind is fairer: rotation assigns them regardless of the client."

/**
 * The report's groups: one per action set (C2), in the registry's order. A band rotates separately
 * and targets different clients, so each is its own group, with its own comparison and baseline.
 * Notifications of an action set the registry does not know (a kind since removed) get a group of
 * their own after the others.
 */
interface GroupSpec {
  readonly kind: string
  readonly actionSet: string
  readonly band: string | null
  readonly title: string
  readonly actions: ReadonlyArray<number>
  readonly definition: AnyKind | undefined
}

/** A banded kind's notification without a band (stored before bands were), or a set since removed. */
const titleOfUnknown = (group: { kind: string; actionSet: string }, definition: AnyKind | undefined) =>
  group.actionSet !== group.kind
    ? `${group.kind} (${group.actionSet})`
    : definition !== undefined
    ? `${group.kind} (band unknown)`
    : group.kind

const groupsOf = (kinds: ReadonlyArray<AnyKind>, seen: ReadonlyArray<{ kind: string; actionSet: string }>) => {
  const known: ReadonlyArray<GroupSpec> = kinds.flatMap((kind) =>
    kind.actionSets.map((set) => ({
      kind: kind.name,
      actionSet: set.name,
      band: set.band,
      title: set.band === null ? kind.name : `${kind.name}, band ${set.band}`,
      actions: Array.from({ length: set.actions }, (_, i) => i + 1),
      definition: kind
    }))
  )
  const unknown = seen
    .filter((r, i) =>
      !known.some((g) => g.kind === r.kind && g.actionSet === r.actionSet) &&
      seen.findIndex((s) => s.kind === r.kind && s.actionSet === r.actionSet) === i
    )
    .map((r): GroupSpec => ({
      kind: r.kind,
      actionSet: r.actionSet,
      band: r.actionSet === r.kind ? null : r.actionSet,
      title: titleOfUnknown(r, kinds.find((k) => k.name === r.kind)),
      actions: [],
      definition: kinds.find((k) => k.name === r.kind)
    }))
  return [...known, ...unknown]
}

/** Computes the report over notifications sent in [from, to) (either open), for the registry's kinds. */
export const compute = (
  period: Period = {}
): Effect.Effect<ReportData, SqlError.SqlError | TablesMissing.TablesMissing, SqlClient.SqlClient | BusinessTimeZone> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { name: tz } = yield* BusinessTimeZone
    const { kinds } = yield* Kinds
    const generatedAt = yield* DateTime.now
    const inPeriod = inPeriodOf(sql, period)
    const window = sql`make_interval(hours => ${REACTION_WINDOW_DAYS * 24})`
    const orderKinds = kinds.filter((k) => k.reaction._tag === "ClosedOrder").map((k) => k.name)

    const figures = yield* figureRows({ inPeriod, orderKinds })
    const inDoubtRows = yield* inDoubt({ inPeriod })
    // The pace is of the four weeks before the period's end, or before now for a period that has not ended.
    const end = period.to === undefined ? generatedAt : DateTime.min(period.to, generatedAt)
    const weeks = yield* weeklyCounts({ inPeriod, tz, pace: { from: DateTime.subtract(end, { days: PACE_DAYS }), to: end } })
    const observed: ReadonlyArray<BaselineObservations> = (yield* Effect.forEach(
      kinds,
      (kind) => (kind.baseline === undefined ? Effect.succeed([]) : kind.baseline.observe({ tz, inPeriod, window }))
    )).flat()

    const baselineOf = (g: GroupSpec): Baseline | null => {
      const method = g.definition?.baseline
      const set = g.definition?.actionSets.find((s) => s.name === g.actionSet)
      if (method === undefined || set === undefined) return null
      return toBaseline(method, method.describe(set), observed.filter((o) => o.actionSet === g.actionSet))
    }

    const groups = groupsOf(kinds, figures).map((g): Group => {
      const rows = figures.filter((r) => r.kind === g.kind && r.actionSet === g.actionSet)
      const actionNumbers = [...new Set([...g.actions, ...rows.map((r) => r.action)])].sort((a, b) => a - b)
      const baseline = baselineOf(g)
      const reactsWithOrders = orderKinds.includes(g.kind)
      const actions = actionNumbers.map((action): ActionFigures => {
        const r = rows.find((row) => row.action === action)
        const reacted = r?.reacted ?? 0
        const none = r?.none ?? 0
        const decided = reacted + none
        const interval = r === undefined ? undefined : clusteredWilson(reacted, decided, r)
        const uplift = baseline?.rate != null && baseline.interval !== null && interval !== undefined
          ? differenceOf(reacted / decided, interval, baseline.rate, baseline.interval)
          : null
        return {
          action,
          sent: r?.sent ?? 0,
          reacted,
          sharedReactions: r?.sharedReactions ?? 0,
          none,
          pending: r?.pending ?? 0,
          rate: decided > 0 ? reacted / decided : null,
          interval: interval ?? null,
          medianSecondsToReaction: r?.medianSeconds ?? null,
          bonusGranted: r?.bonusGranted ?? 0,
          reactingOrders: reactsWithOrders
            ? { count: r?.reactingOrders ?? 0, total: r?.reactingOrdersTotal ?? 0 }
            : null,
          uplift
        }
      })
      const groupWeeks = weeks.filter((r) => r.kind === g.kind && r.actionSet === g.actionSet)
      return {
        kind: g.kind,
        band: g.band,
        title: g.title,
        actions,
        comparison: compareActions(actions),
        decision: decide({
          // The figures' sums over the clients: each client counted once.
          actions: actions.map((a) => ({ ...a, clusters: rows.find((r) => r.action === a.action) ?? null })),
          recent: actionNumbers.map((action) => ({
            action,
            sent: groupWeeks.filter((w) => w.action === action).reduce((n, w) => n + w.recent, 0)
          })),
          windowDays: REACTION_WINDOW_DAYS
        }),
        trend: trendOf(groupWeeks, actionNumbers),
        baseline,
        note: g.definition?.reportNote ?? null
      }
    })

    return {
      generatedAt,
      timeZone: tz,
      from: period.from ?? null,
      to: period.to ?? null,
      groups,
      inDoubt: Object.fromEntries(inDoubtRows.map((r) => [r.kind, r.count])),
      observationalNote: OBSERVATIONAL_NOTE
    }
  }).pipe(
    TablesMissing.named,
    Effect.withSpan("pronto-notify/report", {
      attributes: {
        ...(period.from === undefined ? {} : { from: DateTime.formatIso(period.from) }),
        ...(period.to === undefined ? {} : { to: DateTime.formatIso(period.to) })
      },
      captureStackTrace: false
    })
  )
