/**
 * What a host's monitoring sees of a run, on the engine's fake layers: the message counters equal
 * the run's summary, outcome by outcome; the POST's histogram counts each POST by how it ended; the
 * run is counted by its result; and one run's spans form the tree run → message → Site POST, with
 * no phone and no text in any attribute.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, MetricLabel, Option, TestClock, Tracer } from "effect"
import { RecordingSender, SendFailed, SendInDoubt } from "../src/delivery/Sender.ts"
import * as Run from "../src/engine/Run.ts"
import * as Metrics from "../src/observability/Metrics.ts"
import { candidates, fakes, listKind, phoneOf } from "./support/EngineFakes.ts"

/** 12:00 in Moscow: within the sending hours. */
const NOON = Date.parse("2026-03-10T09:00:00Z")

/** A counter's value for these labels. */
const count = (metric: typeof Metrics.messages, labels: Record<string, string>) =>
  Effect.map(
    Metric.value(Metric.taggedWithLabels(metric, Object.entries(labels).map(([k, v]) => MetricLabel.make(k, v)))),
    (state) => state.count
  )

/** A span as recorded: its name, its parent's name and its attributes. */
interface Recorded {
  readonly name: string
  readonly spanId: string
  readonly parentId: string | undefined
  readonly attributes: Map<string, unknown>
}

/** A tracer that keeps every span it is asked for (an in-memory exporter). */
const recordingTracer = (spans: Array<Recorded>) => {
  let next = 0
  return Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const spanId = `span-${++next}`
      const attributes = new Map<string, unknown>()
      spans.push({ name, spanId, parentId: Option.getOrUndefined(Option.map(parent, (p) => p.spanId)), attributes })
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      return {
        _tag: "Span",
        name,
        spanId,
        traceId: "trace",
        parent,
        context,
        get status() {
          return status
        },
        attributes,
        links,
        sampled: true,
        kind,
        end: (endTime, exit) => {
          status = { _tag: "Ended", startTime, endTime, exit }
        },
        attribute: (key, value) => {
          attributes.set(key, value)
        },
        event: () => undefined,
        addLinks: () => undefined
      }
    },
    context: (f) => f()
  })
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

  it.effect("one run's spans form the tree run → message → Site POST, with no phone or text in any attribute", () =>
    Effect.gen(function*() {
      const spans: Array<Recorded> = []
      yield* TestClock.setTime(NOON)
      const summary = yield* Run.run(listKind(candidates(3), undefined, "traced")).pipe(Effect.withTracer(recordingTracer(spans)))
      expect(summary.sent).toBe(3)
      const named = (name: string) => spans.filter((s) => s.name === name)
      const [run] = named("pronto-notify/run")
      expect(run).toBeDefined()
      const messages = named("pronto-notify/deliver")
      expect(messages).toHaveLength(3)
      for (const message of messages) {
        // Under the run (through the senders' fibers, which keep the run's span as parent).
        let ancestor = spans.find((s) => s.spanId === message.parentId)
        while (ancestor !== undefined && ancestor.name !== "pronto-notify/run") {
          ancestor = spans.find((s) => s.spanId === ancestor!.parentId)
        }
        expect(ancestor?.spanId).toBe(run!.spanId)
        expect(message.attributes.get("kind")).toBe("traced")
      }
      const posts = named("pronto-notify/site-post")
      expect(posts).toHaveLength(3)
      for (const post of posts) expect(messages.map((m) => m.spanId)).toContain(post.parentId)
      const texts = ["action 1", "action 2"]
      for (const span of spans) {
        for (const value of span.attributes.values()) {
          for (const c of candidates(3)) expect(String(value)).not.toContain(c.phone)
          for (const text of texts) expect(String(value)).not.toContain(text)
        }
      }
    }).pipe(Effect.provide(fakes())))
})
