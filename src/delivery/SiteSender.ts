/**
 * The Site's SMS/push gateway (C13):
 *
 *   POST {SITE_URL}/bonus/send-sms.html?key=KEY
 *   Content-Type: application/x-www-form-urlencoded
 *   phones=89091582149&text=<URL-encoded UTF-8>
 *
 * Success is HTTP 200 with JSON `{"mesages_sent":1}` (the Site's spelling), possibly gzip-encoded.
 * Anything else is a failed send. A timeout or a connection lost after the request went out is
 * ambiguous and never retried blindly: it is reported in doubt.
 */
// By module: @effect/platform's index also loads its HTTP server, router and sockets.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Deployment from "../config/Deployment.ts"
import { maskPhone } from "./Phone.ts"
import { type OutgoingMessage, Sender, SendFailed, SendInDoubt } from "./Sender.ts"

export const SEND_PATH = "/bonus/send-sms.html"
/** How long the Site may take before a send counts as in doubt. */
export const SEND_TIMEOUT = "10 seconds"

export interface SiteConfig {
  readonly url: string
  readonly key: Redacted.Redacted<string>
  /** How long the Site may take before a send counts as in doubt; default SEND_TIMEOUT. */
  readonly timeout?: Duration.DurationInput
}

export class SiteNotConfigured extends Schema.TaggedError<SiteNotConfigured>()("SiteNotConfigured", {
  message: Schema.String
}) {}

const SiteAnswer = Schema.Struct({ mesages_sent: Schema.Number })
const decodeAnswer = Schema.decodeUnknownEither(Schema.parseJson(SiteAnswer))

/** A proxy's answers that do not tell whether the Site behind it acted. */
const GATEWAY_ERRORS = new Set([502, 504])

/** Errors whose cause shows the request never left: connection refused, host not found. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"])

const errorCode = (cause: unknown): string | undefined => {
  for (let c: unknown = cause, depth = 0; c && typeof c === "object" && depth < 6; depth++) {
    const code = (c as { code?: unknown }).code
    if (typeof code === "string") return code
    c = (c as { cause?: unknown }).cause
  }
  return undefined
}

export const make = (config: SiteConfig) =>
  Effect.gen(function*() {
    // Tracing off: a span would carry the full URL, key included.
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true))
    // Relative to the configured URL, so a Site behind a path prefix (https://host/shop) keeps it.
    const endpoint = new URL(SEND_PATH.slice(1), config.url.endsWith("/") ? config.url : `${config.url}/`)
    const timeout = config.timeout ?? SEND_TIMEOUT

    // The timeout is fetch's own abort signal, not an interruption: the engine runs each message
    // uninterruptibly (a stop waits for it), and an interruption there could not cut the request short.
    const timeoutMs = Duration.toMillis(timeout)
    const noAnswer = new SendInDoubt({ reason: `no answer from the Site within ${Duration.format(timeout)}` })
    const fetchWithTimeout: typeof globalThis.fetch = (input, init) => {
      const deadline = AbortSignal.timeout(timeoutMs)
      return globalThis.fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline })
    }
    const timedOut = (cause: unknown): boolean =>
      cause instanceof Error && cause.name === "TimeoutError" ||
      (typeof cause === "object" && cause !== null && "cause" in cause && timedOut(cause.cause))

    const send = (message: OutgoingMessage) =>
      Effect.gen(function*() {
        const request = HttpClientRequest.post(endpoint.toString()).pipe(
          HttpClientRequest.setUrlParam("key", Redacted.value(config.key)),
          HttpClientRequest.setHeader("accept-encoding", "gzip"),
          HttpClientRequest.bodyUrlParams({ phones: message.phone, text: message.text })
        )
        const response = yield* client.execute(request).pipe(
          Effect.catchTag("RequestError", (error): Effect.Effect<never, SendFailed | SendInDoubt> => {
            if (timedOut(error.cause)) return Effect.fail(noAnswer)
            const code = errorCode(error.cause)
            return code !== undefined && NEVER_CONNECTED.has(code)
              ? Effect.fail(new SendFailed({ reason: `the Site is unreachable (${code})` }))
              : Effect.fail(new SendInDoubt({ reason: `the connection to the Site failed (${code ?? error.reason})` }))
          }),
          Effect.catchTag("ResponseError", () => new SendInDoubt({ reason: "the Site's answer could not be read" }))
        )
        if (response.status !== 200) {
          // Drained so the connection is freed; what an error page says does not change the outcome.
          yield* Effect.ignore(response.text)
          // A gateway's 502 or 504 can come after the Site already sent the SMS.
          return yield* GATEWAY_ERRORS.has(response.status)
            ? new SendInDoubt({ reason: `the Site's gateway answered HTTP ${response.status}` })
            : new SendFailed({ reason: `the Site answered HTTP ${response.status}` })
        }
        const body = yield* response.text.pipe(
          Effect.catchTag("ResponseError", (error) =>
            new SendInDoubt({
              reason: timedOut(error.cause)
                ? "the Site's answer did not arrive in full in time"
                : "the Site's answer could not be read"
            }))
        )
        const answer = decodeAnswer(body)
        if (answer._tag === "Left") {
          // Not the body itself: an error page may echo the request, phone included.
          return yield* new SendFailed({
            reason: `the Site's answer is not {"mesages_sent":n} (${body.length} characters of ${
              response.headers["content-type"] ?? "no content type"
            })`
          })
        }
        if (answer.right.mesages_sent < 1) {
          return yield* new SendFailed({ reason: `the Site sent ${answer.right.mesages_sent} messages` })
        }
      }).pipe(
        Effect.provideService(FetchHttpClient.Fetch, fetchWithTimeout),
        Effect.tapError((error) => Effect.logWarning(`${error.message} (to ${maskPhone(message.phone)})`)),
        Effect.withLogSpan("site-send")
      )

    return { send }
  })

/** The Site Sender with an explicit configuration, over `fetch`. */
export const layer = (config: SiteConfig): Layer.Layer<Sender> =>
  Layer.effect(Sender, make(config)).pipe(Layer.provide(FetchHttpClient.layer))

/** `SITE_URL` and `SITE_KEY` from the environment, each problem named. */
export const siteConfig: Effect.Effect<SiteConfig, SiteNotConfigured> = Effect.gen(function*() {
  const url = yield* Effect.orDie(Deployment.siteUrl)
  const key = yield* Effect.orDie(Deployment.siteKey)
  if (Option.isNone(url)) {
    return yield* new SiteNotConfigured({ message: "set SITE_URL (the Site's http(s) URL, e.g. https://www.pronto24.ru)" })
  }
  if (!/^https?:\/\/./.test(url.value)) {
    return yield* new SiteNotConfigured({
      message: `SITE_URL "${url.value}" is not an http(s) URL, e.g. https://www.pronto24.ru`
    })
  }
  if (Option.isNone(key)) return yield* new SiteNotConfigured({ message: "set SITE_KEY (the Site's key)" })
  return { url: url.value, key: key.value }
})

export const layerConfig: Layer.Layer<Sender, SiteNotConfigured> = Layer.unwrapEffect(Effect.map(siteConfig, layer))
