/**
 * `pronto-notify demo`: a fresh embedded PostgreSQL, a fake Site on 127.0.0.1, a synthetic chain
 * of a few thousand clients under one causal model (Behaviour.ts) with a year of order history and
 * two months of every job on its real schedule, and the effectiveness report set against the
 * simulated truth: every rate and every uplift beside the value it should recover. The report is
 * also written as a page; with `json` the truth checks are printed as JSON and the rest goes to
 * stderr.
 */
import { FileSystem } from "@effect/platform"
import { Console, DateTime, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SiteSender from "../delivery/SiteSender.ts"
import type { RunSummary } from "../engine/Jobs.ts"
import * as Database from "../database/Database.ts"
import { installReferenceHostSchema } from "../host/HostSchema.ts"
import * as ProntoNotify from "../host/ProntoNotify.ts"
import { renderHtml } from "../report/Html.ts"
import * as Report from "../report/Report.ts"
import { migrate } from "../migrations/Migrations.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { measure, toJson, type TruthCheck } from "./Checks.ts"
import * as FakeSite from "./FakeSite.ts"
import { causedKey, type SimulationOptions } from "./Simulation.ts"

export const DEMO: SimulationOptions = {
  seed: 20261124,
  clients: 3000,
  start: DateTime.unsafeMake("2026-09-01T00:00:00Z"),
  days: 61,
  windDownDays: 15,
  historyDays: 400
}

export interface DemoOptions {
  /** Print the truth checks as JSON on stdout; everything else goes to stderr. */
  readonly json: boolean
  /** Where to write the report's page; default: pronto-notify-demo.html in the system's temp directory. */
  readonly html?: string | undefined
}

/** A rate as a percentage, an uplift in signed percentage points; eight characters either way. */
const shown = (c: TruthCheck, x: number) =>
  (c.measure === "rate" ? `${(100 * x).toFixed(1)}%` : `${x < 0 ? "-" : "+"}${Math.abs(100 * x).toFixed(1)} pp`).padStart(8)

const CHECK_HEADER = `${"kind".padEnd(9)} ${"band".padEnd(4)} ${"action".padStart(7)}  ${"measure".padEnd(7)} ${
  "decided".padStart(8)
}  ${"estimate".padStart(8)}  ${"95% interval".padEnd(20)}  ${"truth".padStart(8)}  inside`
const checkLine = (c: TruthCheck) =>
  `${c.kind.padEnd(9)} ${(c.band ?? "").padEnd(4)} ${String(c.action).padStart(7)}  ${c.measure.padEnd(7)} ${
    String(c.decided).padStart(8)
  }  ${shown(c, c.estimate)}  [${shown(c, c.low)}, ${shown(c, c.high)}]  ${shown(c, c.truth)}  ${c.inside ? "yes" : "NO"}`

export const runDemo = (options: DemoOptions) =>
  Effect.gen(function*() {
    const started = Date.now()
    const say = options.json ? Console.error : Console.log
    yield* say("pronto-notify demo: starting embedded PostgreSQL and a fake Site on 127.0.0.1 ...")
    const site = yield* FakeSite.make("demo-site-key")
    const fs = yield* FileSystem.FileSystem
    const { name: zoneName } = yield* BusinessTimeZone
    const program = Effect.gen(function*() {
      yield* installReferenceHostSchema
      yield* migrate
      yield* say(
        `simulating ${DEMO.clients} clients: ${DEMO.historyDays} days of order history, ${DEMO.days} days of jobs on their ` +
          `schedule from ${DateTime.formatIsoDate(DEMO.start)} (${zoneName}), then ${DEMO.windDownDays} days for the last reactions ...`
      )
      const { checks, reactions, report, result } = yield* measure(DEMO, site)
      const messageRuns = result.runs.flatMap((r) => ("kind" in r.summary ? [r.summary as RunSummary] : []))
      const invalid = messageRuns.reduce((n, r) => n + r.invalid, 0)
      yield* say(
        `\n${result.orders.history} orders in the history; then ${result.runs.length} job runs, ${result.orders.period} orders, ` +
          `${result.messages.length} messages sent (the fake Site received ${result.received.length}), ${invalid} candidates ` +
          `skipped for invalid phones (counted at every run)`
      )

      yield* say("\nper kind, band and action: messages sent, events the messages caused (their declared chance coming up),")
      yield* say("reactions in the simulated world (organic and caused) and reactions the reaction job found")
      yield* say("kind      band  action    sent  caused  simulated  found")
      for (const group of report.groups) {
        for (const a of group.actions) {
          const c = reactions.find((r) => r.kind === group.kind && r.band === group.band && r.action === a.action)
          if (c === undefined) continue
          yield* say(
            `${group.kind.padEnd(9)} ${(group.band ?? "").padEnd(4)} ${String(a.action).padStart(7)} ${String(a.sent).padStart(7)} ${
              String(result.caused[causedKey(group.kind, group.band, a.action)] ?? 0).padStart(7)
            } ${String(c.simulated).padStart(10)} ${String(c.found).padStart(6)}`
          )
        }
      }
      yield* say("\nthe report against the simulated truth: each rate (95% Wilson interval) and each uplift over the baseline")
      yield* say("(Newcombe's 95% interval), beside the true value (the uplift's truth: what the messages caused)")
      yield* say(CHECK_HEADER)
      for (const c of checks) yield* say(checkLine(c))
      const inside = checks.filter((c) => c.inside).length
      yield* say(
        inside === checks.length
          ? `\nevery true rate and uplift (${inside} of ${checks.length}) lies inside its 95% interval: the report recovers the truth.`
          : `\n${inside} of ${checks.length} true values lie inside their 95% intervals (expect about 1 in 20 outside by chance).`
      )
      const shared = report.groups.reduce((n, g) => n + g.actions.reduce((m, a) => m + a.sharedReactions, 0), 0)
      yield* say(
        `${shared} reactions were credited to more than one message (one event after two messages open at once); ` +
          "the truth counts them as the report does."
      )
      yield* say(`\n${Report.renderText(report)}`)
      const file = options.html ?? join(tmpdir(), "pronto-notify-demo.html")
      yield* fs.writeFileString(file, renderHtml(report))
      yield* say(`the report as a page: ${file}`)
      if (options.json) yield* Console.log(JSON.stringify(toJson(checks), null, 2))
      yield* say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
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
