/**
 * What the Site's answers and failures mean, against real servers on 127.0.0.1 (http, and https
 * with good and bad certificates): a redirect is never followed, a PHP notice before the JSON is
 * still a success, a 200 that cannot be read is in doubt, and a failure before the request was
 * written is a definite failure. Also the sender over a host's HttpClient, and SITE_URL errors
 * that print no secret.
 */
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted } from "effect"
import { Sender } from "../src/delivery/Sender.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import * as TestSite from "./support/TestSite.ts"

const KEY = "s3cr3t-site-key"
const TEXT = "Все понравилось? Оцени заказ и получи 50 баллов!"
const JSON_HEADERS = { "content-type": "text/html; charset=UTF-8", "x-powered-by": "PHP/7.0.13" }
const NOTICE = "<br />\n<b>Notice</b>:  Undefined index: lang in <b>/var/www/bonus/send-sms.php</b> on line <b>12</b><br />\n"

const send = (layer: Layer.Layer<Sender, SiteSender.SiteNotConfigured>) =>
  Effect.flatMap(Sender, (s) => s.send({ phone: "89091582149", text: TEXT })).pipe(Effect.either, Effect.provide(layer))

const viaNode = (url: string, options: Partial<SiteSender.SiteConfig> = {}) =>
  send(SiteSender.layer({ url, key: Redacted.make(KEY), timeout: "2 seconds", ...options }))

const viaFetch = (url: string) =>
  send(
    SiteSender.layerHttpClient({ url, key: Redacted.make(KEY), timeout: "2 seconds" }).pipe(Layer.provide(FetchHttpClient.layer))
  )

const tagOf = (outcome: Either.Either<void, { readonly _tag: string }>) => (Either.isLeft(outcome) ? outcome.left._tag : "Sent")

describe("the Site's answers (a real server on 127.0.0.1)", () => {
  it.scopedLive("a redirect is never followed: a 3xx is a failed send, and the target gets nothing", () =>
    Effect.gen(function*() {
      const site = yield* TestSite.make()
      site.answer((r) => (r.path === "/elsewhere" ? TestSite.OK : { status: 302, headers: { location: "/elsewhere" } }))
      for (const via of [viaNode, viaFetch]) {
        const outcome = yield* via(site.url)
        expect(tagOf(outcome)).toBe("SendFailed")
        expect(Either.isLeft(outcome) && outcome.left.message).toContain("HTTP 302")
      }
      expect(site.received().map((r) => `${r.method} ${r.path}`)).toEqual([
        "POST /bonus/send-sms.html",
        "POST /bonus/send-sms.html"
      ])
      for (const status of [301, 303, 307, 308]) {
        site.answer(() => ({ status, headers: { location: "/elsewhere" } }))
        expect(tagOf(yield* viaNode(site.url))).toBe("SendFailed")
      }
    }))

  it.scopedLive("a PHP notice before {\"mesages_sent\":1} is a success, plain or gzip-encoded; before 0, a failure", () =>
    Effect.gen(function*() {
      const site = yield* TestSite.make()
      for (const gzip of [false, true]) {
        site.answer(() => ({ status: 200, headers: JSON_HEADERS, body: `${NOTICE}{"mesages_sent":1}\n`, gzip }))
        expect(tagOf(yield* viaNode(site.url))).toBe("Sent")
        expect(tagOf(yield* viaFetch(site.url))).toBe("Sent")
      }
      site.answer(() => ({ status: 200, headers: JSON_HEADERS, body: `${NOTICE}{"mesages_sent":0}` }))
      expect(tagOf(yield* viaNode(site.url))).toBe("SendFailed")
    }))

  it.scopedLive("a 200 without a readable object at its end is in doubt, never a failure to resend", () =>
    Effect.gen(function*() {
      const site = yield* TestSite.make()
      const bodies = [
        `{"mesages_sent":1}${NOTICE}`,
        `<html>Fatal error: phones=89091582149</html>`,
        "",
        `{"mesages_sent":"1"}`,
        `{"error":"busy"}`
      ]
      for (const body of bodies) {
        site.answer(() => ({ status: 200, headers: JSON_HEADERS, body }))
        const outcome = yield* viaNode(site.url)
        expect(tagOf(outcome), body).toBe("SendInDoubt")
        // The body may echo the request: the phone stays out of the error.
        expect(Either.isLeft(outcome) && outcome.left.message).not.toContain("89091582149")
      }
    }))

  it.scopedLive("the other statuses: 4xx and 5xx fail, a gateway's 502 and 504 are in doubt", () =>
    Effect.gen(function*() {
      const site = yield* TestSite.make()
      const expected: ReadonlyArray<[number, string]> = [[400, "SendFailed"], [403, "SendFailed"], [500, "SendFailed"], [
        503,
        "SendFailed"
      ], [502, "SendInDoubt"], [504, "SendInDoubt"], [201, "SendFailed"]]
      for (const [status, tag] of expected) {
        site.answer(() => ({ status, body: "{\"mesages_sent\":1}" }))
        expect(tagOf(yield* viaNode(site.url)), String(status)).toBe(tag)
      }
    }))

  it.scopedLive("a connection dropped after the request was written is in doubt; the Site got it", () =>
    Effect.gen(function*() {
      const site = yield* TestSite.make()
      site.answer(() => "drop")
      expect(tagOf(yield* viaNode(site.url))).toBe("SendInDoubt")
      expect(site.received()).toHaveLength(1)
    }))
})

