/**
 * The report page's chart of one kind, as inline SVG: a row per action (per band for invite). On
 * the left each action's reaction rate (a dot) with its 95% interval (a bar) and the baseline as a
 * dashed line with its interval shaded; for a kind with a baseline, on the right of the same row,
 * the action's uplift over it (a diamond: rate minus baseline, in percentage points) with
 * Newcombe's 95% interval, around a zero line.
 *
 * Marks carry stable ids and data attributes (`data-kind`, `data-band`, `data-action`, `data-rate`
 * or `data-difference`, `data-low`, `data-high`) so that what the page shows can be checked.
 */
import type { Group } from "./Data.ts"
import type { ActionFigures } from "./Figures.ts"
import { formatPercent } from "./Text.ts"

/** Escapes text for HTML content and double-quoted attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

export const markId = (g: Group, suffix: string) => [g.kind, ...(g.band === null ? [] : [g.band]), suffix].join("-")

export const bandAttribute = (g: Group) => (g.band === null ? "" : ` data-band="${escapeHtml(g.band)}"`)

const fmt = (x: number) => String(Math.round(x * 1e6) / 1e6)
const pp = (x: number) => `${x > 0 ? "+" : x < 0 ? "−" : ""}${Math.abs(x * 100).toFixed(1)}`

/** The rate axis' maximum: a round rate above every interval shown. */
const scaleMax = (groups: ReadonlyArray<Group>): number => {
  const highs = groups.flatMap((g) => [...g.actions.map((a) => a.interval?.high ?? 0), g.baseline?.interval?.high ?? 0])
  const top = Math.max(0.05, ...highs)
  return [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1].find((m) => m >= top - 1e-12) ?? 1
}

const tickStep = (span: number) => (span <= 0.2 ? 0.05 : span <= 0.6 ? 0.1 : 0.2)

/** The uplift axis: round bounds around every interval shown, always holding zero. */
const upliftScale = (groups: ReadonlyArray<Group>): { readonly low: number; readonly high: number } => {
  const uplifts = groups.flatMap((g) => g.actions.flatMap((a) => (a.uplift === null ? [] : [a.uplift])))
  const round = (x: number, up: boolean) => (up ? Math.ceil(x * 20 - 1e-9) : Math.floor(x * 20 + 1e-9)) / 20
  return {
    low: Math.max(-1, Math.min(-0.05, ...uplifts.map((u) => round(u.low, false)))),
    high: Math.min(1, Math.max(0.05, ...uplifts.map((u) => round(u.high, true))))
  }
}

const ROW_HEIGHT = 34
const TOP = 14
const PANEL_TITLE = 18
const HEADER_HEIGHT = 20
const AXIS_HEIGHT = 30

/** Where the parts of a row go: without an uplift panel as before, with one narrower. */
const geometry = (uplift: boolean) =>
  uplift
    ? { label: 140, plot: 300, value: 210, gap: 20, upliftPlot: 250, upliftValue: 175 }
    : { label: 170, plot: 560, value: 200, gap: 0, upliftPlot: 0, upliftValue: 0 }

const rowLabel = (g: Group, a: ActionFigures) => `${g.band === null ? "" : `band ${g.band} · `}action ${a.action}`

