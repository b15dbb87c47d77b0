/**
 * The HTML report as a reader sees it: rendered for a known dataset, opened from a file in
 * headless Chromium (the system's or @sparticuz/chromium's, see support/Browser.ts; driven by
 * playwright-core), and checked for what it shows.
 */
import { DateTime } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Report from "../src/report/Report.ts"
import { escapeHtml, renderHtml } from "../src/report/Html.ts"
import { newcombeDifference, wilson } from "../src/report/Statistics.ts"
import { trendOf, type WeekCounts } from "../src/report/Trend.ts"
import * as Chromium from "./support/Browser.ts"

const figures = (
  action: number,
  reacted: number,
  none: number,
  extra: { readonly orders?: boolean; readonly baseline?: readonly [number, number]; readonly shared?: number } = {}
): Report.ActionFigures => ({
  action,
  sent: reacted + none + 3,
  reacted,
  sharedReactions: extra.shared ?? 0,
  none,
  pending: 3,
  rate: reacted + none > 0 ? reacted / (reacted + none) : null,
  interval: wilson(reacted, reacted + none) ?? null,
  medianSecondsToReaction: reacted > 0 ? 26 * 3600 : null,
  bonusGranted: action === 2 ? 100 * (reacted + none + 3) : 0,
  reactingOrders: extra.orders ? { count: reacted, total: reacted * 1500 } : null,
  uplift: extra.baseline ? newcombeDifference(reacted, reacted + none, ...extra.baseline) ?? null : null
})

const baseline = (ordered: number, observations: number): Report.Baseline => ({
  method: "comparable clients before the first notification",
  days: { from: "2026-01-13", to: "2026-03-09" },
  observations,
  ordered,
  rate: ordered / observations,
  interval: wilson(ordered, observations)!,
  standardizedBy: null,
  unavailable: null
})

/** One week's counts of an action. */
const week = (action: number, weekOf: string, reacted: number, none: number, pending = 0): WeekCounts =>
  ({ action, week: weekOf, sent: reacted + none + pending, reacted, none })

const group = (
  kind: Report.Group["kind"],
  band: Report.Band | null,
  actions: ReadonlyArray<Report.ActionFigures>,
  base: Report.Baseline | null = null,
  note: string | null = null,
  extra: { readonly sentLastFourWeeks?: number; readonly weeks?: ReadonlyArray<WeekCounts> } = {}
): Report.Group => ({
  kind,
  band,
  title: band === null ? kind : `${kind}, band ${band}`,
  actions,
  comparison: Report.compareActions(actions),
  decision: Report.decide({
    // Every message to a client of its own.
    actions: actions.map((a) => ({ ...a, clusters: null })),
    recent: actions.map((a) => ({ action: a.action, sent: extra.sentLastFourWeeks ?? 0 })),
    windowDays: 14
  }),
  // By default all in one week.
  trend: trendOf(extra.weeks ?? actions.map((a) => week(a.action, "2026-04-20", a.reacted, a.none, a.pending)), actions.map((a) => a.action)),
  baseline: base,
  note
})

const INJECTED = "<script>window.__injected = true</script><img src=\"x.png\"> & 'quotes'"

