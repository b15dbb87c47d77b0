/**
 * A Site on 127.0.0.1 for the sender's tests, over http or https, that records every request it
 * gets (method, path, body) and answers as the test says: the Site's misbehaviours that the demo's
 * FakeSite does not play (a redirect, a PHP notice before the JSON, a bad certificate).
 *
 * The certificates in `tls/` are test fixtures made once with openssl (EC P-256, one key
 * `site.key`): `ca.pem` a test CA; `good.pem` (127.0.0.1, localhost), `wrong-host.pem`
 * (www.example.com) and `expired.pem` (valid in 2000 only) signed by it; `self-signed.pem`
 * (127.0.0.1) signed by itself.
 */
import { Effect, type Scope } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import * as zlib from "node:zlib"

export interface Received {
  readonly method: string
  readonly path: string
  readonly key: string | null
  readonly body: string
  /** When it arrived (real time, ms since the epoch). */
  readonly at: number
}

/**
 * How to answer: a status, headers and a body (gzip-encoded when `gzip`), after `delayMs`; or hang,
 * or drop the connection.
 */
export type Answer =
  | {
    readonly status: number
    readonly headers?: Record<string, string>
    readonly body?: string
    readonly gzip?: boolean
    readonly delayMs?: number
  }
  | "hang"
  | "drop"

export const OK: Answer = { status: 200, headers: { "content-type": "application/json" }, body: "{\"mesages_sent\":1}" }

export type Certificate = "good" | "wrong-host" | "expired" | "self-signed"

const tls = (file: string) => fs.readFileSync(path.join(import.meta.dirname, "tls", file))

/** The test CA that signed `good`, `wrong-host` and `expired`. */
export const testCa = tls("ca.pem")

export interface TestSite {
  readonly url: string
  readonly received: () => ReadonlyArray<Received>
  readonly answer: (f: (request: Received) => Answer) => void
}

export const make = (options: { readonly certificate?: Certificate } = {}): Effect.Effect<TestSite, never, Scope.Scope> =>
  Effect.gen(function*() {
    const received: Array<Received> = []
    let answer: (request: Received) => Answer = () => OK
    const handler: http.RequestListener = (req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1")
        const request: Received = {
          method: req.method ?? "",
          path: url.pathname,
          key: url.searchParams.get("key"),
          body: Buffer.concat(chunks).toString("utf8"),
          at: Date.now()
        }
        received.push(request)
        const a = answer(request)
        if (a === "hang") return
        if (a === "drop") return void req.socket.destroy()
        const body = a.gzip ? zlib.gzipSync(a.body ?? "") : (a.body ?? "")
        setTimeout(
          () => res.writeHead(a.status, { ...a.headers, ...(a.gzip ? { "content-encoding": "gzip" } : {}) }).end(body),
          a.delayMs ?? 0
        )
      })
    }
    const server = options.certificate === undefined
      ? http.createServer(handler)
      : https.createServer({ key: tls("site.key"), cert: tls(`${options.certificate}.pem`) }, handler)
    // A failed handshake is the client's business; the server just goes on.
    server.on("tlsClientError", () => {})
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    return {
      url: `${options.certificate === undefined ? "http" : "https"}://127.0.0.1:${port}`,
      received: () => [...received],
      answer: (f) => {
        answer = f
      }
    }
  })
