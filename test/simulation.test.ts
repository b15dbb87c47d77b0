import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import * as Database from "../src/database/Database.ts"
import { checkAgainstTruth } from "../src/demo/Demo.ts"
import * as FakeSite from "../src/demo/FakeSite.ts"
import { simulate, type SimulationOptions, TRUE_RATES } from "../src/demo/Simulation.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import * as Report from "../src/report/Report.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import { migratedUrl } from "./support/TestDatabase.ts"

/** A smaller chain than the demo's: five weeks of jobs, then the last reaction windows close. */
const SMALL: SimulationOptions = {
  seed: 7,
  clients: 1200,
  start: DateTime.unsafeMake("2026-10-01T00:00:00Z"),
  days: 35,
  windDownDays: 15,
  historyDays: 60
}

describe("the demo's measurement", () => {
  it.live("recovers the simulated truth: every true rate lies inside its measured 95% interval", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const site = yield* FakeSite.make("simulation-key")
      const { report, result } = yield* Effect.gen(function*() {
        const result = yield* simulate(SMALL, site)
        return { result, report: yield* Report.compute({}) }
      }).pipe(
        Effect.provide(
          Layer.mergeAll(ProntoNotify.layer(), SiteSender.layer({ url: site.url, key: Redacted.make(site.key) })).pipe(
            Layer.provideMerge(Database.layerUrl(url))
          )
        ),
        Logger.withMinimumLogLevel(LogLevel.Error)
      )

      // Every kind and action was exercised, and every window has closed.
      const checks = checkAgainstTruth(report)
      const measured = new Set(checks.map((c) => `${c.kind}/${c.action}`))
      for (const [kind, actions] of Object.entries(TRUE_RATES)) {
        for (const action of Object.keys(actions)) expect(measured, `${kind}/${action}`).toContain(`${kind}/${action}`)
      }
      expect(report.groups.flatMap((g) => g.actions).every((a) => a.pending === 0)).toBe(true)

      // The reaction job found exactly the reactions the simulated customers decided...
      for (const { action, kind, sent: decided } of result.simulatedReactions) {
        const found = report.groups
          .filter((g) => g.kind === kind)
          .flatMap((g) => g.actions.filter((a) => a.action === action))
          .reduce((n, a) => n + a.reacted, 0)
        expect(found, `${kind}/${action}`).toBe(decided)
      }
      // ...and each true rate lies inside the measured interval.
      for (const c of checks) expect(c.inside, `${c.kind} ${c.band ?? ""} action ${c.action}: ${JSON.stringify(c)}`).toBe(true)
    }).pipe(Effect.scoped), { timeout: 240_000 })
})
