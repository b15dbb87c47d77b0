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
 * (Period.ts), the figures (Figures.ts), the baselines (Baselines.ts), the comparison between
 * actions (Comparison.ts); the data they make up is in Data.ts. It re-exports what callers use as
 * `Report.…`.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { DateTime, Effect } from "effect"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import type { KindName } from "../kinds/Kind.ts"
import {
  type Baseline,
  birthdayBaseline,
  birthdayBaselineRows,
  inviteBaseline,
  inviteBaselineRows,
  REACTION_WINDOW_DAYS
} from "./Baselines.ts"
import { compareActions } from "./Comparison.ts"
import type { Group, ReportData } from "./Data.ts"
import { type ActionFigures, type Band, figures as figureRows, inDoubt, ORDER_KINDS } from "./Figures.ts"
import { inPeriodOf, type Period } from "./Period.ts"
import { newcombeDifference, wilson } from "./Statistics.ts"

export type { Interval } from "./Statistics.ts"
export { type Baseline, INVITE_BASELINE_WEEKS, REACTION_WINDOW_DAYS } from "./Baselines.ts"
export { compareActions, type Comparison, type ComparisonOutcome, MIN_EXPECTED, SIGNIFICANCE } from "./Comparison.ts"
export type { Group, ReportData } from "./Data.ts"
export type { ActionFigures, Band, Uplift } from "./Figures.ts"
export { type ReportJson, toJson } from "./Json.ts"
export { InvalidReportPeriod, parseBound, type Period } from "./Period.ts"
export {
  type Column,
  columns,
  describeBaseline,
  formatAmount,
  formatDuration,
  formatInterval,
  formatPercent,
  formatPeriod,
  formatUplift,
  renderText
} from "./Text.ts"

/**
 * The report's groups: one per action set (C2). The invite's bands rotate separately and target
 * different clients, so each band is its own group, with its own comparison and baseline. The
 * band is not stored; it is read back from the invite's trigger (`clientId@lastOrderAt`): more
 * than 28 days between the last order's and the send's local dates is band A, else B (C4; the
 * invite's own bands are 28 < d for A and 14 < d < 28 for B).
 */
const GROUPS: ReadonlyArray<{ readonly kind: KindName; readonly band: Band | null; readonly actions: ReadonlyArray<number> }> =
  [
    { kind: "feedback", band: null, actions: [1, 2] },
    { kind: "invite", band: "A", actions: [1, 2, 3] },
    { kind: "invite", band: "B", actions: [1, 2] },
    { kind: "profile", band: null, actions: [1] },
    { kind: "birthday", band: null, actions: [1, 2] }
  ]

export const OBSERVATIONAL_NOTE =
  "The baselines and uplifts are observational estimates, not a randomized holdout: every eligible client got a " +
  "message, so the baseline is the 14-day order rate of comparable clients at a time when no message was sent " +
  "(invite: the weeks before the first invite; birthday: the same days before a birthday a year earlier). " +
  "Season, prices, the client base and other marketing may differ between the two periods and are mixed into " +
  "the uplift; read it as an indication, not a measured causal effect. The comparison between actions of one " +
  "kind is fairer: rotation assigns them regardless of the client."

const INVITE_FALLBACK_NOTE =
  "Grouped by the action performed: action 1 falls back to action 2 for clients whose balance is not positive, " +
  "so the action 2 group also holds clients that rotation gave action 1."

/** Computes the report over notifications sent in [from, to) (either open). */
export const compute = (period: Period = {}): Effect.Effect<ReportData, SqlError.SqlError, SqlClient.SqlClient | BusinessTimeZone> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { name: tz } = yield* BusinessTimeZone
    const generatedAt = yield* DateTime.now
    const inPeriod = inPeriodOf(sql, period)
    const window = sql`make_interval(hours => ${REACTION_WINDOW_DAYS * 24})`

    const figures = yield* figureRows({ tz, inPeriod })
    const inDoubtRows = yield* inDoubt({ inPeriod })
    const inviteBaselines = yield* inviteBaselineRows({ tz, inPeriod, window })
    const birthdayBaselines = yield* birthdayBaselineRows({ tz, inPeriod, window })

    const baselineOf = (kind: KindName, band: Band | null): Baseline | null => {
      if (kind === "invite" && band !== null) return inviteBaseline(inviteBaselines, band)
      if (kind === "birthday") return birthdayBaseline(birthdayBaselines)
      return null
    }

    // An invite whose trigger carries no readable last order date lands in a group without a band.
    const groupsSeen = [
      ...GROUPS,
      ...figures
        .filter((r) => !GROUPS.some((g) => g.kind === r.kind && g.band === r.band))
        .map((r) => ({ kind: r.kind as KindName, band: r.band, actions: [] as ReadonlyArray<number> }))
        .filter((g, i, all) => all.findIndex((h) => h.kind === g.kind && h.band === g.band) === i)
    ]

    const groups = groupsSeen.map((g): Group => {
      const rows = figures.filter((r) => r.kind === g.kind && r.band === g.band)
      const actionNumbers = [...new Set([...g.actions, ...rows.map((r) => r.action)])].sort((a, b) => a - b)
      const baseline = baselineOf(g.kind, g.band)
      const isOrderKind = ORDER_KINDS.includes(g.kind)
      const actions = actionNumbers.map((action): ActionFigures => {
        const r = rows.find((row) => row.action === action)
        const reacted = r?.reacted ?? 0
        const none = r?.none ?? 0
        const decided = reacted + none
        const uplift = baseline !== null && baseline.observations > 0
          ? newcombeDifference(reacted, decided, baseline.ordered, baseline.observations) ?? null
          : null
        return {
          action,
          sent: r?.sent ?? 0,
          reacted,
          none,
          pending: r?.pending ?? 0,
          rate: decided > 0 ? reacted / decided : null,
          interval: wilson(reacted, decided) ?? null,
          medianSecondsToReaction: r?.medianSeconds ?? null,
          bonusGranted: r?.bonusGranted ?? 0,
          reactingOrders: isOrderKind
            ? { count: r?.reactingOrders ?? 0, total: r?.reactingOrdersTotal ?? 0 }
            : null,
          uplift
        }
      })
      return {
        kind: g.kind,
        band: g.band,
        title: g.band === null
          ? (g.kind === "invite" ? "invite (band unknown)" : g.kind)
          : `${g.kind}, band ${g.band}`,
        actions,
        comparison: compareActions(actions),
        baseline,
        note: g.kind === "invite" ? INVITE_FALLBACK_NOTE : null
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
  })
