/**
 * One POST to the Site over `node:http` / `node:https` (Node, and Deno's Node compatibility),
 * below `fetch` because only here can the sender know whether the request was written: a failure
 * before the request was handed to the network (no connection, a refused port, a TLS handshake or
 * certificate failure, a connection that could not be made in time) certainly reached nobody and
 * is a definite failure; a failure after it may have reached the Site and is in doubt. Redirects
 * are never followed. The timeout is a timer of its own, so that it fires inside the engine's
 * uninterruptible delivery, where an interruption could not cut the request short.
 */
import { Duration, Effect } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import * as zlib from "node:zlib"
import { type SendError, SendFailed, SendInDoubt } from "./Sender.ts"

/** The Site's answer: its status, content type and (for a 200) its decoded body. */
export interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: string
}

/** A 200 whose body is longer than this is not the Site's answer (and would only fill memory). */
const MAX_BODY = 256 * 1024

/**
 * Idle keep-alive connections are closed after this long, before a server closes them (Apache's
 * and Node's default is 5 s): a request written to a connection the server has just closed could
 * only be reported in doubt.
 */
const IDLE_CONNECTION = Duration.seconds(2)

export interface Agents {
  readonly http: http.Agent
  readonly https: https.Agent
}

/** Keep-alive agents, one per scheme; `ca` adds certificate authorities to trust (a private CA). */
export const makeAgents = (ca?: string | Buffer): Agents => {
  const options = { keepAlive: true, timeout: Duration.toMillis(IDLE_CONNECTION) }
  return {
    http: new http.Agent(options),
    https: new https.Agent({ ...options, ...(ca === undefined ? {} : { ca }) })
  }
}

export const destroyAgents = (agents: Agents) =>
  Effect.sync(() => {
    agents.http.destroy()
    agents.https.destroy()
  })

const codeOf = (error: Error): string => {
  const code = (error as { code?: unknown }).code
  return typeof code === "string" ? code : error.name
}

/** Posts `form` to `url` (which carries the key: it is never logged or put in an error). */
export const post = (agents: Agents, url: URL, form: string, timeout: Duration.Duration): Effect.Effect<Answer, SendError> =>
  Effect.async<Answer, SendError>((resume) => {
    const secure = url.protocol === "https:"
    let written = false
    let settled = false
    const done = (result: Effect.Effect<Answer, SendError>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(result)
    }
    const failure = (before: string, after: string) =>
      Effect.fail(written ? new SendInDoubt({ reason: after }) : new SendFailed({ reason: before }))

    const request = (secure ? https : http).request(url, {
      method: "POST",
      agent: secure ? agents.https : agents.http,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": Buffer.byteLength(form),
        "accept-encoding": "gzip"
      }
    })
    const timer = setTimeout(() => {
      done(failure(
        `could not hand the request to the Site within ${Duration.format(timeout)}`,
        `no answer from the Site within ${Duration.format(timeout)}`
      ))
      request.destroy()
    }, Duration.toMillis(timeout))

    // Emitted once the whole request has been handed to the operating system.
    request.on("finish", () => {
      written = true
    })
    request.on("error", (error) =>
      done(failure(
        `the Site could not be reached (${codeOf(error)}); the request was not sent`,
        `the connection to the Site failed after the request was sent (${codeOf(error)})`
      )))
    request.on("response", (response) => {
      const status = response.statusCode ?? 0
      const contentType = response.headers["content-type"]
      const brokeOff = () => done(Effect.fail(new SendInDoubt({ reason: "the Site's answer broke off" })))
      response.on("error", brokeOff)
      response.on("aborted", brokeOff)
      if (status !== 200) {
        // Drained so the connection can be reused; what an error page says changes nothing.
        response.resume()
        return done(Effect.succeed({ status, contentType, body: "" }))
      }
      const gzip = /\bgzip\b/i.test(String(response.headers["content-encoding"] ?? ""))
      const body = gzip ? response.pipe(zlib.createGunzip()) : response
      const chunks: Array<Buffer> = []
      let size = 0
      body.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY) {
          done(Effect.fail(new SendInDoubt({ reason: `the Site's answer is longer than ${MAX_BODY} bytes` })))
          request.destroy()
        } else {
          chunks.push(chunk)
        }
      })
      body.on("error", () => done(Effect.fail(new SendInDoubt({ reason: "the Site's answer could not be decoded" }))))
      body.on("end", () => done(Effect.succeed({ status, contentType, body: Buffer.concat(chunks).toString("utf8") })))
    })
    request.end(form)
    // Only reached when a caller runs the send interruptibly: the request is abandoned.
    return Effect.sync(() => {
      clearTimeout(timer)
      request.destroy()
    })
  })
