/**
 * The effectiveness report as one self-contained HTML page: inline CSS and inline SVG, nothing
 * loaded from anywhere. Per kind a chart of each action's reaction rate (a dot) with its 95%
 * interval (a horizontal bar) and, for invite and birthday, the baseline as a vertical line; then
 * the tables, the verdicts and the observational note.
 *
 * Marks carry stable ids and data attributes (`data-kind`, `data-band`, `data-action`,
 * `data-rate`, `data-low`, `data-high`) so that what the page shows can be checked.
 */
import { DateTime } from "effect"
import type { Baseline } from "./Baseline.ts"
import type { Group, ReportData } from "./Data.ts"
import type { ActionFigures } from "./Figures.ts"
import { columns, describeBaseline, formatPercent, formatPeriod } from "./Text.ts"

/** Escapes text for HTML content and double-quoted attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const STYLE = `
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #2457a6; --base: #c2410c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: #f5f7fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 12px; }
h3 { font-size: 16px; margin: 20px 0 8px; }
.period { color: var(--muted); margin: 0 0 16px; }
.notice { border-left: 4px solid var(--base); background: #fff7ed; padding: 10px 14px; margin: 0 0 20px; }
.kind { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 22px; margin: 0 0 22px; }
figure { margin: 0 0 8px; }
figcaption { color: var(--muted); font-size: 13px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
svg .axis text { fill: var(--muted); }
svg .grid { stroke: #eef2f6; }
svg .bar { stroke: var(--accent); stroke-width: 2; }
svg .rate-mark { fill: var(--accent); stroke: #fff; stroke-width: 1.5; }
svg .baseline-mark { stroke: var(--base); stroke-width: 2; stroke-dasharray: 5 3; }
svg .baseline-band { fill: var(--base); opacity: 0.1; }
svg .baseline-label { fill: var(--base); }
svg .empty { fill: var(--muted); font-style: italic; }
svg .group-label { font-weight: 600; fill: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; margin: 4px 0 10px; }
th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { text-align: right; color: var(--muted); font-weight: 600; white-space: normal; vertical-align: bottom; }
td { text-align: right; }
th.left, td.left { text-align: left; }
.verdict { margin: 6px 0; padding: 8px 12px; border-radius: 6px; background: #f0f4f8; }
.verdict[data-outcome="significant"] { background: #e6f4ea; font-weight: 600; }
.baseline, .note, .method { color: var(--muted); margin: 6px 0; }
footer { color: var(--muted); font-size: 13px; }
`

const fmt = (x: number) => String(Math.round(x * 1e6) / 1e6)

/** The x-axis maximum: a round rate above every interval shown. */
const scaleMax = (groups: ReadonlyArray<Group>): number => {
  const highs = groups.flatMap((g) => [
    ...g.actions.map((a) => a.interval?.high ?? 0),
    g.baseline?.interval?.high ?? 0
  ])
  const top = Math.max(0.05, ...highs)
  return [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1].find((m) => m >= top - 1e-12) ?? 1
}

const tickStep = (max: number) => (max <= 0.2 ? 0.05 : max <= 0.6 ? 0.1 : 0.2)

const LABEL_WIDTH = 170
const PLOT_WIDTH = 560
const VALUE_WIDTH = 200
const ROW_HEIGHT = 34
const TOP = 14
const HEADER_HEIGHT = 20
const AXIS_HEIGHT = 30

const rowLabel = (g: Group, a: ActionFigures) => `${g.band === null ? "" : `band ${g.band} · `}action ${a.action}`

const markId = (g: Group, suffix: string) => [g.kind, ...(g.band === null ? [] : [g.band]), suffix].join("-")

const bandAttribute = (g: Group) => (g.band === null ? "" : ` data-band="${escapeHtml(g.band)}"`)

