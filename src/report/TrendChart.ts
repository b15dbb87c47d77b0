/**
 * The trend of one report group as a small inline SVG chart: each action's rate per week of
 * sending, a line per action through a dot per week with decided messages; a week with messages
 * still pending has a hollow dot (its rate may move). Marks carry `data-action`, `data-week`,
 * `data-rate` and `data-decided` so that what the page shows can be checked.
 */
import { bandAttribute, escapeHtml, markId } from "./Chart.ts"
import type { Group } from "./Data.ts"

const fmt = (x: number) => String(Math.round(x * 1e6) / 1e6)
const percent = (x: number) => `${(x * 100).toFixed(1)}%`

const [LEFT, RIGHT, TOP, PLOT_HEIGHT, BOTTOM] = [48, 110, 12, 130, 34]
const STEP = 46

/** The rate axis' top: a round rate above every week's rate. */
const topOf = (g: Group) => {
  const rates = g.trend.actions.flatMap((a) => a.points.flatMap((p) => (p.rate === null ? [] : [p.rate])))
  const top = Math.max(0.05, ...rates)
  return [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1].find((m) => m >= top - 1e-12) ?? 1
}

/** The chart, or a sentence when the period has no messages. */
export const trendChart = (g: Group): string => {
  const id = `trend-${escapeHtml(markId(g, "trend"))}`
  const weeks = g.trend.weeks
  if (weeks.length === 0) {
    return `<p class="trend-empty" id="${id}">No messages in the period: no trend.</p>`
  }
  const max = topOf(g)
  const width = LEFT + Math.max(1, weeks.length - 1) * STEP + RIGHT
  const height = TOP + PLOT_HEIGHT + BOTTOM
  const x = (i: number) => LEFT + (weeks.length === 1 ? STEP / 2 : i * STEP)
  const y = (rate: number) => TOP + PLOT_HEIGHT * (1 - Math.min(rate, max) / max)
  const parts: Array<string> = []
  const step = max <= 0.2 ? 0.05 : max <= 0.6 ? 0.1 : 0.2
  for (let i = 0; i * step <= max + 1e-9; i++) {
    const t = i * step
    parts.push(
      `<line class="grid" x1="${LEFT}" y1="${fmt(y(t))}" x2="${width - RIGHT + 10}" y2="${fmt(y(t))}"/>`,
      `<g class="axis"><text x="${LEFT - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${Math.round(t * 100)}%</text></g>`
    )
  }
  // A label every week while they fit, else every other or fourth.
  const every = weeks.length <= 10 ? 1 : weeks.length <= 20 ? 2 : 4
  for (const [i, week] of weeks.entries()) {
    if (i % every !== 0) continue
    parts.push(`<g class="axis"><text x="${fmt(x(i))}" y="${TOP + PLOT_HEIGHT + 16}" text-anchor="middle">${
      escapeHtml(week.slice(5))
    }</text></g>`)
  }
  const labels: Array<number> = []
  for (const [j, a] of g.trend.actions.entries()) {
    const series = `trend-series trend-${(j % 4) + 1}`
    const points = a.points.flatMap((p, i) => (p.rate === null ? [] : [{ p, cx: x(i), cy: y(p.rate) }]))
    if (points.length > 1) {
      parts.push(`<polyline class="${series}" data-action="${a.action}" points="${
        points.map(({ cx, cy }) => `${fmt(cx)},${fmt(cy)}`).join(" ")
      }"/>`)
    }
    for (const { cx, cy, p } of points) {
      const decided = p.reacted + p.none
      parts.push(
        `<circle class="trend-mark ${series}${p.pending > 0 ? " provisional" : ""}" data-kind="${escapeHtml(g.kind)}"${
          bandAttribute(g)
        } data-action="${a.action}" data-week="${p.week}" data-rate="${fmt(p.rate!)}" data-decided="${decided}" data-pending="${p.pending}" cx="${
          fmt(cx)
        }" cy="${fmt(cy)}" r="4"><title>${
          escapeHtml(
            `action ${a.action}, week of ${p.week}: ${percent(p.rate!)} of ${decided} decided${
              p.pending > 0 ? `, ${p.pending} pending` : ""
            }`
          )
        }</title></circle>`
      )
    }
    // Each line's name beside its last week, moved down where it would overlap another's.
    const last = points[points.length - 1]
    let labelY = last === undefined ? TOP + 12 + 14 * j : last.cy + 4
    while (labels.some((used) => Math.abs(used - labelY) < 13)) labelY += 13
    labels.push(labelY)
    parts.push(`<text class="trend-label ${series}" x="${width - RIGHT + 16}" y="${fmt(labelY)}">${
      escapeHtml(`action ${a.action}`)
    }</text>`)
  }
  return `<figure class="trend" id="${id}" data-kind="${escapeHtml(g.kind)}"${bandAttribute(g)} data-weeks="${weeks.length}" ` +
    `data-scale-max="${max}"><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-label="${escapeHtml(`Reaction rate per week of ${g.title}, per action`)}">${parts.join("")}</svg>` +
    `<figcaption>Trend: each action's rate of the messages sent in the week (weeks from Monday, business time zone); ` +
    "a hollow dot: some of that week's messages are still pending, so its rate may move.</figcaption></figure>"
}
