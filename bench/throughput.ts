/**
 * P1: the engine against the bare baseline (`bare-protocol.ts`), alternating in one process over
 * one database, the same Site stub, the same messages in flight: feedback, and invite (two of its
 * three turns, and every client without a balance, accrue the gift inside the transaction).
 *
 *   npx tsx bench/throughput.ts [messages=5000] [rounds=3] [--json]
 */
import { withScratchDatabase } from "./BenchDatabase.ts"
import * as SiteStub from "./SiteStub.ts"
import * as Workload from "./Workload.ts"

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"))
const MESSAGES = Number(args[0] ?? 5_000)
const ROUNDS = Number(args[1] ?? 3)
const IN_FLIGHT = 8

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export interface ThroughputResult {
  readonly kind: Workload.BenchKind
  readonly messages: number
  readonly engine: number
  readonly bare: number
  readonly ratio: number
  readonly bar: number
}

await withScratchDatabase(async (url) => {
  await Workload.install(url)
  await Workload.seed(url, MESSAGES, MESSAGES)
  const site = await SiteStub.start()
  const results: Array<ThroughputResult> = []
  for (const [kind, bar] of [["feedback", 0.6], ["invite", 0.5]] as const) {
    // One round of each first, not counted: both measured warm.
    for (const which of ["engine", "bare"] as const) {
      await Workload.reset(url)
      await Workload[which](url, site, kind, IN_FLIGHT)
    }
    const engine: Array<number> = []
    const bare: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating, the bare run first in odd rounds: neither always gets the warmer cache.
      for (const which of round % 2 === 0 ? ["engine", "bare"] as const : ["bare", "engine"] as const) {
        await Workload.reset(url)
        const m = await Workload[which](url, site, kind, IN_FLIGHT)
        if (m.sent !== MESSAGES) throw new Error(`${which} ${kind} sent ${m.sent} of ${MESSAGES}`)
        ;(which === "engine" ? engine : bare).push(m.perSecond)
        console.error(`  ${kind} ${which}: ${Math.round(m.perSecond)} messages/s`)
      }
    }
    const e = median(engine)
    const b = median(bare)
    results.push({ kind, messages: MESSAGES, engine: Math.round(e), bare: Math.round(b), ratio: e / b, bar })
  }
  await site.close()
  if (process.argv.includes("--json")) console.log(JSON.stringify(results))
  else {
    for (const r of results) {
      console.log(`${r.kind}: engine ${r.engine}/s, bare ${r.bare}/s, ratio ${r.ratio.toFixed(2)} (bar ${r.bar})`)
    }
  }
})
