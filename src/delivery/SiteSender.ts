/**
 * The Site Sender: the Site's protocol (`SiteProtocol`, C13) over `node:http`/`node:https`
 * (`layer`, the default: `SitePost` knows whether a request was written, so a failure before it is
 * a definite failure and only one after it is in doubt), or over the host's own `HttpClient`
 * (`layerHttpClient`). The key is `Redacted`: it travels in the URL's query only, and no log, error
 * or span carries that URL.
 *
 * | the Site's answer | outcome |
 * |---|---|
 * | 200 ending with `{"mesages_sent":n}`, n ≥ 1 (a PHP notice before it is fine) | sent |
 * | 200 with `mesages_sent` below 1 | failed |
 * | 200 without a readable object at its end, or cut off | in doubt |
 * | 3xx (never followed), 4xx, 5xx other than 502/504 | failed |
 * | 502, 504 (a gateway: the Site behind it may have acted) | in doubt |
 * | no connection, refused, TLS or certificate failure, before the request was written | failed |
 * | the connection lost, or no answer within the timeout, after the request was written | in doubt |
 */
// By module: @effect/platform's index also loads its HTTP server, router and sockets.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Duration, Effect, Layer, Option, Redacted, Schema, type Scope } from "effect"
import * as Deployment from "../config/Deployment.ts"
import * as HttpUrl from "../config/HttpUrl.ts"
import { maskPhone } from "./Phone.ts"
import { type OutgoingMessage, Sender, type SendError, SendFailed, SendInDoubt } from "./Sender.ts"
import { endpointOf, formOf, judgeBody, judgeStatus, SEND_TIMEOUT } from "./SiteProtocol.ts"
import { destroyAgents, makeAgents, post } from "./SitePost.ts"

export { SEND_PATH, SEND_TIMEOUT } from "./SiteProtocol.ts"

export interface SiteConfig {
  readonly url: string
  readonly key: Redacted.Redacted<string>
  /** How long the Site may take before a send counts as in doubt; default SEND_TIMEOUT. */
  readonly timeout?: Duration.DurationInput
  /** Certificate authorities to trust besides the system's (a Site behind a private CA); `layer` only. */
  readonly ca?: string | Buffer
}

/** The Site's settings cannot serve; the message says which and what to fix, and prints no secret. */
export class SiteNotConfigured extends Schema.TaggedError<SiteNotConfigured>()("SiteNotConfigured", {
  message: Schema.String
}) {}

/**
 * What is wrong with a Site URL, if anything, in words that print none of its secret parts;
 * `setting` names where it came from (`SITE_URL`, or the `url` of a `SiteConfig` in code).
 */
export const urlProblem = (text: string, setting = "SITE_URL"): Option.Option<string> =>
  HttpUrl.problem(text, {
    name: setting,
    what: "the Site's http(s) URL",
    example: "https://www.pronto24.ru",
    secretInstead: `the Site takes only its key (${setting === "SITE_URL" ? "SITE_KEY" : "key"})`
  })

/** The endpoint with the key in its query; a URL that cannot serve is refused with what to fix. */
const endpointWithKey = (config: SiteConfig): Effect.Effect<URL, SiteNotConfigured> =>
  Option.match(urlProblem(config.url, "SiteConfig.url"), {
    onSome: (problem) => Effect.fail(new SiteNotConfigured({ message: `SiteSender: ${problem}` })),
    onNone: () =>
      Effect.sync(() => {
        const url = endpointOf(config.url)
        url.searchParams.set("key", Redacted.value(config.key))
        return url
      })
  })

/** Logs a send that did not succeed, the phone masked; the key is in no message. */
const logged = (message: OutgoingMessage) => <A>(effect: Effect.Effect<A, SendError>) =>
  effect.pipe(
    Effect.tapError((error) => Effect.logWarning(`${error.message} (to ${maskPhone(message.phone)})`))
  )

/** The Site Sender over `node:http`/`node:https` with keep-alive connections, closed with the scope. */
export const make = (config: SiteConfig): Effect.Effect<Sender["Type"], SiteNotConfigured, Scope.Scope> =>
  Effect.gen(function*() {
    const url = yield* endpointWithKey(config)
    const timeout = Duration.decode(config.timeout ?? SEND_TIMEOUT)
    const agents = yield* Effect.acquireRelease(Effect.sync(() => makeAgents(config.ca)), destroyAgents)
    return Sender.of({
      send: (message) =>
        post(agents, url, formOf(message), timeout).pipe(
          Effect.flatMap((answer) =>
            answer.status === 200 ? judgeBody(answer.body, answer.contentType) : Effect.fail(judgeStatus(answer.status))
          ),
          logged(message)
        )
    })
  })

