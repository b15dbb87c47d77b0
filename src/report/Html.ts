/**
 * The effectiveness report as one self-contained HTML page: inline CSS and inline SVG, nothing
 * loaded from anywhere; a pure function of the report's data, so that a host can embed it. Per kind
 * a chart (Chart.ts) of each action's reaction rate with its 95% interval and, for the kinds with a
 * baseline, the baseline as a vertical line and each action's uplift over it beside its rate; then
 * per group the table, the always-valid verdict with its pairs, what is still needed and the trend
 * (DecisionHtml.ts), the shared reactions and the observational note.
 */
import { DateTime } from "effect"
import type { Baseline } from "./Baseline.ts"
import { bandAttribute, chart, escapeHtml, markId } from "./Chart.ts"
import type { Group, ReportData } from "./Data.ts"
import { decisionSection } from "./DecisionHtml.ts"
import { columns, describeBaseline, describeShared, formatPeriod } from "./Text.ts"

export { escapeHtml } from "./Chart.ts"

const STYLE = `
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #2457a6; --base: #c2410c;
  --uplift: #0f766e; }
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
svg .panel-title { fill: var(--muted); font-weight: 600; }
svg .uplift-bar { stroke: var(--uplift); stroke-width: 2; }
svg .uplift-mark { fill: var(--uplift); stroke: #fff; stroke-width: 1.5; }
svg .zero-line { stroke: var(--muted); stroke-width: 1.5; }
svg .group-label { font-weight: 600; fill: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; margin: 4px 0 10px; }
th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { text-align: right; color: var(--muted); font-weight: 600; white-space: normal; vertical-align: bottom; }
td { text-align: right; }
th.left, td.left { text-align: left; }
.verdict { margin: 6px 0; padding: 8px 12px; border-radius: 6px; background: #f0f4f8; }
.verdict[data-outcome="different"] { background: #e6f4ea; font-weight: 600; }
.baseline, .note, .method, .shared, .fixed-sample, .trend-empty { color: var(--muted); margin: 6px 0; }
.needed { margin: 6px 0; }
table.pairs td:first-child { font-weight: 600; }
figure.trend { margin: 12px 0 8px; }
svg .trend-series { fill: none; stroke-width: 2; }
svg circle.trend-series { stroke-width: 1.5; }
svg .trend-1 { stroke: #2457a6; } svg circle.trend-1, svg text.trend-1 { fill: #2457a6; }
svg .trend-2 { stroke: #c2410c; } svg circle.trend-2, svg text.trend-2 { fill: #c2410c; }
svg .trend-3 { stroke: #0f766e; } svg circle.trend-3, svg text.trend-3 { fill: #0f766e; }
svg .trend-4 { stroke: #7c3aed; } svg circle.trend-4, svg text.trend-4 { fill: #7c3aed; }
svg circle.provisional { fill: #fff; }
svg text.trend-label { stroke: none; font-weight: 600; }
footer { color: var(--muted); font-size: 13px; }
`

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

const sharedText = (g: Group) => {
  const text = describeShared(g)
  return text === null ? "" : `<p class="shared" id="shared-${escapeHtml(markId(g, "shared"))}" data-shared="${
    g.actions.reduce((n, a) => n + a.sharedReactions, 0)
  }" data-reacted="${g.actions.reduce((n, a) => n + a.reacted, 0)}">${escapeHtml(text)}</p>`
}

const groupSection = (g: Group): string =>
  `<div class="group" data-kind="${escapeHtml(g.kind)}"${bandAttribute(g)}>` +
  (g.band === null ? "" : `<h3>${escapeHtml(g.title)}</h3>`) +
  table(g) +
  decisionSection(g) +
  sharedText(g) +
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
      "Rate = reacted / (reacted + none), with its 95% Wilson interval; pending notifications are not yet decided. " +
        "Verdicts come from an always-valid test: reading this report every day does not make them wrong more often."
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
