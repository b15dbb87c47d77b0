/**
 * Calibration of the report, in two parts.
 *
 * Decisions (bench/DecisionCalibration.ts): the always-valid test, the fixed-sample one and the
 * intervals read every simulated day, over synthetic data at the demo's volumes; pure computation,
 * a minute or two. No true difference: how often each ever declares one; a true difference of 5
 * points: how often and how soon it is found; repeat clients: how often the intervals hold.
 *
 * Intervals: the report's intervals against the demo's simulated truth: runs a smaller chain
 * than the demo's over many seeds, each on a fresh database, and prints per kind, band, action and
 * measure how often the 95% interval holds the true value (the rate: Wilson; the uplift over the
 * baseline: Newcombe), the mean and the spread (standard deviation) of the estimate's error, and the
 * mean width of the interval (about 3.9 spreads for a 95% interval that fits). A method that is
 * right gives about 95%; below 85% it is a defect of the method, not bad luck.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run calibration -- [seeds] [clients] [days]
 *   npm run calibration -- decisions [seeds]
 *   npm run calibration -- intervals [seeds] [clients] [days]
 *
 * Without a part named, both: the decisions over 500 seeds, then the intervals. The intervals'
 * defaults: 20 seeds (1 … 20), 1 200 clients, 35 days of jobs (with 400 days of history and 15 days
 * for the last reactions, as in test/simulation.test.ts); a seed is a few tens of seconds.
 */
import { DateTime, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import * as Database from "../src/database/Database.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import { measure, type TruthCheck } from "../src/demo/Checks.ts"
import * as FakeSite from "../src/demo/FakeSite.ts"
import type { SimulationOptions } from "../src/demo/Simulation.ts"
import { installReferenceHostSchema } from "../src/host/HostSchema.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import { migrate } from "../src/migrations/Migrations.ts"
import { withScratchDatabase } from "./BenchDatabase.ts"
import { calibrateDecisions } from "./DecisionCalibration.ts"

const part = process.argv[2] === "decisions" || process.argv[2] === "intervals" ? process.argv[2] : "both"
const numbers = process.argv.slice(part === "both" ? 2 : 3)
if (part === "decisions") {
  calibrateDecisions(Number(numbers[0] ?? 500))
  process.exit(0)
}
if (part === "both") {
  calibrateDecisions(500)
  console.log("")
}
const [seeds, clients, days] = [20, 1200, 35].map((fallback, i) => Number(numbers[i] ?? fallback))

const options = (seed: number): SimulationOptions => ({
  seed,
  clients: clients!,
  start: DateTime.unsafeMake("2026-10-01T00:00:00Z"),
  days: days!,
  windDownDays: 15,
  historyDays: 400
})

const once = (seed: number, url: string) =>
  Effect.gen(function*() {
    const site = yield* FakeSite.make("calibration-key")
    yield* Effect.zipRight(installReferenceHostSchema, migrate).pipe(Effect.provide(Database.layerUrl(url)))
    const measured = yield* measure(options(seed), site).pipe(
      Effect.provide(
        Layer.mergeAll(ProntoNotify.layer(), SiteSender.layer({ url: site.url, key: Redacted.make(site.key) })).pipe(
          Layer.provideMerge(Database.layerUrl(url))
        )
      )
    )
    const mismatched = measured.reactions.filter((r) => r.simulated !== r.found)
    if (mismatched.length > 0) throw new Error(`seed ${seed}: reactions found differ from the simulated ones: ${JSON.stringify(mismatched)}`)
    return measured.checks
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error))

const pct = (x: number) => `${(100 * x).toFixed(1)}%`
const pp = (x: number) => `${x >= 0 ? "+" : "-"}${Math.abs(100 * x).toFixed(2)}`

const all: Array<TruthCheck & { readonly seed: number }> = []
const started = Date.now()
for (let seed = 1; seed <= seeds!; seed++) {
  const t0 = Date.now()
  let checks: ReadonlyArray<TruthCheck> = []
  await withScratchDatabase(async (url) => {
    checks = await Effect.runPromise(once(seed, url))
  })
  all.push(...checks.map((c) => ({ ...c, seed })))
  const outside = checks.filter((c) => !c.inside).map((c) =>
    `${c.kind}${c.band ?? ""}/${c.action} ${c.measure} ${pp(c.estimate - c.truth)} pp`
  )
  console.log(
    `seed ${String(seed).padStart(3)}: ${checks.filter((c) => c.inside).length} of ${checks.length} inside` +
      `${outside.length > 0 ? ` (outside: ${outside.join(", ")})` : ""}, ${((Date.now() - t0) / 1000).toFixed(0)} s`
  )
}

const keys = [...new Set(all.map((c) => `${c.kind}|${c.band ?? ""}|${c.action}|${c.measure}`))]
console.log(
  `\n${seeds} seeds of ${clients} clients, ${days} days of jobs, ${((Date.now() - started) / 60000).toFixed(1)} min\n` +
    "kind      band  action  measure  runs  covered  coverage  mean error (pp)  sd error (pp)  mean width (pp)"
)
for (const key of keys) {
  const [kind, band, action, measure] = key.split("|")
  const runs = all.filter((c) => `${c.kind}|${c.band ?? ""}|${c.action}|${c.measure}` === key)
  const covered = runs.filter((c) => c.inside).length
  const mean = (f: (c: TruthCheck) => number) => runs.reduce((s, c) => s + f(c), 0) / runs.length
  const bias = mean((c) => c.estimate - c.truth)
  const spread = Math.sqrt(mean((c) => (c.estimate - c.truth - bias) ** 2))
  console.log(
    `${kind!.padEnd(9)} ${band!.padEnd(4)} ${action!.padStart(7)}  ${measure!.padEnd(7)} ${String(runs.length).padStart(5)} ${
      String(covered).padStart(8)
    } ${pct(covered / runs.length).padStart(9)} ${pp(bias).padStart(16)} ${(100 * spread).toFixed(2).padStart(14)} ${
      (100 * mean((c) => c.high - c.low)).toFixed(1).padStart(16)
    }`
  )
}
for (const measure of ["rate", "uplift"] as const) {
  const runs = all.filter((c) => c.measure === measure)
  console.log(`all ${measure}s: ${runs.filter((c) => c.inside).length} of ${runs.length} intervals hold the truth (${
    pct(runs.filter((c) => c.inside).length / runs.length)
  })`)
}