/** The Site Sender with an explicit configuration (the default). */
export const layer = (config: SiteConfig): Layer.Layer<Sender, SiteNotConfigured> => Layer.scoped(Sender, make(config))

/** Error codes that show no connection was made, so the request cannot have been written. */
const NEVER_CONNECTED = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "BAD_PORT",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
])

/** The first error code along the causes; `fetch`'s refusal of a port (a bare "bad port") counts as one. */
const errorCode = (cause: unknown): string | undefined => {
  for (let c: unknown = cause, depth = 0; c && typeof c === "object" && depth < 6; depth++) {
    const code = (c as { code?: unknown }).code
    if (typeof code === "string") return code
    if ((c as { message?: unknown }).message === "bad port") return "BAD_PORT"
    c = (c as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * The Site Sender over the host's `HttpClient`. Redirects are not followed (a `fetch` client is
 * told so; other clients do not follow them by default) and a 3xx is a failed send. What it cannot
 * tell: whether a failed request was written. Only errors whose code shows that no connection was
 * made (refused, host not found, a certificate refused) are definite failures; any other transport
 * error, and the timeout, are in doubt.
 */
export const makeHttpClient = (config: SiteConfig): Effect.Effect<Sender["Type"], SiteNotConfigured, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    // Tracing off: a span would carry the full URL, key included.
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true))
    const url = yield* endpointWithKey(config)
    const timeout = Duration.decode(config.timeout ?? SEND_TIMEOUT)
    const noAnswer = new SendInDoubt({ reason: `no answer from the Site within ${Duration.format(timeout)}` })
    const exchange = (message: OutgoingMessage) =>
      Effect.gen(function*() {
        const request = HttpClientRequest.post(url.toString()).pipe(
          HttpClientRequest.setHeader("accept-encoding", "gzip"),
          HttpClientRequest.bodyText(formOf(message), "application/x-www-form-urlencoded")
        )
        const response = yield* client.execute(request)
        if (response.status !== 200) {
          yield* Effect.ignore(response.text)
          return yield* judgeStatus(response.status)
        }
        const body = yield* Effect.catchAll(response.text, () =>
          new SendInDoubt({ reason: "the Site's answer could not be read" }))
        yield* judgeBody(body, response.headers["content-type"])
      }).pipe(
        Effect.catchTag("RequestError", (error): Effect.Effect<never, SendError> => {
          const code = errorCode(error.cause)
          return code !== undefined && NEVER_CONNECTED.has(code)
            ? Effect.fail(new SendFailed({ reason: `the Site could not be reached (${code}); the request was not sent` }))
            : Effect.fail(new SendInDoubt({ reason: `the connection to the Site failed (${code ?? error.reason})` }))
        }),
        Effect.catchTag("ResponseError", () => new SendInDoubt({ reason: "the Site's answer could not be read" })),
        Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" })
      )
    return Sender.of({
      // Interruptible inside, so that the timeout can abandon the request even in the engine's
      // uninterruptible delivery; nothing else can interrupt it there.
      send: (message) =>
        exchange(message).pipe(
          Effect.interruptible,
          Effect.timeoutFail({ duration: timeout, onTimeout: () => noAnswer }),
          logged(message)
        )
    })
  })

/** The Site Sender over the host's `HttpClient` (see `makeHttpClient` for what it can tell). */
export const layerHttpClient = (config: SiteConfig): Layer.Layer<Sender, SiteNotConfigured, HttpClient.HttpClient> =>
  Layer.effect(Sender, makeHttpClient(config))

/** `SITE_URL` and `SITE_KEY` from the environment, each problem named without printing a secret. */
export const siteConfig: Effect.Effect<SiteConfig, SiteNotConfigured> = Effect.gen(function*() {
  const url = yield* Effect.orDie(Deployment.siteUrl)
  const key = yield* Effect.orDie(Deployment.siteKey)
  if (Option.isNone(url)) {
    return yield* new SiteNotConfigured({ message: "set SITE_URL (the Site's http(s) URL, e.g. https://www.pronto24.ru)" })
  }
  const problem = urlProblem(url.value)
  if (Option.isSome(problem)) return yield* new SiteNotConfigured({ message: problem.value })
  if (Option.isNone(key)) return yield* new SiteNotConfigured({ message: "set SITE_KEY (the Site's key)" })
  return { url: url.value, key: key.value }
})

export const layerConfig: Layer.Layer<Sender, SiteNotConfigured> = Layer.unwrapEffect(Effect.map(siteConfig, layer))