const data: Report.ReportData = {
  generatedAt: DateTime.unsafeMake("2026-05-01T09:00:00Z"),
  timeZone: "Europe/Moscow",
  from: DateTime.unsafeMake("2026-03-01T00:00:00Z"),
  to: DateTime.unsafeMake("2026-05-01T00:00:00Z"),
  groups: [
    // 60/100 against 30/100: told apart by the always-valid test (p = 0.035). Four weeks, the
    // third without messages, the last with some still pending.
    group("feedback", null, [figures(1, 60, 40), figures(2, 30, 70)], null, null, {
      weeks: [
        week(1, "2026-03-02", 20, 20),
        week(2, "2026-03-02", 10, 30),
        week(1, "2026-03-09", 25, 15),
        week(2, "2026-03-09", 8, 32),
        week(1, "2026-03-23", 15, 5, 3),
        week(2, "2026-03-23", 12, 8, 3)
      ]
    }),
    group("invite", "A", [
      figures(1, 10, 30, { orders: true, baseline: [50, 400], shared: 2 }),
      figures(2, 12, 28, { orders: true, baseline: [50, 400] }),
      figures(3, 8, 32, { orders: true, baseline: [50, 400] })
    ], baseline(50, 400), INJECTED),
    // Band B's baseline (30%) lies above action 1 (25%): a negative uplift. 56 messages of each
    // action in the last four weeks: 4 a day.
    group("invite", "B", [
      figures(1, 5, 15, { orders: true, baseline: [60, 200] }),
      figures(2, 9, 11, { orders: true, baseline: [60, 200] })
    ], baseline(60, 200), null, { sentLastFourWeeks: 56 }),
    group("profile", null, [figures(1, 0, 0)]),
    group("birthday", null, [
      figures(1, 15, 35, { orders: true, baseline: [10, 100] }),
      figures(2, 20, 30, { orders: true, baseline: [10, 100] })
    ], baseline(10, 100))
  ],
  inDoubt: { feedback: 2 },
  observationalNote: Report.OBSERVATIONAL_NOTE
}

interface Mark {
  readonly kind: string
  readonly band: string | null
  readonly action: number
  readonly rate: number
  readonly low: number
  readonly high: number
  readonly centre: number
  readonly visible: boolean
}

