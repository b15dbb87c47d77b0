/**
 * `ClusterJobs.layer` on a real Effect Cluster runner whose message storage is the test database:
 * the crons fire at their slots in the business time zone, each tick runs its job once through
 * `JobRuns`, the next tick waits in SQL storage, and the catch-up singleton runs missed slots on start.
 */
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, type Duration, Effect, Layer, Logger, LogLevel, Option, Schedule } from "effect"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as ClusterJobs from "../src/scheduling/ClusterJobs.ts"
import * as JobRuns from "../src/scheduling/JobRuns.ts"
import { CLUSTER_TABLE_PREFIX, layer as clusterLayer, prepareClusterStorage } from "../src/scheduling/Cluster.ts"
import { RecordingSender, SendFailed } from "../src/delivery/Sender.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"

/** Two seconds before 11:00 in Moscow on 10 March 2026. */
const START = DateTime.unsafeMake("2026-03-10T07:59:58Z")
const SLOT = "2026-03-10T08:00:00.000Z"

class NotYet {
  readonly _tag = "NotYet"
}

/** Polls until `check` finds something. */
const waitFor = <A, E, R>(check: Effect.Effect<Option.Option<A>, E, R>, what: string, within: Duration.DurationInput = "20 seconds") =>
  check.pipe(
    Effect.orDie,
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(new NotYet()), onSome: Effect.succeed })),
    Effect.retry(Schedule.spaced("200 millis")),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`timed out waiting for ${what}`) })
  )

/** Quiet below warnings: no test here reads the runner's info logs. */
const quiet = Layer.merge(Harness.layer, Logger.minimumLogLevel(LogLevel.Warning))

layer(quiet, { timeout: "60 seconds", excludeTestServices: true })("ClusterJobs", (it) => {
  it.effect("runners preparing the cluster storage together both succeed, and the storage lock is released", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // This file's database is fresh: both race to create the tables, one after the other under the lock.
      yield* Effect.all([prepareClusterStorage, prepareClusterStorage], { concurrency: 2 })
      const [tables] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE ${`${CLUSTER_TABLE_PREFIX}_%`}
      `
      expect(tables!.n).toBeGreaterThanOrEqual(4)
      // No session of this database still holds the lock (a pooled connection would re-enter it unseen).
      const holders = yield* sql<{ pid: number }>`
        SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.objsubid = 1
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext('pronto_notify cluster storage')::bigint
      `
      expect(holders).toEqual([])
      // And another preparation takes it at once.
      yield* prepareClusterStorage.pipe(Effect.timeout("5 seconds"))
    }))

  it.effect("ticks at 11:00 Moscow run feedback once; the next tick (12:00) waits in SQL storage; catch-up ran on start", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* insertClient({ id: 1 })
      const order = yield* insertOrder({ clientId: 1, closedAt: "2026-03-10T06:00:00Z" })
      yield* prepareClusterStorage

      yield* Effect.gen(function*() {
        yield* Layer.launch(ClusterJobs.layer.pipe(Layer.provide(clusterLayer(Option.none())))).pipe(Effect.forkScoped)
        const feedback = yield* waitFor(
          Effect.map(JobRuns.list({ job: "feedback" }), (rows) => Option.fromNullable(rows.find((r) => r.status === "done"))),
          "the 11:00 feedback run"
        )
        expect(feedback.slot.toISOString()).toBe(SLOT)
        expect(feedback.summary).toMatchObject({ kind: "feedback", selected: 1, sent: 1 })

        // ClusterCron has stored the next tick of each job, at its next slot in the business zone,
        // as a message delivered then.
        const expected = [
          "ClusterCron/pronto-notify/birthday 2026-03-10T10:00:00.000Z",
          "ClusterCron/pronto-notify/feedback 2026-03-10T09:00:00.000Z",
          "ClusterCron/pronto-notify/invite 2026-03-10T09:00:00.000Z",
          "ClusterCron/pronto-notify/profile 2026-04-01T09:30:00.000Z",
          "ClusterCron/pronto-notify/reactions 2026-03-11T01:00:00.000Z"
        ]
        const pending = sql<{ entityType: string; entityId: string }>`
          SELECT entity_type AS "entityType", entity_id AS "entityId" FROM ${sql(`${CLUSTER_TABLE_PREFIX}_messages`)}
          WHERE NOT processed AND entity_type LIKE 'ClusterCron/%' AND entity_id > ${SLOT} ORDER BY entity_type
        `.pipe(Effect.map((rows) => rows.map((p) => `${p.entityType} ${p.entityId}`)))
        const stored = yield* waitFor(
          Effect.map(pending, (ticks) => Option.some(ticks).pipe(Option.filter((t) => t.join() === expected.join()))),
          "the next ticks"
        ).pipe(Effect.catchAll(() => pending))
        expect(stored).toEqual(expected)
      }).pipe(Effect.scoped, withClockAt(START))

      // On start, the catch-up singleton ran the one missed slot still in its window: 04:00 reactions.
      const rows = yield* JobRuns.list()
      expect(rows.map((r) => `${r.job} ${r.slot.toISOString()} ${r.status} ${r.attempts}`)).toEqual([
        `feedback ${SLOT} done 1`,
        "reactions 2026-03-10T01:00:00.000Z done 1"
      ])
      const sent = yield* Effect.flatMap(RecordingSender, (r) => r.sent)
      expect(sent.length).toBe(1)
      const [stored] = yield* Harness.notifications
      expect(stored).toMatchObject({ orderUid: order, status: "sent" })
    }))

  it.effect("a tick whose send failed is retried within its slot's window, and once the Site recovers the slot is done", () =>
    Effect.gen(function*() {
      const recorder = yield* RecordingSender
      const before = (yield* recorder.sent).length
      yield* insertClient({ id: 2 })
      const order = yield* insertOrder({ clientId: 2, closedAt: "2026-03-11T06:00:00Z" })
      let calls = 0
      yield* recorder.answerWith(() =>
        calls++ === 0 ? Effect.fail(new SendFailed({ reason: "the Site answered HTTP 500" })) : Effect.void
      )
      yield* Effect.gen(function*() {
        yield* Layer.launch(ClusterJobs.layer.pipe(Layer.provide(clusterLayer(Option.none())))).pipe(Effect.forkScoped)
        // The 11:00 tick fails its send, waits 10 s and runs the slot again.
        const feedback = yield* waitFor(
          Effect.map(JobRuns.list({ job: "feedback" }), (rows) =>
            Option.fromNullable(rows.find((r) => r.slot.toISOString() === "2026-03-11T08:00:00.000Z" && r.status === "done"))),
          "the 11:00 feedback slot, retried",
          "45 seconds"
        )
        expect(feedback.attempts).toBe(2)
        expect(feedback.summary).toMatchObject({ selected: 1, sent: 1, failed: 0 })
      }).pipe(Effect.scoped, withClockAt(DateTime.unsafeMake("2026-03-11T07:59:58Z")))
      expect((yield* recorder.sent).slice(before).map((m) => m.phone)).toEqual(["89160000002"])
      expect((yield* Harness.notifications).filter((n) => n.orderUid === order).map((n) => n.status)).toEqual(["sent"])
    }), { timeout: 90_000 })
})
