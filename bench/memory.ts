/**
 * P5: the peak RSS of a whole process (not heap samples) that runs feedback over 10,000 orders,
 * and of one that runs it over 100,000; each in a fresh process of its own, on a fresh database,
 * against the Site stub. Candidates are read in keyset pages and sent as they come, so memory must
 * not grow with them.
 *
 *   npx tsx bench/memory.ts [--json]          both sizes, each in a child process
 *   npx tsx bench/memory.ts child <orders>    one run; prints {"orders","sent","peakRssMB"}
 */
import { execFileSync } from "node:child_process"
import { withScratchDatabase } from "./BenchDatabase.ts"
import * as SiteStub from "./SiteStub.ts"
import * as Workload from "./Workload.ts"

export interface MemoryResult {
  readonly orders: number
  readonly sent: number
  readonly peakRssMB: number
  readonly seconds: number
}

const child = async (orders: number) => {
  await withScratchDatabase(async (url) => {
    await Workload.install(url)
    await Workload.seed(url, orders, 0)
    const site = await SiteStub.start()
    const m = await Workload.engine(url, site, "feedback", 8)
    await site.close()
    const result: MemoryResult = {
      orders,
      sent: m.sent,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      seconds: Math.round(m.seconds)
    }
    console.log(JSON.stringify(result))
  })
}

const run = (orders: number): MemoryResult => {
  const out = execFileSync(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "child", String(orders)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  })
  return JSON.parse(out.trim().split("\n").pop()!) as MemoryResult
}

if (process.argv[2] === "child") {
  await child(Number(process.argv[3]))
} else {
  const small = run(10_000)
  const large = run(100_000)
  const ratio = large.peakRssMB / small.peakRssMB
  if (process.argv.includes("--json")) console.log(JSON.stringify({ small, large, ratio, bar: 1.5 }))
  else {
    console.log(`10,000 orders: peak RSS ${small.peakRssMB} MB (${small.seconds} s); 100,000: ${large.peakRssMB} MB (${large.seconds} s)`)
    console.log(`ratio ${ratio.toFixed(2)} (bar 1.5)`)
  }
}