describe("failures before the request was written are definite (https with bad certificates, refused ports)", () => {
  it.scopedLive("a certificate that is self-signed, expired or for another host fails the send; the Site receives nothing", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[TestSite.Certificate, boolean, string]> = [
        ["self-signed", false, "DEPTH_ZERO_SELF_SIGNED_CERT"],
        ["good", false, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
        ["expired", true, "CERT_HAS_EXPIRED"],
        ["wrong-host", true, "ERR_TLS_CERT_ALTNAME_INVALID"]
      ]
      for (const [certificate, trustTestCa, code] of cases) {
        const site = yield* TestSite.make({ certificate })
        const outcome = yield* viaNode(site.url, trustTestCa ? { ca: TestSite.testCa } : {})
        expect(Either.isLeft(outcome) && outcome.left, certificate).toMatchObject({ _tag: "SendFailed" })
        expect(Either.isLeft(outcome) && outcome.left.message).toContain(code)
        // Through fetch too: a refused certificate never carried the request.
        if (!trustTestCa) expect(tagOf(yield* viaFetch(site.url)), certificate).toBe("SendFailed")
        expect(site.received(), certificate).toEqual([])
      }
    }))

  it.scopedLive("the same https Site with a certificate the sender trusts gets the message", () =>
    Effect.gen(function*() {
      const site = yield* TestSite.make({ certificate: "good" })
      expect(tagOf(yield* viaNode(site.url, { ca: TestSite.testCa }))).toBe("Sent")
      expect(site.received().map((r) => [r.path, r.key])).toEqual([["/bonus/send-sms.html", KEY]])
    }))

  it.live("a port nothing listens on (and one fetch refuses) is a definite failure", () =>
    Effect.gen(function*() {
      for (const url of ["http://127.0.0.1:9", "http://127.0.0.1:1"]) {
        const outcome = yield* viaNode(url)
        expect(Either.isLeft(outcome) && outcome.left, url).toMatchObject({ _tag: "SendFailed" })
        expect(Either.isLeft(outcome) && outcome.left.message).toContain("ECONNREFUSED")
        expect(tagOf(yield* viaFetch(url)), url).toBe("SendFailed")
      }
    }))
})

describe("the sender over the host's HttpClient", () => {
  it.scopedLive("sends through it, and its timeout fires inside an uninterruptible region", () =>
    Effect.gen(function*() {
      const site = yield* TestSite.make()
      expect(tagOf(yield* viaFetch(site.url))).toBe("Sent")
      expect(site.received()).toHaveLength(1)
      site.answer(() => "hang")
      const outcome = yield* Effect.flatMap(Sender, (s) => s.send({ phone: "89091582149", text: TEXT })).pipe(
        Effect.uninterruptible,
        Effect.either,
        Effect.provide(
          SiteSender.layerHttpClient({ url: site.url, key: Redacted.make(KEY), timeout: "300 millis" }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "SendInDoubt" })
    }), { timeout: 10_000 })
})

describe("SITE_URL problems are named without printing its secret parts", () => {
  const refusal = (url: string) =>
    Effect.flip(SiteSender.siteConfig).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["SITE_URL", url], ["SITE_KEY", KEY]]))),
      Effect.map((error) => error.message)
    )

  it.effect("user info, path and query never appear; the scheme and host do", () =>
    Effect.gen(function*() {
      const ftp = yield* refusal("ftp://admin:hunter2@site.example/private/tok3n?key=abc123")
      expect(ftp).toBe("SITE_URL (ftp://site.example) is not an http(s) URL, e.g. https://www.pronto24.ru")
      const withUser = yield* refusal("https://admin:hunter2@www.pronto24.ru/tok3n")
      expect(withUser).toBe(
        "SITE_URL (https://www.pronto24.ru) carries a user name or password; the Site takes only its key (SITE_KEY)"
      )
      const notUrl = yield* refusal("www.pronto24.ru/?key=abc123")
      expect(notUrl).toBe("SITE_URL is not a URL; give the Site's http(s) URL, e.g. https://www.pronto24.ru")
      for (const message of [ftp, withUser, notUrl]) {
        for (const secret of ["hunter2", "admin", "tok3n", "abc123", "private"]) expect(message).not.toContain(secret)
      }
      const fine = yield* SiteSender.siteConfig.pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["SITE_URL", "https://www.pronto24.ru/shop"], ["SITE_KEY", KEY]]))
        )
      )
      expect(fine.url).toBe("https://www.pronto24.ru/shop")
    }))
})
