/**
 * P6: what the messages in flight buy when the Site is slow. Feedback runs with the Site stub
 * answering after 50 ms and after 200 ms, with 8 and with 64 messages in flight (each run with the
 * pool `poolSizeFor` gives it, kept across the runs of one setting as a runner keeps its pool, after a
 * warm-up run), the stub in a process of its own as the Site is a server of its own; each run sends
 * about six seconds' worth at the ideal rate
 * (in flight ÷ latency). The bar: at least 0.7 of that ideal.
 *
 *   npx tsx bench/latency.ts [--json]
 */
import { withScratchDatabase } from "./BenchDatabase.ts"
import * as SiteStub from "./SiteStub.ts"
import * as Workload from "./Workload.ts"

export interface LatencyResult {
  readonly inFlight: number
  readonly latencyMs: number
  readonly messages: number
  readonly perSecond: number
  readonly ideal: number
  readonly ratio: number
  readonly bar: number
}

const results: Array<LatencyResult> = []
await withScratchDatabase(async (url) => {
  await Workload.install(url)
  // The Site is another machine: its stub runs in a process of its own.
  const site = await SiteStub.startProcess()
  for (const inFlight of [8, 64]) {
    // A runner that has been serving for a while: its pool and its code warm.
    const runner = Workload.runner(url, site, inFlight)
    site.setLatency(10)
    await Workload.reseed(url, inFlight * 30, 0)
    await runner.run("feedback")
    for (const latencyMs of [50, 200]) {
      const ideal = inFlight / (latencyMs / 1000)
      const messages = Math.max(400, Math.round(ideal * 6))
      await Workload.reseed(url, messages, 0)
      site.setLatency(latencyMs)
      const m = await runner.run("feedback")
      if (m.sent !== messages) throw new Error(`sent ${m.sent} of ${messages}`)
      results.push({ inFlight, latencyMs, messages, perSecond: Math.round(m.perSecond), ideal, ratio: m.perSecond / ideal, bar: 0.7 })
      console.error(`  ${inFlight} in flight, ${latencyMs} ms: ${Math.round(m.perSecond)} messages/s`)
    }
    await runner.dispose()
  }
  results.sort((a, b) => a.latencyMs - b.latencyMs || a.inFlight - b.inFlight)
  await site.close()
})
if (process.argv.includes("--json")) console.log(JSON.stringify(results))
else {
  for (const r of results) {
    console.log(
      `${r.inFlight} in flight, Site ${r.latencyMs} ms: ${r.perSecond}/s of ideal ${r.ideal}/s, ratio ${r.ratio.toFixed(2)} (bar 0.7)`
    )
  }
}
