/**
 * What a host's monitoring sees of a run, on the engine's fake layers: the message counters equal
 * the run's summary, outcome by outcome; the POST's histogram counts each POST by how it ended; the
 * run is counted by its result, refusals left out of a slot with the refused; one run's spans, in
 * OpenTelemetry's in-memory exporter, form the tree run → message → Site POST, each with its
 * outcome, with no phone and no text in any attribute; and a host can switch recording off.
 */
import { describe, expect, it } from "@effect/vitest"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Metric, MetricLabel, TestClock } from "effect"
import { RecordingSender, SendFailed, SendInDoubt } from "../src/delivery/Sender.ts"
import * as Run from "../src/engine/Run.ts"
import * as Metrics from "../src/observability/Metrics.ts"
import * as Otel from "../src/observability/Otel.ts"
import { candidates, fakes, listKind, phoneOf } from "./support/EngineFakes.ts"

/** 12:00 in Moscow: within the sending hours. */
const NOON = Date.parse("2026-03-10T09:00:00Z")

/** A counter's value for these labels. */
const count = (metric: typeof Metrics.messages, labels: Record<string, string>) =>
  Effect.map(
    Metric.value(Metric.taggedWithLabels(metric, Object.entries(labels).map(([k, v]) => MetricLabel.make(k, v)))),
    (state) => state.count
  )

/** An OpenTelemetry tracer whose spans end up in memory (what a host's test uses). */
const inMemory = () => {
  const exporter = new InMemorySpanExporter()
  return { exporter, layer: Otel.layerTracer([new SimpleSpanProcessor(exporter)]) }
}

