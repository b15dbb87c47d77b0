import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, type Duration, Effect, Either, Logger, Redacted } from "effect"
import * as FakeSite from "../src/demo/FakeSite.ts"
import { Sender } from "../src/delivery/Sender.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"

const KEY = "s3cr3t-site-key"
const TEXT = "Все понравилось? Оцени заказ и получи 50 баллов!"

/** Sends one message to a fake Site behaving as told, and returns the outcome and the logs. */
const sendVia = (behaviour: FakeSite.SiteBehaviour, options: { readonly timeout?: Duration.DurationInput } = {}) =>
  Effect.gen(function*() {
    const site = yield* FakeSite.make(KEY)
    yield* site.behave(behaviour)
    const logs: Array<string> = []
    const logger = Logger.make(({ message }) => logs.push(JSON.stringify(message)))
    const outcome = yield* Effect.flatMap(Sender, (s) => s.send({ phone: "89091582149", text: TEXT })).pipe(
      Effect.either,
      Effect.provide(SiteSender.layer({ url: site.url, key: Redacted.make(KEY), timeout: options.timeout ?? "2 seconds" })),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger))
    )
    return { outcome, received: yield* site.received, logs }
  }).pipe(Effect.scoped)

describe("Site sender (real HTTP on 127.0.0.1)", () => {
  it.live("posts the exact protocol and accepts a gzip-encoded {\"mesages_sent\":1}", () =>
    Effect.gen(function*() {
      const { outcome, received } = yield* sendVia("ok")
      expect(Either.isRight(outcome)).toBe(true)
      expect(received).toHaveLength(1)
      expect(received[0]).toMatchObject({
        phones: "89091582149",
        text: TEXT,
        key: KEY,
        contentType: expect.stringMatching(/^application\/x-www-form-urlencoded/)
      })
      // The body is a form: phones first, the text URL-encoded UTF-8.
      expect(received[0]!.rawBody.startsWith("phones=89091582149&text=")).toBe(true)
      expect(decodeURIComponent(received[0]!.rawBody.split("&text=")[1]!.replace(/\+/g, " "))).toBe(TEXT)
    }))

  it.live("an HTTP error is a failed send", () =>
    Effect.gen(function*() {
      const { outcome } = yield* sendVia("http-error")
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({
        _tag: "SendFailed",
        reason: "the Site answered HTTP 500"
      })
    }))

  it.live("a gateway's 504 is in doubt: the Site behind it may have sent the SMS", () =>
    Effect.gen(function*() {
      const { outcome } = yield* sendVia("gateway-timeout")
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "SendInDoubt" })
    }))

  it.live("mesages_sent 0 is a failed send", () =>
    Effect.gen(function*() {
      const { outcome } = yield* sendVia("zero-sent")
      expect(Either.isLeft(outcome) && outcome.left._tag).toBe("SendFailed")
    }))

  it.live("a garbage body with HTTP 200 is in doubt: the Site may have sent it (never resent)", () =>
    Effect.gen(function*() {
      const { outcome } = yield* sendVia("garbage")
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "SendInDoubt" })
      expect(Either.isLeft(outcome) && outcome.left.message).toContain("without a readable {\"mesages_sent\":n}")
      // The echoed request (phone, text) stays out of the error.
      expect(Either.isLeft(outcome) && outcome.left.message).not.toContain("89091582149")
    }))

  it.live("no answer within the timeout is in doubt, not failed (never retried blindly)", () =>
    Effect.gen(function*() {
      const { outcome } = yield* sendVia("hang", { timeout: "300 millis" })
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "SendInDoubt" })
    }))

  it.live("the timeout fires even inside an uninterruptible region (as the engine runs a notification)", () =>
    Effect.gen(function*() {
      const site = yield* FakeSite.make(KEY)
      yield* site.behave("hang")
      const outcome = yield* Effect.flatMap(Sender, (s) => s.send({ phone: "89091582149", text: TEXT })).pipe(
        Effect.uninterruptible,
        Effect.either,
        Effect.provide(SiteSender.layer({ url: site.url, key: Redacted.make(KEY), timeout: "300 millis" }))
      )
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "SendInDoubt" })
    }).pipe(Effect.scoped), { timeout: 10_000 })

  it.live("a SITE_URL with a path keeps it", () =>
    Effect.gen(function*() {
      const site = yield* FakeSite.make(KEY)
      const outcome = yield* Effect.flatMap(Sender, (s) => s.send({ phone: "89091582149", text: TEXT })).pipe(
        Effect.either,
        Effect.provide(SiteSender.layer({ url: `${site.url}/shop`, key: Redacted.make(KEY) }))
      )
      // The fake Site serves only /bonus/send-sms.html, so /shop/bonus/send-sms.html gets its 404.
      expect(Either.isLeft(outcome) && outcome.left.message).toBe("send failed: the Site answered HTTP 404")
    }).pipe(Effect.scoped))

  it.live("a connection dropped after the request went out is in doubt", () =>
    Effect.gen(function*() {
      const { outcome } = yield* sendVia("drop")
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "SendInDoubt" })
    }))

  it.live("a Site that refuses connections is a definite failure (the request never left)", () =>
    Effect.gen(function*() {
      // A port that was just free: nothing listens there.
      const url = yield* Effect.scoped(Effect.map(FakeSite.make(KEY), (s) => s.url))
      const outcome = yield* Effect.flatMap(Sender, (s) => s.send({ phone: "89091582149", text: TEXT })).pipe(
        Effect.either,
        Effect.provide(SiteSender.layer({ url, key: Redacted.make(KEY) }))
      )
      expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "SendFailed" })
      expect(Either.isLeft(outcome) && outcome.left.message).toContain("ECONNREFUSED")
    }))

  it.live("the key never appears in errors or logs, and phones are masked", () =>
    Effect.gen(function*() {
      for (const behaviour of ["http-error", "garbage", "drop"] as const) {
        const { outcome, logs } = yield* sendVia(behaviour)
        const text = JSON.stringify(outcome) + logs.join("\n") + (Either.isLeft(outcome) ? outcome.left.message : "")
        expect(text).not.toContain(KEY)
        expect(text).not.toContain("89091582149")
        expect(logs.join("\n")).toContain("8909*****49")
      }
    }))

  it.effect("a missing SITE_URL or SITE_KEY is a clear configuration error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.flatMap(Sender, () => Effect.void).pipe(Effect.provide(SiteSender.layerConfig)))
      expect(error._tag).toBe("SiteNotConfigured")
      expect(error.message).toContain("SITE_URL")
    }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["SITE_KEY", "k"]])))))
})