/** One chart per kind: a row per action (per band for invite), dot and interval, baseline lines, uplifts. */
export const chart = (kind: string, groups: ReadonlyArray<Group>): string => {
  const withUplift = groups.some((g) => g.baseline !== null)
  const geo = geometry(withUplift)
  const max = scaleMax(groups)
  const x = (rate: number) => geo.label + (Math.min(rate, max) / max) * geo.plot
  const scale = upliftScale(groups)
  const upliftLeft = geo.label + geo.plot + geo.value + geo.gap
  const ux = (d: number) =>
    upliftLeft + ((Math.min(Math.max(d, scale.low), scale.high) - scale.low) / (scale.high - scale.low)) * geo.upliftPlot
  const top = TOP + (withUplift ? PANEL_TITLE : 0)
  // A group gets a header strip when it needs a name (several bands) or holds the baseline's label.
  let bottom = top
  const layout = groups.map((g) => {
    const header = groups.length > 1 || g.baseline?.rate != null ? HEADER_HEIGHT : 0
    const start = bottom
    bottom += header + g.actions.length * ROW_HEIGHT
    return { g, top: start, firstRow: start + header, end: bottom }
  })
  const height = bottom + AXIS_HEIGHT
  const width = upliftLeft + geo.upliftPlot + geo.upliftValue
  const parts: Array<string> = []

  const step = tickStep(max)
  for (let i = 0; i * step <= max + 1e-9; i++) {
    const t = i * step
    parts.push(
      `<line class="grid" x1="${fmt(x(t))}" y1="${top - 6}" x2="${fmt(x(t))}" y2="${bottom}"/>`,
      `<g class="axis"><text x="${fmt(x(t))}" y="${bottom + 18}" text-anchor="middle">${Math.round(t * 100)}%</text></g>`
    )
  }
  if (withUplift) {
    const upliftStep = tickStep((scale.high - scale.low) / 2)
    for (let t = Math.ceil(scale.low / upliftStep - 1e-9) * upliftStep; t <= scale.high + 1e-9; t += upliftStep) {
      const zero = Math.abs(t) < 1e-9
      parts.push(
        `<line class="${zero ? "zero-line" : "grid"}"${zero ? ` id="zero-${escapeHtml(kind)}"` : ""} x1="${fmt(ux(t))}" y1="${
          top - 6
        }" x2="${fmt(ux(t))}" y2="${bottom}"/>`,
        `<g class="axis"><text x="${fmt(ux(t))}" y="${bottom + 18}" text-anchor="middle">${
          zero ? "0" : `${t > 0 ? "+" : "−"}${Math.round(Math.abs(t) * 100)}`
        }</text></g>`
      )
    }
    parts.push(
      `<text class="panel-title" x="${geo.label}" y="${TOP + 4}">reaction rate (95% interval)</text>`,
      `<text class="panel-title" x="${upliftLeft}" y="${TOP + 4}">uplift over the baseline, pp (95% interval)</text>`
    )
  }

  for (const { end, firstRow, g, top: groupTop } of layout) {
    if (groups.length > 1) {
      parts.push(`<text class="group-label" x="${geo.label - 12}" y="${groupTop + 14}" text-anchor="end">${escapeHtml(g.title)}</text>`)
    }
    const b = g.baseline
    if (b !== null && b.rate !== null && b.interval !== null && g.actions.length > 0) {
      const [y1, y2] = [groupTop + 2, end - 2]
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
        `<text class="baseline-label" x="${fmt(x(b.rate) + 5)}" y="${groupTop + 14}">${
          escapeHtml(`baseline ${formatPercent(b.rate)}`)
        }</text>`
      )
    }
    for (const [i, a] of g.actions.entries()) {
      const y = firstRow + i * ROW_HEIGHT + ROW_HEIGHT / 2
      parts.push(`<text x="${geo.label - 12}" y="${y + 4}" text-anchor="end">${escapeHtml(`action ${a.action}`)}</text>`)
      parts.push(...rateRow(g, a, y, x, geo.label + geo.plot + 14))
      if (withUplift) parts.push(...upliftRow(g, a, y, ux, upliftLeft, upliftLeft + geo.upliftPlot + 10))
    }
  }

  return `<figure class="chart" id="chart-${escapeHtml(kind)}" data-kind="${escapeHtml(kind)}" data-scale-max="${max}"${
    withUplift ? ` data-uplift-low="${fmt(scale.low)}" data-uplift-high="${fmt(scale.high)}"` : ""
  }>` +
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-label="${escapeHtml(`Reaction rate per action of ${kind}, with 95% intervals`)}">${parts.join("")}</svg>` +
    `<figcaption>Reaction rate per action with its 95% Wilson interval${
      withUplift
        ? "; dashed: the baseline's 14-day order rate, shaded: its interval; right: each action's uplift (its rate minus " +
          "the baseline, in percentage points) with Newcombe's 95% interval, the line marking zero"
        : ""
    }.</figcaption></figure>`
}

const interval = (cls: string, lx: number, hx: number, y: number) => [
  `<line class="${cls}" x1="${fmt(lx)}" y1="${y}" x2="${fmt(hx)}" y2="${y}"/>`,
  `<line class="${cls}" x1="${fmt(lx)}" y1="${y - 6}" x2="${fmt(lx)}" y2="${y + 6}"/>`,
  `<line class="${cls}" x1="${fmt(hx)}" y1="${y - 6}" x2="${fmt(hx)}" y2="${y + 6}"/>`
]

const rateRow = (g: Group, a: ActionFigures, y: number, x: (r: number) => number, valueX: number): ReadonlyArray<string> => {
  if (a.rate === null || a.interval === null) {
    return [`<text class="empty" x="${fmt(x(0) + 8)}" y="${y + 4}">no decided notifications yet (${a.sent} sent)</text>`]
  }
  const decided = a.reacted + a.none
  return [
    ...interval("bar", x(a.interval.low), x(a.interval.high), y),
    `<circle class="rate-mark" id="mark-${escapeHtml(markId(g, String(a.action)))}" data-kind="${escapeHtml(g.kind)}"${
      bandAttribute(g)
    } data-action="${a.action}" data-rate="${fmt(a.rate)}" data-low="${fmt(a.interval.low)}" data-high="${
      fmt(a.interval.high)
    }" data-decided="${decided}" cx="${fmt(x(a.rate))}" cy="${y}" r="6">` +
    `<title>${escapeHtml(`${rowLabel(g, a)}: ${formatPercent(a.rate)} of ${decided} decided`)}</title></circle>`,
    `<text x="${fmt(valueX)}" y="${y + 4}">${
      escapeHtml(`${formatPercent(a.rate)}  (${formatPercent(a.interval.low)}–${formatPercent(a.interval.high)}, n = ${decided})`)
    }</text>`
  ]
}

const upliftRow = (
  g: Group,
  a: ActionFigures,
  y: number,
  ux: (d: number) => number,
  left: number,
  valueX: number
): ReadonlyArray<string> => {
  const u = a.uplift
  if (u === null) {
    return g.baseline === null || a.rate === null
      ? []
      : [`<text class="empty" x="${fmt(left + 8)}" y="${y + 4}">no uplift: no baseline</text>`]
  }
  const cx = ux(u.difference)
  return [
    ...interval("uplift-bar", ux(u.low), ux(u.high), y),
    `<path class="uplift-mark" id="uplift-${escapeHtml(markId(g, String(a.action)))}" data-kind="${escapeHtml(g.kind)}"${
      bandAttribute(g)
    } data-action="${a.action}" data-difference="${fmt(u.difference)}" data-low="${fmt(u.low)}" data-high="${
      fmt(u.high)
    }" d="M ${fmt(cx)} ${y - 7} L ${fmt(cx + 7)} ${y} L ${fmt(cx)} ${y + 7} L ${fmt(cx - 7)} ${y} Z">` +
    `<title>${escapeHtml(`${rowLabel(g, a)}: uplift ${pp(u.difference)} pp (${pp(u.low)} to ${pp(u.high)})`)}</title></path>`,
    `<text x="${fmt(valueX)}" y="${y + 4}">${escapeHtml(`${pp(u.difference)} pp (${pp(u.low)}…${pp(u.high)})`)}</text>`
  ]
}
