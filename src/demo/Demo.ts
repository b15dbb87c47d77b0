/**
 * `pronto-notify demo`: a fresh embedded PostgreSQL, a fake Site on 127.0.0.1, a synthetic chain
 * of a few thousand clients simulated over about two months with every job on its real schedule,
 * and the effectiveness report set against the simulated truth.
 */
import { Console, DateTime, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import * as Database from "../database/Database.ts"
import { installReferenceHostSchema } from "../host/HostSchema.ts"
import type { RunSummary } from "../engine/Job.ts"
import { migrate } from "../store/Migrations.ts"
import * as ProntoNotify from "../host/ProntoNotify.ts"
import * as Report from "../report/Report.ts"
import * as SiteSender from "../delivery/SiteSender.ts"
import * as FakeSite from "./FakeSite.ts"
import { simulate, type SimulationOptions, TRUE_RATES } from "./Simulation.ts"

export const DEMO: SimulationOptions = {
  seed: 20261124,
  clients: 3000,
  start: DateTime.unsafeMake("2026-09-01T00:00:00Z"),
  days: 61,
  windDownDays: 15,
  historyDays: 90
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "    -" : `${(100 * x).toFixed(1).padStart(5)}%`)

export interface TruthCheck {
  readonly kind: string
  readonly band: string | null
  readonly action: number
  readonly decided: number
  readonly rate: number | null
  readonly low: number | null
  readonly high: number | null
  readonly truth: number
  readonly inside: boolean
}

/** Every measured action beside its simulated truth. */
export const checkAgainstTruth = (report: Report.ReportData): ReadonlyArray<TruthCheck> =>
  report.groups.flatMap((group) =>
    group.actions
      .filter((a) => a.reacted + a.none > 0)
      .map((a) => {
        const truth = TRUE_RATES[group.kind]![a.action]!
        const low = a.interval?.low ?? null
        const high = a.interval?.high ?? null
        return {
          kind: group.kind,
          band: group.band,
          action: a.action,
          decided: a.reacted + a.none,
          rate: a.rate,
          low,
          high,
          truth,
          inside: low !== null && high !== null && low <= truth && truth <= high
        }
      })
  )

export const runDemo = Effect.gen(function*() {
  const started = Date.now()
  yield* Console.log("pronto-notify demo: starting embedded PostgreSQL and a fake Site on 127.0.0.1 ...")
  const site = yield* FakeSite.make("demo-site-key")
  const { name: zoneName } = yield* BusinessTimeZone
  const program = Effect.gen(function*() {
    yield* installReferenceHostSchema
    yield* migrate
    yield* Console.log(
      `simulating ${DEMO.clients} clients: ${DEMO.historyDays} days of history, ${DEMO.days} days of jobs on their schedule from ${
        DateTime.formatIsoDate(DEMO.start)
      } (${zoneName}), then ${DEMO.windDownDays} days for the last reactions ...`
    )
    const result = yield* simulate(DEMO, site)
    const messageRuns = result.runs.flatMap((r) => ("kind" in r.summary ? [r.summary as RunSummary] : []))
    const sent = messageRuns.reduce((n, r) => n + r.sent, 0)
    const invalid = messageRuns.reduce((n, r) => n + r.invalid, 0)
    yield* Console.log(
      `\n${result.runs.length} job runs, ${result.orders} orders, ${sent} messages sent (the fake Site received ${result.received.length}), ${invalid} candidates skipped for invalid phones (counted at every run)`
    )

    const report = yield* Report.compute({})
    const simulated = (kind: string, action: number) =>
      result.simulatedReactions.find((r) => r.kind === kind && r.action === action)?.sent ?? 0
    yield* Console.log("\nper kind and action: messages sent, bonuses they granted, reactions the simulated customers")
    yield* Console.log("decided, and reactions the reaction job found")
    yield* Console.log("kind      action    sent  bonuses granted  simulated  measured")
    for (const kind of ["feedback", "invite", "profile", "birthday"] as const) {
      const groups = report.groups.filter((g) => g.kind === kind)
      const actions = [...new Set(groups.flatMap((g) => g.actions.map((a) => a.action)))].sort()
      for (const action of actions) {
        const rows = groups.flatMap((g) => g.actions.filter((a) => a.action === action))
        const sum = (f: (a: Report.ActionFigures) => number) => rows.reduce((n, a) => n + f(a), 0)
        if (sum((a) => a.sent) === 0) continue
        yield* Console.log(
          `${kind.padEnd(9)} ${String(action).padStart(6)} ${String(sum((a) => a.sent)).padStart(7)} ${
            String(Math.round(sum((a) => a.bonusGranted))).padStart(16)
          } ${String(simulated(kind, action)).padStart(10)} ${String(sum((a) => a.reacted)).padStart(9)}`
        )
      }
    }

    const checks = checkAgainstTruth(report)
    yield* Console.log("\nmeasured reaction rate (95% Wilson interval) against the simulated truth")
    yield* Console.log("kind      band  action  decided   rate   interval          truth  inside")
    for (const c of checks) {
      yield* Console.log(
        `${c.kind.padEnd(9)} ${(c.band ?? "").padEnd(5)} ${String(c.action).padStart(6)} ${String(c.decided).padStart(8)} ${pct(c.rate)}  [${pct(c.low)}, ${pct(c.high)}]  ${
          pct(c.truth)
        }  ${c.inside ? "yes" : "NO"}`
      )
    }
    const inside = checks.filter((c) => c.inside).length
    yield* Console.log(
      inside === checks.length
        ? `\nevery true rate (${inside} of ${checks.length}) lies inside its measured 95% interval: the measurement recovers the truth.`
        : `\n${inside} of ${checks.length} true rates lie inside their measured 95% intervals (expect about 1 in 20 outside by chance).`
    )
    for (const group of report.groups) {
      if (group.comparison.outcome === "significant") yield* Console.log(`${group.title}: ${group.comparison.verdict}`)
    }
    yield* Console.log(`\n${Report.renderText(report)}`)
    yield* Console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })
  yield* program.pipe(
    Effect.provide(
      Layer.mergeAll(
        ProntoNotify.layer({ timeZone: zoneName }),
        SiteSender.layer({ url: site.url, key: Redacted.make(site.key) })
      ).pipe(Layer.provideMerge(Database.layerEmbedded("temporary")))
    )
  )
}).pipe(
  Effect.scoped,
  Effect.provide(BusinessTimeZone.layerConfig),
  // The summary is the demo's output; per-message warnings (the synthetic invalid phones) are not.
  Logger.withMinimumLogLevel(LogLevel.Error)
)
