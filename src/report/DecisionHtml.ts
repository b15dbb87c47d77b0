/**
 * The decision of one report group on the page: the always-valid verdict, the table of its pairs
 * of actions (always-valid and fixed-sample figures, what is still needed), the "how long until we
 * know" sentences, the fixed-sample chi-square test labelled as such, the method and the trend
 * chart. Marks carry ids and data attributes so that what the page shows can be checked.
 */
import { bandAttribute, escapeHtml, markId } from "./Chart.ts"
import type { Group } from "./Data.ts"
import { describeFixedSample, pairColumns } from "./DecisionTable.ts"
import { describeNeeded } from "./DecisionWords.ts"
import { trendChart } from "./TrendChart.ts"

const pairTable = (g: Group): string => {
  const cols = pairColumns(g)
  const head = cols.map((c) => `<th class="${c.align}" scope="col">${escapeHtml(c.header)}</th>`).join("")
  const body = g.decision.pairs.map((p) =>
    `<tr data-actions="${p.actions.join("-")}" data-outcome="${p.outcome}"${
      p.alwaysValid === null ? "" : ` data-p="${p.alwaysValid.pValue}"`
    }${p.needed?.moreMessages == null ? "" : ` data-more="${p.needed.moreMessages}"`}${
      p.needed?.days == null ? "" : ` data-days="${p.needed.days}"`
    }>${cols.map((c) => `<td class="${c.align}">${escapeHtml(c.cell(p))}</td>`).join("")}</tr>`
  ).join("")
  return `<div class="table-wrap"><table class="pairs" id="pairs-${escapeHtml(markId(g, "pairs"))}"><thead><tr>${head}</tr>` +
    `</thead><tbody>${body}</tbody></table></div>`
}

/** The group's decision and trend, as they follow its table of actions. */
export const decisionSection = (g: Group): string => {
  const d = g.decision
  const fixed = describeFixedSample(g)
  const needed = d.pairs.flatMap((p) => {
    const text = describeNeeded(p, d)
    return text === null
      ? []
      : [`<p class="needed" id="needed-${escapeHtml(markId(g, p.actions.join("-")))}" data-actions="${p.actions.join("-")}">${
        escapeHtml(text)
      }</p>`]
  })
  return `<p class="verdict" id="verdict-${escapeHtml(markId(g, "verdict"))}" data-kind="${escapeHtml(g.kind)}"${
    bandAttribute(g)
  } data-outcome="${escapeHtml(d.outcome)}">${escapeHtml(d.verdict)}</p>` +
    (d.pairs.length === 0 ? "" : pairTable(g)) +
    needed.join("") +
    (fixed === null
      ? ""
      : `<p class="fixed-sample" id="fixed-${escapeHtml(markId(g, "fixed"))}" data-outcome="${
        escapeHtml(g.comparison.outcome)
      }">${escapeHtml(fixed)}</p>`) +
    (d.pairs.length === 0 ? "" : `<p class="method">${escapeHtml(`Method: ${d.method}`)}</p>`) +
    trendChart(g)
}
