/**
 * A stand-in for the Site on 127.0.0.1 that speaks its protocol exactly (C13) and records what it
 * receives: for the demo and the tests. It answers gzip-encoded `{"mesages_sent":1}` unless told
 * to misbehave.
 */
import { Effect, type Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as zlib from "node:zlib"

export interface ReceivedSms {
  readonly phones: string
  readonly text: string
  readonly key: string | null
  readonly contentType: string | undefined
  readonly rawBody: string
}

/** How the fake Site answers the next requests. */
export type SiteBehaviour =
  | "ok"
  | "http-error"
  /** A proxy in front of the Site timed out (HTTP 504). */
  | "gateway-timeout"
  | "zero-sent"
  | "garbage"
  /** Never answers (the client must time out). */
  | "hang"
  /** Reads the request, then drops the connection without answering. */
  | "drop"

export interface FakeSite {
  readonly url: string
  readonly key: string
  readonly received: Effect.Effect<ReadonlyArray<ReceivedSms>>
  readonly behave: (behaviour: SiteBehaviour | ((sms: ReceivedSms) => SiteBehaviour)) => Effect.Effect<void>
}

export const make = (key: string): Effect.Effect<FakeSite, never, Scope.Scope> =>
  Effect.gen(function*() {
    const received: Array<ReceivedSms> = []
    let behaviour: (sms: ReceivedSms) => SiteBehaviour = () => "ok"

    const server = http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1")
        if (req.method !== "POST" || url.pathname !== "/bonus/send-sms.html") {
          res.writeHead(404).end()
          return
        }
        if (url.searchParams.get("key") !== key) {
          res.writeHead(403).end("bad key")
          return
        }
        const rawBody = Buffer.concat(chunks).toString("utf8")
        const form = new URLSearchParams(rawBody)
        const sms: ReceivedSms = {
          phones: form.get("phones") ?? "",
          text: form.get("text") ?? "",
          key: url.searchParams.get("key"),
          contentType: req.headers["content-type"],
          rawBody
        }
        const answer = behaviour(sms)
        if (answer === "hang") return
        if (answer === "drop") {
          req.socket.destroy()
          return
        }
        if (answer === "gateway-timeout") {
          res.writeHead(504).end("Gateway Time-out")
          return
        }
        if (answer === "http-error") {
          res.writeHead(500).end("Internal Server Error")
          return
        }
        if (answer === "garbage") {
          // An error page that echoes the request, as PHP's can.
          res.writeHead(200, { "content-type": "text/html" }).end(`<html>oops: ${rawBody}</html>`)
          return
        }
        const sent = answer === "ok" ? 1 : 0
        if (sent === 1) received.push(sms)
        const json = JSON.stringify({ mesages_sent: sent })
        const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))
        res.writeHead(200, {
          "content-type": "application/json; charset=UTF-8",
          ...(gzip ? { "content-encoding": "gzip", vary: "Accept-Encoding" } : {})
        })
        res.end(gzip ? zlib.gzipSync(json) : json)
      })
    })

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
      url: `http://127.0.0.1:${port}`,
      key,
      received: Effect.sync(() => [...received]),
      behave: (b) =>
        Effect.sync(() => {
          behaviour = typeof b === "function" ? b : () => b
        })
    }
  })
