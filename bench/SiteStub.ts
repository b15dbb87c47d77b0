/**
 * The Site as a benchmark needs it: on 127.0.0.1, it reads each POST, waits `latency` milliseconds
 * and answers the protocol's success (`{"mesages_sent":1}`, gzip-encoded, as the real Site does).
 * It keeps nothing but a count, so that its own memory stays flat however many messages go by.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as zlib from "node:zlib"

export interface SiteStub {
  readonly url: string
  readonly key: string
  /** POSTs answered so far. */
  readonly answered: () => number
  readonly setLatency: (ms: number) => void
  readonly close: () => Promise<void>
}

const ANSWER = zlib.gzipSync(Buffer.from('{"mesages_sent":1}'))

export const start = async (latencyMs = 0): Promise<SiteStub> => {
  let latency = latencyMs
  let answered = 0
  const server = http.createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      const answer = () => {
        answered++
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": ANSWER.length })
        res.end(ANSWER)
      }
      if (latency > 0) setTimeout(answer, latency)
      else answer()
    })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    key: "bench-key",
    answered: () => answered,
    setLatency: (ms) => void (latency = ms),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * The stub in a process of its own, as a real Site is: its work does not share the engine's
 * thread. `setLatency` restarts nothing; it tells the child.
 */
export const startProcess = async (latencyMs = 0): Promise<SiteStub> => {
  const { fork } = await import("node:child_process")
  const child = fork(new URL(import.meta.url).pathname, ["serve", String(latencyMs)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  let answered = 0
  const url = await new Promise<string>((resolve, reject) => {
    child.once("error", reject)
    child.on("message", (m: { url?: string; answered?: number }) => {
      if (m.url !== undefined) resolve(m.url)
      if (m.answered !== undefined) answered = m.answered
    })
  })
  return {
    url,
    key: "bench-key",
    answered: () => answered,
    setLatency: (ms) => void child.send({ latency: ms }),
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve())
        child.kill()
      })
  }
}

if (process.argv[2] === "serve" && process.send !== undefined) {
  const stub = await start(Number(process.argv[3] ?? 0))
  process.on("message", (m: { latency?: number }) => {
    if (m.latency !== undefined) stub.setLatency(m.latency)
  })
  process.send({ url: stub.url })
  setInterval(() => process.send?.({ answered: stub.answered() }), 1_000).unref()
}