describe("the HTML report in Chromium", () => {
  let browser: Browser
  let page: Page
  let directory: string
  const requests: Array<string> = []
  let html: string

  beforeAll(async () => {
    html = renderHtml(data)
    directory = mkdtempSync(join(tmpdir(), "pronto-report-"))
    const file = join(directory, "report.html")
    writeFileSync(file, html)
    browser = await Chromium.launch()
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on("request", (request) => requests.push(request.url()))
    await page.goto(pathToFileURL(file).toString(), { waitUntil: "load" })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    rmSync(directory, { recursive: true, force: true })
  })

  const marks = (kind: string): Promise<ReadonlyArray<Mark>> =>
    page.locator(`circle.rate-mark[data-kind="${kind}"]`).evaluateAll((elements) =>
      elements.map((e) => {
        const box = e.getBoundingClientRect()
        const style = getComputedStyle(e)
        return {
          kind: e.getAttribute("data-kind")!,
          band: e.getAttribute("data-band"),
          action: Number(e.getAttribute("data-action")),
          rate: Number(e.getAttribute("data-rate")),
          low: Number(e.getAttribute("data-low")),
          high: Number(e.getAttribute("data-high")),
          centre: box.left + box.width / 2,
          visible: box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.display !== "none"
        }
      })
    )

  it("shows the title, the period and one section with one chart per kind", async () => {
    expect(await page.title()).toBe("Pronto notifications: effectiveness report")
    expect(await page.locator("h1").innerText()).toBe("Pronto notifications: effectiveness report")
    expect(await page.locator("#report-period").innerText()).toContain(
      "Period: 2026-03-01T00:00:00.000Z to 2026-05-01T00:00:00.000Z (sent, end exclusive); business time zone Europe/Moscow"
    )
    expect(await page.locator("section.kind h2").allInnerTexts()).toEqual(["feedback", "invite", "profile", "birthday"])
    for (const kind of ["feedback", "invite", "profile", "birthday"]) {
      await expect(page.locator(`#chart-${kind} svg`).isVisible()).resolves.toBe(true)
    }
    expect(await page.locator("#kind-invite h3").allInnerTexts()).toEqual(["invite, band A", "invite, band B"])
  })

  it("each action's mark carries its rate and interval, further right for a higher rate", async () => {
    const expected = data.groups.flatMap((g) =>
      g.actions.filter((a) => a.rate !== null).map((a) => ({ kind: g.kind, band: g.band, action: a.action, a }))
    )
    for (const kind of ["feedback", "invite", "birthday"]) {
      const shown = await marks(kind)
      const wanted = expected.filter((e) => e.kind === kind)
      expect(shown.map((m) => [m.band, m.action])).toEqual(wanted.map((w) => [w.band, w.action]))
      for (const [i, m] of shown.entries()) {
        const a = wanted[i]!.a
        expect(m.visible).toBe(true)
        expect(m.rate).toBeCloseTo(a.rate!, 6)
        expect(m.low).toBeCloseTo(a.interval!.low, 6)
        expect(m.high).toBeCloseTo(a.interval!.high, 6)
      }
      // Position follows the rate: one linear scale per chart.
      const sorted = [...shown].sort((p, q) => p.rate - q.rate)
      for (let i = 1; i < sorted.length; i++) {
        if (sorted[i]!.rate > sorted[i - 1]!.rate) expect(sorted[i]!.centre).toBeGreaterThan(sorted[i - 1]!.centre)
      }
      const [lo, hi] = [sorted[0]!, sorted[sorted.length - 1]!]
      const perRate = (hi.centre - lo.centre) / (hi.rate - lo.rate)
      for (const m of shown) expect(m.centre).toBeCloseTo(lo.centre + (m.rate - lo.rate) * perRate, 0)
    }
    // feedback action 1 (60%) is right of action 2 (30%).
    const feedback = await marks("feedback")
    expect(feedback.find((m) => m.action === 1)!.centre).toBeGreaterThan(feedback.find((m) => m.action === 2)!.centre)
    // Nothing decided: no mark, a plain statement instead.
    expect(await page.locator('circle.rate-mark[data-kind="profile"]').count()).toBe(0)
    expect(await page.locator("#chart-profile").innerText()).toContain("no decided notifications yet (3 sent)")
  })

  it("draws the baseline where it exists, at its rate on the same scale", async () => {
    const lines = await page.locator("line.baseline-mark").evaluateAll((elements) =>
      elements.map((e) => ({
        kind: e.getAttribute("data-kind"),
        band: e.getAttribute("data-band"),
        rate: Number(e.getAttribute("data-rate")),
        x: e.getBoundingClientRect().left
      }))
    )
    expect(lines.map((l) => [l.kind, l.band])).toEqual([["invite", "A"], ["invite", "B"], ["birthday", null]])
    expect(lines[0]!.rate).toBeCloseTo(0.125, 6)
    expect(await page.locator("#chart-feedback line.baseline-mark").count()).toBe(0)
    // The birthday baseline (10%) lies left of action 1 (30%), in proportion.
    const birthday = await marks("birthday")
    const [a1, a2] = [birthday.find((m) => m.action === 1)!, birthday.find((m) => m.action === 2)!]
    const perRate = (a2.centre - a1.centre) / (a2.rate - a1.rate)
    expect(lines[2]!.x).toBeCloseTo(a1.centre - (a1.rate - 0.1) * perRate, 0)
  })

  it("draws each action's uplift with its interval beside its rate, on one scale around a zero line", async () => {
    const uplifts = await page.locator("path.uplift-mark").evaluateAll((elements) =>
      elements.map((e) => {
        const box = e.getBoundingClientRect()
        return {
          kind: e.getAttribute("data-kind")!,
          band: e.getAttribute("data-band"),
          action: Number(e.getAttribute("data-action")),
          difference: Number(e.getAttribute("data-difference")),
          low: Number(e.getAttribute("data-low")),
          high: Number(e.getAttribute("data-high")),
          x: box.left + box.width / 2,
          y: box.top + box.height / 2,
          visible: box.width > 0 && box.height > 0
        }
      })
    )
    const expected = data.groups.flatMap((g) =>
      g.actions.flatMap((a) => (a.uplift === null ? [] : [{ kind: g.kind, band: g.band, action: a.action, u: a.uplift }]))
    )
    expect(uplifts.map((u) => [u.kind, u.band, u.action])).toEqual(expected.map((e) => [e.kind, e.band, e.action]))
    expect(expected.map((e) => e.kind)).toEqual(["invite", "invite", "invite", "invite", "invite", "birthday", "birthday"])
    for (const [i, u] of uplifts.entries()) {
      const { u: want } = expected[i]!
      expect(u.visible).toBe(true)
      expect(u.difference).toBeCloseTo(want.difference, 6)
      expect(u.low).toBeCloseTo(want.low, 6)
      expect(u.high).toBeCloseTo(want.high, 6)
    }
    expect(uplifts.find((u) => u.band === "B" && u.action === 1)!.difference).toBeCloseTo(0.25 - 0.3, 6)
    for (const kind of ["invite", "birthday"]) {
      const zero = await page.locator(`#zero-${kind}`).evaluate((e) => e.getBoundingClientRect().left)
      const rates = await marks(kind)
      const shown = uplifts.filter((u) => u.kind === kind)
      for (const u of shown) {
        // Beside the rates: right of the rate panel.
        expect(u.x).toBeGreaterThan(Math.max(...rates.map((m) => m.centre)))
        // Left of zero when negative, right when positive, in proportion.
        expect(Math.sign(u.x - zero)).toBe(Math.sign(u.difference))
      }
      const perPoint = (shown[0]!.x - zero) / shown[0]!.difference
      for (const u of shown) expect(u.x).toBeCloseTo(zero + u.difference * perPoint, 0)
    }
    // Each uplift sits in its rate mark's row.
    const rows = await page.locator("circle.rate-mark[data-kind='invite']").evaluateAll((elements) =>
      elements.map((e) => e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2)
    )
    expect(uplifts.filter((u) => u.kind === "invite").map((u) => Math.round(u.y))).toEqual(rows.map(Math.round))
    // No baseline, no uplift.
    expect(await page.locator('path.uplift-mark[data-kind="feedback"], #zero-feedback').count()).toBe(0)
    expect(await page.locator("#chart-invite figcaption").innerText()).toContain("uplift")
  })

  it("says how many reactions were credited to another message too", async () => {
    const shared = page.locator("#shared-invite-A-shared")
    expect(await shared.getAttribute("data-shared")).toBe("2")
    expect(await shared.innerText()).toBe(
      "Shared reactions: 2 of 30 were also credited to another message (one event after two messages open at once " +
        "counts for each: the first event after a message is its reaction)."
    )
    expect(await page.locator("#shared-profile-shared").count()).toBe(0)
  })

  it("shows the always-valid verdicts: a winner only where that test told the actions apart", async () => {
    const verdict = page.locator("#verdict-feedback-verdict")
    expect(await verdict.getAttribute("data-outcome")).toBe("different")
    // 0.3 apart with a variance of 0.0045: Λ = √(0.0045 / 0.007) · exp(0.0025 × 0.09 / (2 × 0.0045 × 0.007)) = 28.5.
    expect(await verdict.innerText()).toBe(
      "Action 1 gets reactions more often than action 2: 60.0% against 30.0%, +30.0 pp (always-valid 95% interval " +
        "+1.5 .. +58.5 pp; always-valid p = 0.035). This holds however often the report has been read: you can decide."
    )
    expect(await page.locator("#verdict-invite-A-verdict").innerText()).toContain("The data cannot tell yet")
    expect(await page.locator("#verdict-invite-A-verdict").getAttribute("data-outcome")).toBe("undecided")
    expect(await page.locator("#verdict-profile-verdict").innerText()).toBe("One action only: nothing to compare.")
    expect(await page.locator('.verdict[data-outcome="different"]').count()).toBe(1)
    // Verdicts come before the rest of their group; the method is said under each comparison.
    expect(await page.locator("#kind-feedback .group > p").first().getAttribute("id")).toBe("verdict-feedback-verdict")
    expect(await page.locator("#kind-feedback .method").innerText()).toContain("mixture sequential probability ratio test")
    expect(await page.locator("#kind-invite .group[data-band='A'] .method").first().innerText()).toContain("3 pairs, each at 5%/3")
  })

  it("shows the fixed-sample test beside it, labelled as such and never as the verdict", async () => {
    const fixed = page.locator("#fixed-feedback-fixed")
    expect(await fixed.innerText()).toBe(
      "Fixed-sample chi-square test, for reference (valid only when the report is read once, at a size fixed in advance; " +
        "each message counted as independent): chi-square = 18.18, df 1, p < 0.001."
    )
    // Invite band B, 25% against 45%: the fixed-sample figures stay, after the verdict.
    expect(await page.locator("#fixed-invite-B-fixed").innerText()).toContain("p = 0.185")
    expect(await page.locator("#fixed-profile-fixed").count()).toBe(0)
    expect(await page.locator(".fixed-sample").evaluateAll((es) => es.map((e) => e.textContent!.startsWith("Fixed-sample")))).toEqual([
      true,
      true,
      true,
      true
    ])
  })

  it("shows each pair's always-valid and fixed-sample figures and the messages still needed", async () => {
    const head = await page.locator("#pairs-invite-B-pairs thead th").allInnerTexts()
    expect(head).toEqual([
      "actions",
      "difference",
      "always-valid 95% interval",
      "always-valid p",
      "fixed-sample 95% interval",
      "fixed-sample p",
      "design effect",
      "messages still needed (3 pp, 80% power)"
    ])
    const b = data.groups.find((g) => g.kind === "invite" && g.band === "B")!.decision.pairs[0]!
    const row = page.locator("#pairs-invite-B-pairs tbody tr")
    expect(await row.getAttribute("data-actions")).toBe("1-2")
    expect(await row.getAttribute("data-outcome")).toBe("undecided")
    expect(Number(await row.getAttribute("data-p"))).toBeCloseTo(b.alwaysValid!.pValue, 12)
    const more = b.needed!.moreMessages!
    // At 4 messages a day: the days are the more messages over 4, rounded up.
    expect(b.needed).toMatchObject({ decided: 40, pending: 6, perDay: 4, days: Math.ceil(more / 4) })
    expect(Number(await row.getAttribute("data-more"))).toBe(more)
    expect(Number(await row.getAttribute("data-days"))).toBe(Math.ceil(more / 4))
    const cells = await row.locator("td").allInnerTexts()
    expect(cells[0]).toBe("2 − 1")
    expect(cells[1]).toBe("+20.0 pp")
    expect(cells[7]).toBe(`${more.toLocaleString("en").replace(/,/g, "\u2009")} more, ≈ ${Math.ceil(more / 4).toLocaleString("en").replace(/,/g, "\u2009")} days`)
    const needed = page.locator("#needed-invite-B-1-2")
    expect(await needed.isVisible()).toBe(true)
    expect(await needed.innerText()).toMatch(
      /^Actions 1 and 2: to tell a difference of 3 points with 80% power: about [\d\u2009]+ more messages \([\d\u2009]+ decided in all, 40 so far\); about [\d\u2009]+ days at the last four weeks' pace \(4\.0 a day\), then up to 14 days for their reactions\.$/
    )
    // Told apart: nothing more needed. No messages in the four weeks: never at that pace.
    expect(await page.locator("#pairs-feedback-pairs tbody tr td").last().innerText()).toBe("decided")
    expect(await page.locator("#needed-feedback-1-2").count()).toBe(0)
    expect(await page.locator("#needed-birthday-1-2").innerText()).toContain("none of them were sent in the last four weeks")
    expect(await page.locator("#pairs-invite-A-pairs tbody tr").count()).toBe(3)
  })

  it("draws each action's rate per week as a trend, hollow where messages are pending", async () => {
    const points = await page.locator("#trend-feedback-trend circle.trend-mark").evaluateAll((elements) =>
      elements.map((e) => {
        const box = e.getBoundingClientRect()
        return {
          action: Number(e.getAttribute("data-action")),
          week: e.getAttribute("data-week")!,
          rate: Number(e.getAttribute("data-rate")),
          decided: Number(e.getAttribute("data-decided")),
          provisional: e.classList.contains("provisional"),
          fill: getComputedStyle(e).fill,
          x: box.left + box.width / 2,
          y: box.top + box.height / 2,
          visible: box.width > 0 && box.height > 0
        }
      })
    )
    // Three weeks with messages for each action; the empty week has no dot.
    expect(points.map((p) => [p.action, p.week, p.rate, p.decided])).toEqual([
      [1, "2026-03-02", 0.5, 40],
      [1, "2026-03-09", 0.625, 40],
      [1, "2026-03-23", 0.75, 20],
      [2, "2026-03-02", 0.25, 40],
      [2, "2026-03-09", 0.2, 40],
      [2, "2026-03-23", 0.6, 20]
    ])
    expect(points.every((p) => p.visible)).toBe(true)
    expect(points.map((p) => p.provisional)).toEqual([false, false, true, false, false, true])
    expect(points.find((p) => p.provisional)!.fill).toBe("rgb(255, 255, 255)")
    // Later weeks further right, the empty week's place kept; higher rates higher up, on one scale.
    const one = points.filter((p) => p.action === 1)
    const step = one[1]!.x - one[0]!.x
    expect(step).toBeGreaterThan(0)
    expect(one[2]!.x - one[1]!.x).toBeCloseTo(2 * step, 0)
    const perRate = (one[0]!.y - one[1]!.y) / (0.625 - 0.5)
    expect(perRate).toBeGreaterThan(0)
    for (const p of points) expect(p.y).toBeCloseTo(one[0]!.y - (p.rate - 0.5) * perRate, 0)
    const two = points.filter((p) => p.action === 2)
    for (const [i, p] of two.entries()) expect(p.x).toBeCloseTo(one[i]!.x, 3)
    expect(await page.locator("#trend-feedback-trend polyline").count()).toBe(2)
    expect(await page.locator("#trend-feedback-trend").getAttribute("data-weeks")).toBe("4")
    expect(await page.locator("#trend-feedback-trend figcaption").innerText()).toContain("rate of the messages sent in the week")
    // Every group has its trend; a group with nothing decided has no dot.
    expect(await page.locator("figure.trend").count()).toBe(5)
    expect(await page.locator("#trend-profile-trend circle").count()).toBe(0)
  })

  it("shows the tables with the figures, the baselines and the observational note", async () => {
    const row = page.locator("#table-feedback-table tbody tr[data-action='1'] td")
    expect(await row.allInnerTexts()).toEqual(["1", "103", "60", "40", "3", "60.0%", "50.2% .. 69.1%", "100", "26.0 h", "0.00"])
    const inviteHead = await page.locator("#table-invite-B-table thead th").allInnerTexts()
    expect(inviteHead).toEqual([
      "action",
      "sent",
      "reacted",
      "none",
      "pending",
      "rate",
      "95% interval",
      "effective n",
      "median to reaction",
      "bonuses granted",
      "orders",
      "orders total",
      "uplift vs baseline (95%)"
    ])
    expect(await page.locator("#baseline-text-birthday-baseline").innerText()).toContain(
      "Baseline: 10.0% of 100 comparable clients ordered within 14 days"
    )
    const note = page.locator("#observational-note")
    expect(await note.isVisible()).toBe(true)
    expect(await note.innerText()).toContain("Observational estimate.")
    expect(await note.innerText()).toContain("not a randomized holdout")
    expect(await page.locator("#in-doubt").innerText()).toBe("Left in doubt and not counted above: feedback 2.")
  })

  it("escapes text and loads nothing from anywhere", async () => {
    expect(html).not.toContain(INJECTED)
    expect(html).toContain(escapeHtml(INJECTED))
    expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined()
    expect(await page.locator("#kind-invite .note").innerText()).toContain(INJECTED)
    expect(await page.locator("script, link, img, iframe").count()).toBe(0)
    expect(requests.filter((url) => !url.startsWith("file://"))).toEqual([])
    expect(requests).toHaveLength(1)
    expect(html).not.toMatch(/https?:\/\//)
  })

  it("renders the whole page to a screenshot", async () => {
    const png = await page.screenshot({ path: "/tmp/report.png", fullPage: true })
    // A PNG taller than the window: every section was laid out.
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG")
    expect(png.readUInt32BE(20)).toBeGreaterThan(900)
  })
})
