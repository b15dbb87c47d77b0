import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import * as Database from "../src/database/Database.ts"
import { CAUSED, CHANNEL, DAY_MS, WINDOW_MS } from "../src/demo/Behaviour.ts"
import { measure, toJson } from "../src/demo/Checks.ts"
import * as FakeSite from "../src/demo/FakeSite.ts"
import type { SimulationOptions } from "../src/demo/Simulation.ts"
import { type SentMessage, truthOf } from "../src/demo/Truth.ts"
import { type Cause, causeOf, makeCalendar, makeWorld, type SimClient } from "../src/demo/World.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import { renderHtml } from "../src/report/Html.ts"
import type { ReportData } from "../src/report/Data.ts"
import * as Chromium from "./support/Browser.ts"
import * as Cli from "./support/Cli.ts"
import { migratedUrl } from "./support/TestDatabase.ts"

/**
 * A smaller chain than the demo's: a year of history, five weeks of jobs, then the last reaction
 * windows close. `npm run calibration` runs the same chain over many seeds.
 */
const SMALL: SimulationOptions = {
  seed: 3,
  clients: 1200,
  start: DateTime.unsafeMake("2026-10-01T00:00:00Z"),
  days: 35,
  windDownDays: 15,
  historyDays: 400
}

const zone = DateTime.zoneUnsafeMakeNamed("Europe/Moscow")

describe("the demo's causal model", () => {
  // 12:00 Moscow on 1 October 2026; the client last ordered 20 days before, at 12:00.
  const sent = Date.parse("2026-10-01T09:00:00Z")
  const calendar = makeCalendar(sent - 40 * DAY_MS, sent + 40 * DAY_MS, zone)
  const client = (): SimClient => ({
    id: 1,
    phone: "89160000001",
    birthday: "1990-10-10",
    orders: [sent - 20 * DAY_MS],
    reviews: [],
    filledAt: null,
    nextReview: 0,
    nextFill: 0
  })
  // A greeting, then five days later an invite: one order in the overlap answers both.
  const message = (id: string, kind: "birthday" | "invite", band: string | null, at: number): SentMessage => ({
    id,
    kind,
    band,
    action: 2,
    clientId: 1,
    trigger: `1@${id}`,
    stepMs: at,
    sentMs: at + 1_000
  })
  const greeting = message("1", "birthday", null, sent)
  const invite = message("2", "invite", "B", sent + 5 * DAY_MS + 3_600_000)

  /** The client's world run from the greeting on: whether each window saw an order, over many seeds. */
  const simulated = (runs: number, messages: ReadonlyArray<SentMessage>) => {
    const seen = messages.map(() => ({ ordered: 0, of: 0 }))
    for (let seed = 1; seed <= runs; seed++) {
      const c = client()
      const world = makeWorld(seed, [c], calendar)
      let causes: Array<Cause> = messages.flatMap((m) => {
        const cause = causeOf(seed, m, CAUSED[m.kind][m.action]!, CHANNEL[m.kind], 0)
        return cause === null ? [] : [cause]
      })
      const end = Math.max(...messages.map((m) => m.sentMs)) + WINDOW_MS
      for (let t = calendar.slotOf(sent); t <= end; t += 1_800_000) {
        // A cause of a message not yet sent waits for it; the world's rule drops it if an order came since.
        const due = causes.filter((x) => x.at < t + 1_800_000)
        causes = causes.filter((x) => x.at >= t + 1_800_000)
        world.step(t, due)
      }
      for (const [i, m] of messages.entries()) {
        // A message counts only where it would have been sent: an invite only if the lapse went on.
        if (m.kind === "invite" && c.orders.some((o) => o > sent - 20 * DAY_MS && o <= m.sentMs)) continue
        seen[i]!.of++
        if (c.orders.some((o) => o > m.sentMs && o <= m.sentMs + WINDOW_MS)) seen[i]!.ordered++
      }
    }
    return seen.map((s) => ({ ...s, rate: s.ordered / s.of }))
  }

  it("a message's true rate is the chance of its event: the world agrees over 20 000 runs", () => {
    const [g, i] = truthOf(calendar, () => client(), [greeting, invite])
    const [sg, si] = simulated(20_000, [greeting, invite])
    // Within four standard errors.
    for (const [truth, sim] of [[g!, sg!], [i!, si!]] as const) {
      expect(Math.abs(sim.rate - truth.rate)).toBeLessThan(4 * Math.sqrt((truth.rate * (1 - truth.rate)) / sim.of))
    }
    // Each counts the other's caused order too, and more than without it.
    const [alone] = truthOf(calendar, () => client(), [greeting])
    expect(g!.rate).toBeGreaterThan(alone!.rate + 0.01)
    expect(g!.organic).toBeCloseTo(alone!.organic, 12)
  })

  const simulatedOrganic = (runs: number) => {
    let ordered = 0
    for (let seed = 1; seed <= runs; seed++) {
      const c = client()
      const world = makeWorld(seed, [c], calendar)
      for (let t = calendar.slotOf(sent); t <= sent + WINDOW_MS; t += 1_800_000) world.step(t, [])
      if (c.orders.some((o) => o > sent && o <= sent + WINDOW_MS)) ordered++
    }
    return ordered / runs
  }

  it("without any message, the organic chance is what the world does on its own", () => {
    const [truth] = truthOf(calendar, () => client(), [greeting])
    const organic = simulatedOrganic(20_000)
    expect(Math.abs(organic - truth!.organic)).toBeLessThan(4 * Math.sqrt((truth!.organic * (1 - truth!.organic)) / 20_000))
    expect(truth!.rate).toBeGreaterThan(truth!.organic + 0.1)
  })
})

