/**
 * `npm run bench`: every benchmark of issue 13 in turn, each in a process of its own, and one table
 * of their ratios against their bars. Speed and memory are measured here, never asserted in tests.
 *
 *   P1  throughput of the engine against the bare protocol (bench/throughput.ts)
 *   P2  selection at scale: 1M and 10M orders (bench/selection.ts)
 *   P5  peak RSS of a 100,000-order run against a 10,000-order one (bench/memory.ts)
 *   P6  throughput with a slow Site, 8 and 64 messages in flight (bench/latency.ts)
 *   P7  P1's feedback with the metrics and spans a serving process records, against none (bench/observability.ts)
 *
 *   npm run bench [-- --only P1,P5]
 */
import { execFileSync } from "node:child_process"
import * as os from "node:os"
import { adminUrl, query } from "./BenchDatabase.ts"

interface Row {
  readonly measure: string
  readonly value: string
  readonly bar?: string | undefined
  /** Absent for a figure that has no bar of its own (a hand query's time, say). */
  readonly ratio?: number | undefined
  readonly pass?: boolean | undefined
}

const here = new URL(".", import.meta.url).pathname
const only = (() => {
  const i = process.argv.indexOf("--only")
  return i < 0 ? undefined : new Set(process.argv[i + 1]!.split(","))
})()

/** Runs one benchmark script with --json; its last line of output. */
const runJson = <A>(script: string, args: Array<string> = []): A => {
  console.error(`running ${script} ...`)
  const out = execFileSync(process.execPath, ["--import", "tsx", `${here}${script}`, ...args, "--json"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024
  })
  return JSON.parse(out.trim().split("\n").pop()!) as A
}

const rows: Array<Row> = []
const atLeast = (ratio: number, bar: number) => ({ ratio, bar: `≥ ${bar.toFixed(2)}`, pass: ratio >= bar })
const atMost = (ratio: number, bar: number) => ({ ratio, bar: `≤ ${bar.toFixed(2)}`, pass: ratio <= bar })

if (only === undefined || only.has("P1")) {
  const p1 = runJson<Array<{ kind: string; messages: number; engine: number; bare: number; ratio: number; bar: number }>>(
    "throughput.ts"
  )
  for (const r of p1) {
    rows.push({
      measure: `P1 ${r.kind === "invite" ? "invite, gift in the transaction" : r.kind}: engine / bare, 8 in flight`,
      value: `${r.engine} / ${r.bare} messages/s`,
      ...atLeast(r.ratio, r.bar)
    })
  }
}
if (only === undefined || only.has("P2")) {
  const p2 = runJson<{ measures: Array<Row> }>("selection.ts")
  for (const m of p2.measures) rows.push({ ...m, measure: `P2 ${m.measure}` })
}
if (only === undefined || only.has("P5")) {
  const p5 = runJson<{ small: { peakRssMB: number }; large: { peakRssMB: number }; ratio: number; bar: number }>("memory.ts")
  rows.push({
    measure: "P5 peak RSS: 100,000 orders / 10,000",
    value: `${p5.large.peakRssMB} / ${p5.small.peakRssMB} MB`,
    ...atMost(p5.ratio, p5.bar)
  })
}
if (only === undefined || only.has("P6")) {
  const p6 = runJson<Array<{ inFlight: number; latencyMs: number; perSecond: number; ideal: number; ratio: number; bar: number }>>(
    "latency.ts"
  )
  for (const r of p6) {
    rows.push({
      measure: `P6 ${r.inFlight} in flight, Site answers in ${r.latencyMs} ms`,
      value: `${r.perSecond} of ${r.ideal} messages/s`,
      ...atLeast(r.ratio, r.bar)
    })
  }
}

if (only === undefined || only.has("P7")) {
  const p7 = runJson<{ observed: number; bare: number; ratio: number; bar: number; cpuRatio: number }>("observability.ts")
  rows.push({
    measure: "P7 feedback with metrics and spans / without, 8 in flight",
    value: `${p7.observed} / ${p7.bare} messages/s (CPU per message ×${p7.cpuRatio.toFixed(2)})`,
    ...atLeast(p7.ratio, p7.bar)
  })
}

const server = String((await query(adminUrl, "SHOW server_version")).rows[0].server_version)
const cpus = os.cpus()
console.log(
  `\n${new Date().toISOString().slice(0, 10)}: ${cpus.length} cores (${cpus[0]?.model.trim()}), ${
    Math.round(os.totalmem() / 2 ** 30)
  } GiB, Node ${process.version}, PostgreSQL ${server}\n`
)
const width = (f: (r: Row) => string, title: string) => Math.max(title.length, ...rows.map((r) => f(r).length))
const cols: Array<[string, (r: Row) => string]> = [
  ["measure", (r) => r.measure],
  ["value", (r) => r.value],
  ["bar", (r) => r.bar ?? ""],
  ["ratio", (r) => r.ratio?.toFixed(2) ?? ""],
  ["", (r) => (r.pass === undefined ? "" : r.pass ? "ok" : "FAIL")]
]
const widths = cols.map(([title, f]) => width(f, title))
const line = (cells: Array<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
console.log(line(cols.map(([t]) => t)))
console.log(line(widths.map((w) => "-".repeat(w))))
for (const r of rows) console.log(line(cols.map(([, f]) => f(r))))
const failed = rows.filter((r) => r.pass === false).length
console.log(failed === 0 ? "\nevery bar met" : `\n${failed} bar(s) not met`)
