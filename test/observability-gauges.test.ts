/**
 * The gauges a serving process samples from the database (`Sampler.sample`), on a test database at
 * fixed instants: the messages in doubt and the oldest one's age follow a run that leaves some and
 * each settle (the settles counted too); reactions pending follow what is sent; a job's slot is
 * missed only once its window has closed without a successful run, and only since the schedule
 * has been kept; each job's last success is when its latest done run finished.
 */
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Metric, MetricLabel } from "effect"
import { RecordingSender, SendInDoubt } from "../src/delivery/Sender.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import * as Metrics from "../src/observability/Metrics.ts"
import * as Sampler from "../src/observability/Sampler.ts"
import * as InDoubt from "../src/store/InDoubt.ts"
import { insertClient, insertOrder, moscow } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const RUN = moscow("2026-03-10", "11:00")

const gauge = (metric: Metric.Metric.Gauge<number>, key: string, value: string) =>
  Effect.map(Metric.value(Metric.tagged(metric, key, value)), (state) => state.value)
const counter = (labels: Record<string, string>) =>
  Effect.map(
    Metric.value(Metric.taggedWithLabels(Metrics.messages, Object.entries(labels).map(([k, v]) => MetricLabel.make(k, v)))),
    (state) => state.count
  )
const later = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString()
const sampleAt = (iso: string) => Effect.zipRight(Harness.at(iso), Sampler.sample)