describe("what monitoring sees of a run", () => {
  it.effect("the message counters equal the run's summary, the POSTs are timed by outcome, the run is counted", () =>
    Effect.gen(function*() {
      // A kind of its own, so that the process-wide counters start at zero for it.
      const kind = "observed"
      yield* TestClock.setTime(NOON)
      const recorder = yield* RecordingSender
      // 12 candidates, one with an invalid phone; 2 refused, 2 in doubt, 1 failed, the rest sent.
      yield* recorder.answerWith((m) =>
        [phoneOf("2"), phoneOf("3")].includes(m.phone)
          ? Effect.fail(new SendFailed({ reason: "HTTP 400", lasting: true }))
          : [phoneOf("5"), phoneOf("7")].includes(m.phone)
          ? Effect.fail(new SendInDoubt({ reason: "no answer" }))
          : m.phone === phoneOf("9")
          ? Effect.fail(new SendFailed({ reason: "HTTP 500" }))
          : Effect.void
      )
      const summary = yield* Run.run(listKind(candidates(12, [11]), undefined, kind))
      expect(summary).toMatchObject({ selected: 12, sent: 6, refused: 2, inDoubt: 2, failed: 1, invalid: 1 })

      const total = (outcome: string) =>
        Effect.map(Effect.all([1, 2].map((action) => count(Metrics.messages, { kind, action: String(action), outcome }))), (n) =>
          n.reduce((a, b) => a + b, 0))
      expect(yield* total("sent")).toBe(summary.sent)
      expect(yield* total("refused")).toBe(summary.refused)
      expect(yield* total("in_doubt")).toBe(summary.inDoubt)
      expect(yield* total("failed")).toBe(summary.failed)
      expect(yield* count(Metrics.messages, { kind, action: "none", outcome: "invalid_phone" })).toBe(summary.invalid)
      for (const [action, n] of Object.entries(summary.byAction)) {
        expect(yield* count(Metrics.messages, { kind, action, outcome: "sent" })).toBe(n)
      }

      const posts = (outcome: string) =>
        Effect.map(Metric.value(Metrics.sitePostDuration.pipe(Metric.tagged("outcome", outcome))), (h) => h.count)
      // Every POST is timed once by how it ended (the process-wide histogram holds other tests' POSTs too).
      const before = { sent: yield* posts("sent"), refused: yield* posts("refused") }
      yield* recorder.answerWith((m) => m.phone === phoneOf("2") ? Effect.fail(new SendFailed({ reason: "HTTP 400", lasting: true })) : Effect.void)
      const second = yield* Run.run(listKind(candidates(3), undefined, "observed-again"))
      expect(second).toMatchObject({ sent: 2, refused: 1 })
      expect(yield* posts("sent")).toBe(before.sent + 2)
      expect(yield* posts("refused")).toBe(before.refused + 1)

      expect(yield* count(Metrics.runs, { job: kind, result: "done" })).toBe(1)
      expect(yield* count(Metrics.runs, { job: "observed-again", result: "done" })).toBe(1)
    }).pipe(Effect.provide(fakes())))

  it.effect("one run's spans form the tree run → message → Site POST in an in-memory exporter, no phone or text in any attribute", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOON)
      const recorder = yield* RecordingSender
      yield* recorder.answerWith((m) =>
        m.phone === phoneOf("2") ? Effect.fail(new SendFailed({ reason: "HTTP 400", lasting: true })) : Effect.void
      )
      const { exporter, layer } = inMemory()
      // Read before the layer closes: shutting the exporter down empties it.
      const [summary, spans] = yield* Effect.provide(
        Effect.map(Run.run(listKind(candidates(3), undefined, "traced")), (summary) => [summary, exporter.getFinishedSpans()] as const),
        layer
      )
      expect(summary).toMatchObject({ sent: 2, refused: 1 })
      const named = (name: string) => spans.filter((s) => s.name === name)
      const idOf = (s: (typeof spans)[number]) => s.spanContext().spanId
      const parentOf = (s: (typeof spans)[number]) => spans.find((p) => idOf(p) === s.parentSpanContext?.spanId)
      const [run] = named("pronto-notify/run")
      expect(run).toBeDefined()
      expect(run!.attributes).toMatchObject({ kind: "traced", run: summary.run, sent: 2, refused: 1 })
      const messages = named("pronto-notify/deliver")
      expect(messages).toHaveLength(3)
      for (const message of messages) {
        // Under the run (through the senders' fibers, which keep the run's span as parent).
        let ancestor = parentOf(message)
        while (ancestor !== undefined && ancestor.name !== "pronto-notify/run") ancestor = parentOf(ancestor)
        expect(ancestor).toBe(run)
        expect(message.attributes.kind).toBe("traced")
      }
      expect(messages.map((m) => m.attributes.outcome).sort()).toEqual(["refused", "sent", "sent"])
      const posts = named("pronto-notify/site-post")
      expect(posts).toHaveLength(3)
      for (const post of posts) {
        expect(messages).toContain(parentOf(post))
        expect(post.attributes).toMatchObject({ "messaging.operation.name": "send", "messaging.destination.name": "traced" })
        expect(post.attributes.outcome).toBe(parentOf(post)!.attributes.outcome)
      }
      const texts = ["action 1", "action 2"]
      for (const span of spans) {
        for (const value of Object.values(span.attributes)) {
          for (const c of candidates(3)) expect(String(value)).not.toContain(c.phone.slice(1))
          for (const text of texts) expect(String(value)).not.toContain(text)
        }
      }
    }).pipe(Effect.provide(fakes())))

  it.effect("messages the Site refused earlier in the slot and left out are counted refused, as the summary counts them", () =>
    Effect.gen(function*() {
      const kind = "refused-earlier"
      yield* TestClock.setTime(NOON)
      const recorder = yield* RecordingSender
      yield* recorder.answerWith((m) =>
        m.phone === phoneOf("2") ? Effect.fail(new SendFailed({ reason: "HTTP 400", lasting: true })) : Effect.void
      )
      const first = yield* Run.run(listKind(candidates(3), undefined, kind))
      expect(first).toMatchObject({ sent: 2, refused: 1 })
      // Again in the same slot, the Site answering: the refused one is left out, and counted refused.
      yield* recorder.answerWith(() => Effect.void)
      const second = yield* Run.run(listKind(candidates(3), undefined, kind))
      expect(second.refused).toBe(1)
      expect(yield* count(Metrics.messages, { kind, action: "none", outcome: "refused" })).toBe(1)
      const refusedWithAction = yield* Effect.all([1, 2].map((a) => count(Metrics.messages, { kind, action: String(a), outcome: "refused" })))
      expect(refusedWithAction.reduce((a, b) => a + b, 0) + 1).toBe(first.refused + second.refused)
    }).pipe(Effect.provide(fakes())))

  it.effect("records nothing when a host switches recording off", () =>
    Effect.gen(function*() {
      const kind = "unrecorded"
      yield* TestClock.setTime(NOON)
      const summary = yield* Run.run(listKind(candidates(2), undefined, kind)).pipe(Effect.provideService(Metrics.Recording, false))
      expect(summary.sent).toBe(2)
      expect(yield* count(Metrics.messages, { kind, action: "1", outcome: "sent" })).toBe(0)
      expect(yield* count(Metrics.runs, { job: kind, result: "done" })).toBe(0)
      yield* Run.run(listKind(candidates(2), undefined, kind))
      expect(yield* count(Metrics.runs, { job: kind, result: "done" })).toBe(1)
    }).pipe(Effect.provide(fakes())))
})
