/**
 * The effectiveness report: how often each kind and each action of it gets a reaction (C7), with
 * 95% intervals, whether the actions of a kind differ, and — for the order kinds `invite` and
 * `birthday` — an observational baseline without any holdout and each action's uplift over it.
 *
 * Everything is computed in a few set-based statements over `pronto_notify.notifications` and the
 * host's `jupiter.orders` and `jupiter.clients`; business dates in the business time zone (C1).
 * Renderers: `renderText` (fixed-width table), `toJson` (the same figures as plain data) and
 * `ReportHtml.renderHtml` (a self-contained page with charts).
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
import { compareActions, type Comparison } from "./Comparison.ts"
import { type ActionFigures, type Band, figures as figureRows, inDoubt, ORDER_KINDS, type Uplift } from "./Figures.ts"
import { inPeriodOf, type Period } from "./Period.ts"
import { type Interval, newcombeDifference, wilson } from "./Statistics.ts"

export type { Interval } from "./Statistics.ts"
export { type Baseline, INVITE_BASELINE_WEEKS, REACTION_WINDOW_DAYS } from "./Baselines.ts"
export { compareActions, type Comparison, type ComparisonOutcome, MIN_EXPECTED, SIGNIFICANCE } from "./Comparison.ts"
export type { ActionFigures, Band, Uplift } from "./Figures.ts"
export { InvalidReportPeriod, parseBound, type Period } from "./Period.ts"

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

export interface Group {
  readonly kind: KindName
  readonly band: Band | null
  readonly title: string
  readonly actions: ReadonlyArray<ActionFigures>
  readonly comparison: Comparison
  /** invite and birthday only. */
  readonly baseline: Baseline | null
  readonly note: string | null
}

export interface ReportData {
  readonly generatedAt: DateTime.Utc
  readonly timeZone: string
  /** The period of sent_at, [from, to); null is open. */
  readonly from: DateTime.Utc | null
  readonly to: DateTime.Utc | null
  readonly groups: ReadonlyArray<Group>
  /** Messages left in doubt in the period, per kind: not counted above (nobody knows if they arrived). */
  readonly inDoubt: Readonly<Record<string, number>>
  readonly observationalNote: string
}

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

const percent = (x: number) => `${(x * 100).toFixed(1)}%`

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

// Rendering

/** A duration in words: minutes below an hour, hours below two days, days above. */
export const formatDuration = (seconds: number | null): string => {
  if (seconds === null) return "-"
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 86400).toFixed(1)} d`
}

export const formatPercent = (x: number | null): string => (x === null ? "-" : percent(x))

export const formatInterval = (i: Interval | null): string =>
  i === null ? "-" : `${percent(i.low)} .. ${percent(i.high)}`

const signedPercent = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}`

export const formatUplift = (u: Uplift | null): string =>
  u === null ? "-" : `${signedPercent(u.difference)} pp (${signedPercent(u.low)} .. ${signedPercent(u.high)})`

export const formatAmount = (x: number): string => x.toFixed(2)

export const formatPeriod = (data: ReportData): string =>
  `${data.from === null ? "the beginning" : DateTime.formatIso(data.from)} to ${
    data.to === null ? "now" : DateTime.formatIso(data.to)
  } (sent, end exclusive)`

export interface Column {
  readonly header: string
  readonly align: "left" | "right"
  readonly cell: (a: ActionFigures) => string
}

/** The table's columns, shared by the text and HTML renderers. */
export const columns = (group: Group): ReadonlyArray<Column> => [
  { header: "action", align: "left", cell: (a) => String(a.action) },
  { header: "sent", align: "right", cell: (a) => String(a.sent) },
  { header: "reacted", align: "right", cell: (a) => String(a.reacted) },
  { header: "none", align: "right", cell: (a) => String(a.none) },
  { header: "pending", align: "right", cell: (a) => String(a.pending) },
  { header: "rate", align: "right", cell: (a) => formatPercent(a.rate) },
  { header: "95% interval", align: "right", cell: (a) => formatInterval(a.interval) },
  { header: "median to reaction", align: "right", cell: (a) => formatDuration(a.medianSecondsToReaction) },
  { header: "bonuses granted", align: "right", cell: (a) => formatAmount(a.bonusGranted) },
  ...(ORDER_KINDS.includes(group.kind)
    ? [
      { header: "orders", align: "right", cell: (a) => String(a.reactingOrders?.count ?? 0) },
      { header: "orders total", align: "right", cell: (a) => formatAmount(a.reactingOrders?.total ?? 0) }
    ] satisfies ReadonlyArray<Column>
    : []),
  ...(group.baseline !== null
    ? [{ header: "uplift vs baseline (95%)", align: "right", cell: (a) => formatUplift(a.uplift) }] satisfies ReadonlyArray<
      Column
    >
    : [])
]

export const describeBaseline = (b: Baseline): string =>
  b.rate === null
    ? `Baseline: none. ${b.unavailable ?? ""}`.trim()
    : `Baseline: ${percent(b.rate)} of ${b.observations} comparable clients ordered within 14 days (95% interval ` +
      `${formatInterval(b.interval)}); reference days ${b.days?.from ?? "?"} to ${b.days?.to ?? "?"}.`

const table = (group: Group): string => {
  const cols = columns(group)
  const cells = [cols.map((c) => c.header), ...group.actions.map((a) => cols.map((c) => c.cell(a)))]
  const widths = cols.map((_, j) => Math.max(...cells.map((row) => row[j]!.length)))
  return cells
    .map((row) =>
      row.map((cell, j) => (cols[j]!.align === "left" ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join("  ")
        .trimEnd()
    )
    .join("\n")
}

/** The report as a plain-text document of fixed-width tables. */
export const renderText = (data: ReportData): string => {
  const lines: Array<string> = [
    "Pronto notifications: effectiveness report",
    `Period: ${formatPeriod(data)}; business time zone ${data.timeZone}.`,
    "Rate = reacted / (reacted + none), with its 95% Wilson interval; pending notifications are not yet decided.",
    ""
  ]
  for (const group of data.groups) {
    lines.push(group.title, "-".repeat(group.title.length), table(group), "", group.comparison.verdict)
    if (group.baseline !== null) {
      lines.push(describeBaseline(group.baseline), `  Method: ${group.baseline.method}`)
      if (group.baseline.rate !== null) {
        lines.push("  Uplift: action rate minus baseline rate, in percentage points, with Newcombe's 95% interval.")
      }
    }
    if (group.note !== null) lines.push(`Note: ${group.note}`)
    lines.push("")
  }
  const doubts = Object.entries(data.inDoubt)
  if (doubts.length > 0) {
    lines.push(`Left in doubt and not counted above: ${doubts.map(([k, n]) => `${k} ${n}`).join(", ")}.`, "")
  }
  lines.push(`Observational estimate: ${data.observationalNote}`)
  return lines.join("\n") + "\n"
}

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
      none: a.none,
      pending: a.pending,
      rate: a.rate,
      interval: a.interval === null ? null : { low: a.interval.low, high: a.interval.high },
      medianSecondsToReaction: a.medianSecondsToReaction,
      bonusGranted: a.bonusGranted,
      reactingOrders: a.reactingOrders === null ? null : { count: a.reactingOrders.count, total: a.reactingOrders.total },
      uplift: a.uplift === null ? null : { difference: a.uplift.difference, low: a.uplift.low, high: a.uplift.high }
    })),
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
      unavailable: g.baseline.unavailable
    },
    note: g.note
  })),
  inDoubt: { ...data.inDoubt },
  observationalNote: data.observationalNote
})

export type ReportJson = ReturnType<typeof toJson>