const jobRun = (job: string, slot: string, status: string, finishedAt: string | null) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO pronto_notify.job_runs (job, slot, status, runner, started_at, finished_at)
      VALUES (${job}, ${new Date(slot)}, ${status}, 'test', ${new Date(slot)}, ${finishedAt === null ? null : new Date(finishedAt)})
    `)

layer(Harness.layer, { timeout: "120 seconds" })("the gauges sampled from the database", (it) => {
  it.effect("messages in doubt and the oldest one's age follow a run and each settle; reactions pending follow the sent", () =>
    Effect.gen(function*() {
      yield* truncateAll
      for (const id of [1, 2, 3, 4, 5]) {
        yield* insertClient({ id })
        yield* insertOrder({ clientId: id, closedAt: moscow("2026-03-10", "09:00") })
      }
      const recorder = yield* RecordingSender
      // Clients 2, 4 and 5 get no answer: in doubt.
      yield* recorder.answerWith((m) =>
        ["2", "4", "5"].some((c) => m.phone.endsWith(`00${c}`)) ? Effect.fail(new SendInDoubt({ reason: "no answer" })) : Effect.void
      )
      yield* sampleAt(moscow("2026-03-10", "10:00"))
      expect(yield* gauge(Metrics.inDoubt, "kind", "feedback")).toBe(0)
      expect(yield* gauge(Metrics.inDoubtOldestAge, "kind", "feedback")).toBe(0)
      expect(yield* gauge(Metrics.reactionsPending, "kind", "feedback")).toBe(0)

      const summary = yield* Effect.zipRight(Harness.at(RUN), Jobs.run("feedback"))
      expect(summary).toMatchObject({ sent: 2, inDoubt: 3 })
      // 90 minutes later: three in doubt, attempted at 11:00; the two sent await their reaction.
      yield* sampleAt(moscow("2026-03-10", "12:30"))
      expect(yield* gauge(Metrics.inDoubt, "kind", "feedback")).toBe(3)
      expect(yield* gauge(Metrics.inDoubtOldestAge, "kind", "feedback")).toBeCloseTo(90 * 60, 0)
      expect(yield* gauge(Metrics.reactionsPending, "kind", "feedback")).toBe(2)
      // The other kinds are there, at zero.
      expect(yield* gauge(Metrics.inDoubt, "kind", "invite")).toBe(0)
      expect((yield* Metric.value(Metrics.sampledAt)).value).toBe(Date.parse(moscow("2026-03-10", "12:30")) / 1000)

      const inDoubt = (yield* Harness.notifications).filter((n) => n.status === "in_doubt")
      const settledBefore = yield* counter({ kind: "feedback", action: String(inDoubt[0]!.performedAction), outcome: "settled_delivered" })
      yield* InDoubt.settleDelivered(inDoubt[0]!.id)
      expect(yield* counter({ kind: "feedback", action: String(inDoubt[0]!.performedAction), outcome: "settled_delivered" })).toBe(
        settledBefore + 1
      )
      yield* sampleAt(moscow("2026-03-10", "12:31"))
      expect(yield* gauge(Metrics.inDoubt, "kind", "feedback")).toBe(2)
      expect(yield* gauge(Metrics.reactionsPending, "kind", "feedback")).toBe(3)

      const notDeliveredBefore = yield* Effect.map(
        Effect.all([1, 2].map((action) => counter({ kind: "feedback", action: String(action), outcome: "settled_not_delivered" }))),
        (n) => n[0]! + n[1]!
      )
      yield* InDoubt.settleAllNotDelivered({ kind: "feedback" })
      yield* sampleAt(moscow("2026-03-10", "12:32"))
      expect(yield* gauge(Metrics.inDoubt, "kind", "feedback")).toBe(0)
      expect(yield* gauge(Metrics.inDoubtOldestAge, "kind", "feedback")).toBe(0)
      expect(
        yield* Effect.map(
          Effect.all([1, 2].map((action) => counter({ kind: "feedback", action: String(action), outcome: "settled_not_delivered" }))),
          (n) => n[0]! + n[1]!
        )
      ).toBe(notDeliveredBefore + 2)
    }))

  it.effect("a slot is missed once its window closed without a successful run, not before the schedule was kept", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // Nothing recorded yet: nothing missed.
      yield* sampleAt(moscow("2026-03-10", "13:30"))
      expect(yield* gauge(Metrics.slotMissed, "job", "feedback")).toBe(0)

      yield* jobRun("feedback", moscow("2026-03-10", "11:00"), "done", later(moscow("2026-03-10", "11:00"), 30))
      yield* jobRun("feedback", moscow("2026-03-10", "12:00"), "failed", later(moscow("2026-03-10", "12:00"), 40))
      // 12:30: the 12:00 slot may still run (within the hour); the latest closed one, 11:00, ran.
      yield* sampleAt(moscow("2026-03-10", "12:30"))
      expect(yield* gauge(Metrics.slotMissed, "job", "feedback")).toBe(0)
      expect(yield* gauge(Metrics.lastSuccess, "job", "feedback")).toBe(Date.parse(later(moscow("2026-03-10", "11:00"), 30)) / 1000)
      // Yesterday's invite slot closed before the schedule was kept: not missed.
      expect(yield* gauge(Metrics.slotMissed, "job", "invite")).toBe(0)

      // 13:00: the 12:00 slot's window has closed, and it failed: missed.
      yield* sampleAt(moscow("2026-03-10", "13:00"))
      expect(yield* gauge(Metrics.slotMissed, "job", "feedback")).toBe(1)
      // Then the 13:00 slot runs, and once its window closes the latest closed slot is done again.
      yield* jobRun("feedback", moscow("2026-03-10", "13:00"), "done", moscow("2026-03-10", "13:01"))
      yield* sampleAt(moscow("2026-03-10", "13:59"))
      expect(yield* gauge(Metrics.slotMissed, "job", "feedback")).toBe(1)
      yield* sampleAt(moscow("2026-03-10", "14:00"))
      expect(yield* gauge(Metrics.slotMissed, "job", "feedback")).toBe(0)
      expect(yield* gauge(Metrics.lastSuccess, "job", "feedback")).toBe(Date.parse(moscow("2026-03-10", "13:01")) / 1000)
      // Today's invite (12:00) is missed only after 22:00, when its window closes with no run.
      expect(yield* gauge(Metrics.slotMissed, "job", "invite")).toBe(0)
      yield* sampleAt(moscow("2026-03-10", "22:00"))
      expect(yield* gauge(Metrics.slotMissed, "job", "invite")).toBe(1)
    }))
})