/** One chart per kind: a row per action (per band for invite), dot and interval, baseline lines. */
const chart = (kind: string, groups: ReadonlyArray<Group>): string => {
  const max = scaleMax(groups)
  const x = (rate: number) => LABEL_WIDTH + (Math.min(rate, max) / max) * PLOT_WIDTH
  // A group gets a header strip when it needs a name (several bands) or holds the baseline's label.
  let bottom = TOP
  const layout = groups.map((g) => {
    const header = groups.length > 1 || g.baseline?.rate != null ? HEADER_HEIGHT : 0
    const top = bottom
    bottom += header + g.actions.length * ROW_HEIGHT
    return { g, top, firstRow: top + header, end: bottom }
  })
  const height = bottom + AXIS_HEIGHT
  const width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
  const parts: Array<string> = []

  const step = tickStep(max)
  for (let i = 0; i * step <= max + 1e-9; i++) {
    const t = i * step
    parts.push(
      `<line class="grid" x1="${fmt(x(t))}" y1="${TOP - 6}" x2="${fmt(x(t))}" y2="${bottom}"/>`,
      `<g class="axis"><text x="${fmt(x(t))}" y="${bottom + 18}" text-anchor="middle">${Math.round(t * 100)}%</text></g>`
    )
  }

  for (const { end, firstRow, g, top } of layout) {
    if (groups.length > 1) {
      parts.push(`<text class="group-label" x="${LABEL_WIDTH - 12}" y="${top + 14}" text-anchor="end">${escapeHtml(g.title)}</text>`)
    }
    const b = g.baseline
    if (b !== null && b.rate !== null && b.interval !== null && g.actions.length > 0) {
      const [y1, y2] = [top + 2, end - 2]
      parts.push(
        `<rect class="baseline-band" x="${fmt(x(b.interval.low))}" y="${y1}" width="${
          fmt(x(b.interval.high) - x(b.interval.low))
        }" height="${y2 - y1}"/>`,
        `<line class="baseline-mark" id="baseline-${escapeHtml(markId(g, "baseline"))}" data-kind="${
          escapeHtml(g.kind)
        }"${bandAttribute(g)} data-rate="${fmt(b.rate)}" data-low="${fmt(b.interval.low)}" data-high="${
          fmt(b.interval.high)
        }" x1="${fmt(x(b.rate))}" y1="${y1}" x2="${fmt(x(b.rate))}" y2="${y2}">` +
          `<title>${escapeHtml(`baseline ${formatPercent(b.rate)}`)}</title></line>`,
        `<text class="baseline-label" x="${fmt(x(b.rate) + 5)}" y="${top + 14}">${
          escapeHtml(`baseline ${formatPercent(b.rate)}`)
        }</text>`
      )
    }
    for (const [i, a] of g.actions.entries()) {
      const y = firstRow + i * ROW_HEIGHT + ROW_HEIGHT / 2
      parts.push(`<text x="${LABEL_WIDTH - 12}" y="${y + 4}" text-anchor="end">${escapeHtml(`action ${a.action}`)}</text>`)
      if (a.rate !== null && a.interval !== null) {
        const decided = a.reacted + a.none
        const [lx, hx, rx] = [x(a.interval.low), x(a.interval.high), x(a.rate)]
        parts.push(
          `<line class="bar" x1="${fmt(lx)}" y1="${y}" x2="${fmt(hx)}" y2="${y}"/>`,
          `<line class="bar" x1="${fmt(lx)}" y1="${y - 6}" x2="${fmt(lx)}" y2="${y + 6}"/>`,
          `<line class="bar" x1="${fmt(hx)}" y1="${y - 6}" x2="${fmt(hx)}" y2="${y + 6}"/>`,
          `<circle class="rate-mark" id="mark-${escapeHtml(markId(g, String(a.action)))}" data-kind="${
            escapeHtml(g.kind)
          }"${bandAttribute(g)} data-action="${a.action}" data-rate="${fmt(a.rate)}" data-low="${
            fmt(a.interval.low)
          }" data-high="${fmt(a.interval.high)}" data-decided="${decided}" cx="${fmt(rx)}" cy="${y}" r="6">` +
            `<title>${escapeHtml(`${rowLabel(g, a)}: ${formatPercent(a.rate)} of ${decided} decided`)}</title></circle>`,
          `<text x="${LABEL_WIDTH + PLOT_WIDTH + 14}" y="${y + 4}">${
            escapeHtml(`${formatPercent(a.rate)}  (${formatPercent(a.interval.low)}–${formatPercent(a.interval.high)}, n = ${decided})`)
          }</text>`
        )
      } else {
        parts.push(
          `<text class="empty" x="${LABEL_WIDTH + 8}" y="${y + 4}">no decided notifications yet (${a.sent} sent)</text>`
        )
      }
    }
  }

  return `<figure class="chart" id="chart-${escapeHtml(kind)}" data-kind="${escapeHtml(kind)}" data-scale-max="${max}">` +
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-label="${escapeHtml(`Reaction rate per action of ${kind}, with 95% intervals`)}">${parts.join("")}</svg>` +
    `<figcaption>Reaction rate per action with its 95% Wilson interval${
      groups.some((g) => g.baseline !== null) ? "; dashed: the baseline's 14-day order rate, shaded: its interval" : ""
    }.</figcaption></figure>`
}

const table = (g: Group): string => {
  const cols = columns(g)
  const head = cols.map((c) => `<th class="${c.align}" scope="col">${escapeHtml(c.header)}</th>`).join("")
  const body = g.actions
    .map((a) =>
      `<tr data-action="${a.action}">${cols.map((c) => `<td class="${c.align}">${escapeHtml(c.cell(a))}</td>`).join("")}</tr>`
    )
    .join("")
  return `<div class="table-wrap"><table id="table-${escapeHtml(markId(g, "table"))}"><thead><tr>${head}</tr></thead>` +
    `<tbody>${body}</tbody></table></div>`
}

const baselineText = (g: Group, b: Baseline) =>
  `<p class="baseline" id="baseline-text-${escapeHtml(markId(g, "baseline"))}">${escapeHtml(describeBaseline(b))}` +
  `${b.rate !== null ? " Uplift: the action's rate minus the baseline, in percentage points (pp), with Newcombe's 95% interval." : ""}</p>` +
  `<p class="method">${escapeHtml(`Method: ${b.method}`)}</p>`

const groupSection = (g: Group): string =>
  `<div class="group" data-kind="${escapeHtml(g.kind)}"${bandAttribute(g)}>` +
  (g.band === null ? "" : `<h3>${escapeHtml(g.title)}</h3>`) +
  table(g) +
  `<p class="verdict" id="verdict-${escapeHtml(markId(g, "verdict"))}" data-kind="${escapeHtml(g.kind)}"${
    bandAttribute(g)
  } data-outcome="${escapeHtml(g.comparison.outcome)}">${escapeHtml(g.comparison.verdict)}</p>` +
  (g.baseline === null ? "" : baselineText(g, g.baseline)) +
  (g.note === null ? "" : `<p class="note">${escapeHtml(`Note: ${g.note}`)}</p>`) +
  `</div>`

/** The whole page. */
export const renderHtml = (data: ReportData): string => {
  const kinds = [...new Set(data.groups.map((g) => g.kind))]
  const sections = kinds.map((kind) => {
    const groups = data.groups.filter((g) => g.kind === kind)
    return `<section class="kind" id="kind-${escapeHtml(kind)}" data-kind="${escapeHtml(kind)}">` +
      `<h2>${escapeHtml(kind)}</h2>${chart(kind, groups)}${groups.map(groupSection).join("")}</section>`
  })
  const doubts = Object.entries(data.inDoubt)
  const title = "Pronto notifications: effectiveness report"
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1 id="report-title">${escapeHtml(title)}</h1>
<p class="period" id="report-period">${
    escapeHtml(
      `Period: ${formatPeriod(data)}; business time zone ${data.timeZone}; generated ${DateTime.formatIso(data.generatedAt)}.`
    )
  }<br>${
    escapeHtml(
      "Rate = reacted / (reacted + none), with its 95% Wilson interval; pending notifications are not yet decided."
    )
  }</p>
<p class="notice" id="observational-note"><strong>Observational estimate.</strong> ${escapeHtml(data.observationalNote)}</p>
${sections.join("\n")}
<footer>${
    doubts.length === 0
      ? ""
      : `<p id="in-doubt">${
        escapeHtml(`Left in doubt and not counted above: ${doubts.map(([k, n]) => `${k} ${n}`).join(", ")}.`)
      }</p>`
  }</footer>
</main>
</body>
</html>
`
}
