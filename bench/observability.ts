/**
 * P7: what recording the metrics and spans costs the engine. Feedback runs through two runners
 * that each keep their layers and pool, alternating over one database and one Site stub, 8 in
 * flight: one with everything a serving process records (Effect's metrics, read by the Prometheus
 * reader and scraped after each run; every span through OpenTelemetry's SDK in batches to an
 * exporter that keeps nothing), one with none (`Metrics.Recording` off, Effect's tracer disabled).
 * One warm-up round each, then the median of the rounds. Bar: the observed run keeps at least 0.95
 * of the bare one's throughput. Also printed: this process's CPU time per message, observed against
 * bare, which what else the machine runs disturbs less than the wall clock.
 *
 *   npx tsx bench/observability.ts [messages=5000] [rounds=5] [--json]
 */
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import * as Metrics from "../src/observability/Metrics.ts"
import * as Otel from "../src/observability/Otel.ts"
import { withScratchDatabase } from "./BenchDatabase.ts"
import * as SiteStub from "./SiteStub.ts"
import * as Workload from "./Workload.ts"

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"))
const MESSAGES = Number(args[0] ?? 5_000)
const ROUNDS = Number(args[1] ?? 5)
const IN_FLIGHT = 8
export const BAR = 0.95

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Takes every span and keeps none: the SDK's whole path, without a collector's. */
let exported = 0
const discarding: SpanExporter = {
  export: (spans: Array<ReadableSpan>, done) => {
    exported += spans.length
    done({ code: 0 }) // ExportResultCode.SUCCESS
  },
  shutdown: () => Promise.resolve()
}

await withScratchDatabase(async (url) => {
  await Workload.install(url)
  await Workload.seed(url, MESSAGES, 0)
  const site = await SiteStub.start()
  let scrapes = 0
  const observed = Workload.runner(url, site, IN_FLIGHT, {
    layer: Layer.merge(Otel.layerTracer([new BatchSpanProcessor(discarding)]), Otel.layerPrometheus),
    run: (run) =>
      Effect.tap(run, () =>
        Effect.flatMap(Otel.Prometheus, ({ scrape }) => Effect.map(scrape, (text) => (scrapes += text.length > 0 ? 1 : 0)))) as typeof run
  })
  const bare = Workload.runner(url, site, IN_FLIGHT, {
    run: (run) => run.pipe(Effect.withTracerEnabled(false), Effect.provideService(Metrics.Recording, false))
  })
  const rates = { observed: [] as Array<number>, bare: [] as Array<number> }
  // This process's CPU time per message, less sensitive than wall time to what else the machine runs.
  const cpu = { observed: [] as Array<number>, bare: [] as Array<number> }
  for (let round = 0; round <= ROUNDS; round++) {
    for (const which of round % 2 === 0 ? ["observed", "bare"] as const : ["bare", "observed"] as const) {
      await Workload.reset(url)
      const before = process.cpuUsage()
      const m = await (which === "observed" ? observed : bare).run("feedback")
      const used = process.cpuUsage(before)
      if (m.sent !== MESSAGES) throw new Error(`${which} sent ${m.sent} of ${MESSAGES}`)
      // Round 0 warms both up and is not counted.
      if (round > 0) rates[which].push(m.perSecond)
      if (round > 0) cpu[which].push((used.user + used.system) / m.sent)
      console.error(`  ${which}: ${Math.round(m.perSecond)} messages/s${round === 0 ? " (warm-up)" : ""}`)
    }
  }
  await observed.dispose()
  await bare.dispose()
  await site.close()
  if (exported < MESSAGES * 2 * ROUNDS || scrapes === 0) throw new Error(`the observed runs recorded too little: ${exported} spans, ${scrapes} scrapes`)
  const result = {
    messages: MESSAGES,
    observed: Math.round(median(rates.observed)),
    bare: Math.round(median(rates.bare)),
    ratio: median(rates.observed) / median(rates.bare),
    bar: BAR,
    cpuRatio: median(cpu.observed) / median(cpu.bare),
    spans: exported
  }
  if (process.argv.includes("--json")) console.log(JSON.stringify(result))
  else console.log(`feedback: observed ${result.observed}/s, bare ${result.bare}/s, ratio ${result.ratio.toFixed(3)} (bar ${BAR}); CPU per message ×${result.cpuRatio.toFixed(3)}`)
})
