/**
 * The report as plain text: the formatters of its figures, shared with the HTML page, and
 * `renderText`, a document of fixed-width tables.
 */
import { DateTime } from "effect"
import type { Baseline } from "./Baseline.ts"
import type { Group, ReportData } from "./Data.ts"
import { type Cell, describeFixedSample, effectiveOf, pairColumns, trendRows } from "./DecisionTable.ts"
import { describeNeeded } from "./DecisionWords.ts"
import type { ActionFigures, Uplift } from "./Figures.ts"
import type { Interval } from "./Statistics.ts"

const percent = (x: number) => `${(x * 100).toFixed(1)}%`

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
  { header: "effective n", align: "right", cell: (a) => String(Math.round(effectiveOf(group, a.action)?.effectiveDecided ?? 0)) },
  { header: "median to reaction", align: "right", cell: (a) => formatDuration(a.medianSecondsToReaction) },
  { header: "bonuses granted", align: "right", cell: (a) => formatAmount(a.bonusGranted) },
  // The kinds whose reaction is an order have their reacting orders (and only they).
  ...(group.actions.some((a) => a.reactingOrders !== null)
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
    : b.standardizedBy === null
    ? `Baseline: ${percent(b.rate)} of ${b.observations} comparable clients ordered within 14 days (95% interval ` +
      `${formatInterval(b.interval)}); reference days ${b.days?.from ?? "?"} to ${b.days?.to ?? "?"}.`
    : `Baseline: ${percent(b.rate)}: ${b.ordered} of ${b.observations} comparable clients ordered within 14 days, ` +
      `weighted to the messaged clients' mix of ${b.standardizedBy} (95% interval ${formatInterval(b.interval)}); ` +
      `reference days ${b.days?.from ?? "?"} to ${b.days?.to ?? "?"}.`

/** The group's reactions credited to another message too, in words; null without reactions. */
export const describeShared = (group: Group): string | null => {
  const reacted = group.actions.reduce((n, a) => n + a.reacted, 0)
  const shared = group.actions.reduce((n, a) => n + a.sharedReactions, 0)
  return reacted === 0
    ? null
    : `Shared reactions: ${shared} of ${reacted} were also credited to another message (one event after two messages ` +
      "open at once counts for each: the first event after a message is its reaction)."
}

/** Rows of cells as a fixed-width table: left or right aligned, two spaces apart. */
const fixedWidth = <A>(cols: ReadonlyArray<Cell<A>>, rows: ReadonlyArray<A>): string => {
  const cells = [cols.map((c) => c.header), ...rows.map((row) => cols.map((c) => c.cell(row)))]
  const widths = cols.map((_, j) => Math.max(...cells.map((row) => row[j]!.length)))
  return cells
    .map((row) =>
      row.map((cell, j) => (cols[j]!.align === "left" ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join("  ")
        .trimEnd()
    )
    .join("\n")
}

/** The always-valid verdict, its pairs and what is still needed, the fixed-sample test, the method and the trend. */
const decisionLines = (group: Group): ReadonlyArray<string> => {
  const d = group.decision
  const fixed = describeFixedSample(group)
  const trend = trendRows(group)
  const trendCols: ReadonlyArray<Cell<(typeof trend)[number]>> = [
    { header: "week of", align: "left", cell: (r) => r.week },
    ...group.trend.actions.map((a, j): Cell<(typeof trend)[number]> => ({
      header: `action ${a.action}`,
      align: "right",
      cell: (r) => r.cells[j]!.text
    }))
  ]
  return [
    d.verdict,
    ...(d.pairs.length === 0 ? [] : ["", fixedWidth(pairColumns(group), d.pairs)]),
    ...d.pairs.flatMap((p) => {
      const needed = describeNeeded(p, d)
      return needed === null ? [] : [needed]
    }),
    ...(fixed === null ? [] : [fixed]),
    ...(d.pairs.length === 0 ? [] : [`  Method: ${d.method}`]),
    ...(trend.length === 0 ? [] : [
      "",
      "Trend: the rate of each week's decided messages (* some still pending: the rate may move)",
      fixedWidth(trendCols, trend),
      ""
    ])
  ]
}

/** The report as a plain-text document of fixed-width tables. */
export const renderText = (data: ReportData): string => {
  const lines: Array<string> = [
    "Pronto notifications: effectiveness report",
    `Period: ${formatPeriod(data)}; business time zone ${data.timeZone}.`,
    "Rate = reacted / (reacted + none), with its 95% Wilson interval; pending notifications are not yet decided.",
    "Verdicts come from an always-valid test: reading this report every day does not make them wrong more often.",
    ""
  ]
  for (const group of data.groups) {
    lines.push(group.title, "-".repeat(group.title.length), fixedWidth(columns(group), group.actions), "", ...decisionLines(group))
    const shared = describeShared(group)
    if (shared !== null) lines.push(shared)
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