describe("the demo's measurement", () => {
  it.live("recovers the simulated truth: the reactions found are the world's, and the intervals hold the true rates and uplifts", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const site = yield* FakeSite.make("simulation-key")
      const { checks, reactions, report } = yield* measure(SMALL, site).pipe(
        Effect.provide(
          Layer.mergeAll(ProntoNotify.layer(), SiteSender.layer({ url: site.url, key: Redacted.make(site.key) })).pipe(
            Layer.provideMerge(Database.layerUrl(url))
          )
        ),
        Logger.withMinimumLogLevel(LogLevel.Error)
      )

      // Every window has closed, and the reaction job found exactly the reactions of the simulated world.
      expect(report.groups.flatMap((g) => g.actions).every((a) => a.pending === 0)).toBe(true)
      for (const r of reactions) expect(r.found, `${r.kind} ${r.band ?? ""} ${r.action}`).toBe(r.simulated)

      // Every kind and action has its rate checked; invite (both bands) and birthday their uplift too.
      const names = (measure: string) => checks.filter((c) => c.measure === measure).map((c) => `${c.kind}${c.band ?? ""}/${c.action}`)
      expect(names("rate")).toEqual([
        "feedback/1",
        "feedback/2",
        "inviteA/1",
        "inviteA/2",
        "inviteA/3",
        "inviteB/1",
        "inviteB/2",
        "profile/1",
        "birthday/1",
        "birthday/2"
      ])
      expect(names("uplift")).toEqual(["inviteA/1", "inviteA/2", "inviteA/3", "inviteB/1", "inviteB/2", "birthday/1", "birthday/2"])
      // As `demo --json` prints them: one entry per kind, band, action and measure.
      const json = toJson(checks)
      expect(json).toHaveLength(17)
      for (const entry of json) {
        expect(Object.keys(entry)).toEqual(["kind", "band", "action", "measure", "truth", "low", "high", "inside"])
      }
      expect(JSON.parse(JSON.stringify(json))).toEqual(json)
      // Some reactions were credited to two messages, and the report says so.
      expect(report.groups.flatMap((g) => g.actions).reduce((n, a) => n + a.sharedReactions, 0)).toBeGreaterThan(0)

      // The seed is one where every interval holds its truth (each misses 1 time in 20 by chance;
      // the calibration measures how often over many seeds).
      for (const c of checks) expect(c.inside, `${c.kind} ${c.band ?? ""} ${c.action} ${c.measure}: ${JSON.stringify(c)}`).toBe(true)

      yield* Effect.promise(() => checkPage(report))
    }).pipe(Effect.scoped), { timeout: 300_000 })
})

/**
 * The demo's page in Chromium: for every group its trend, and for every group of several actions the
 * always-valid verdict and, for each pair not yet told apart, the messages still needed.
 */
const checkPage = async (report: ReportData) => {
  const directory = mkdtempSync(join(tmpdir(), "pronto-demo-page-"))
  const file = join(directory, "report.html")
  writeFileSync(file, renderHtml(report))
  const browser = await Chromium.launch()
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(pathToFileURL(file).toString(), { waitUntil: "load" })
    const id = (g: ReportData["groups"][number], suffix: string) => [g.kind, ...(g.band === null ? [] : [g.band]), suffix].join("-")
    let undecided = 0
    for (const g of report.groups) {
      const trend = page.locator(`#trend-${id(g, "trend")}`)
      expect(await trend.isVisible(), `${g.title}: trend`).toBe(true)
      const dots = g.trend.actions.reduce((n, a) => n + a.points.filter((p) => p.rate !== null).length, 0)
      expect(dots, `${g.title}: weeks with decided messages`).toBeGreaterThan(0)
      expect(await trend.locator("circle.trend-mark").count()).toBe(dots)
      if (g.actions.length < 2) continue
      const verdict = page.locator(`#verdict-${id(g, "verdict")}`)
      expect(await verdict.isVisible()).toBe(true)
      expect(await verdict.getAttribute("data-outcome")).toBe(g.decision.outcome)
      expect(await verdict.innerText()).toBe(g.decision.verdict)
      expect(["different", "undecided"]).toContain(g.decision.outcome)
      for (const pair of g.decision.pairs) {
        const row = page.locator(`#pairs-${id(g, "pairs")} tr[data-actions="${pair.actions.join("-")}"]`)
        expect(await row.isVisible()).toBe(true)
        if (pair.outcome === "different") continue
        undecided++
        const needed = page.locator(`#needed-${id(g, pair.actions.join("-"))}`)
        expect(await needed.isVisible()).toBe(true)
        expect(await needed.innerText()).toMatch(/to tell a difference of 3 points with 80% power: (about|enough)/)
        expect(Number(await row.getAttribute("data-more"))).toBe(pair.needed!.moreMessages)
      }
    }
    // The small chain leaves some pairs undecided: the page says how long until they can be told apart.
    expect(undecided).toBeGreaterThan(0)
  } finally {
    await browser.close()
    rmSync(directory, { recursive: true, force: true })
  }
}

describe("pronto-notify demo", () => {
  it.live("refuses a page it could not write before simulating anything: one line, a non-zero exit", () =>
    Effect.gen(function*() {
      const result = yield* Cli.run(["demo", "--json", "--html", "/nonexistent-pronto-dir/report.html"], {})
      expect(result.code).not.toBe(0)
      expect(result.stdout).toBe("")
      expect(result.stderr.trim()).toBe(
        "pronto-notify: --html /nonexistent-pronto-dir/report.html: cannot write in /nonexistent-pronto-dir; give a file in a writable directory"
      )
    }), { timeout: 60_000 })
})
