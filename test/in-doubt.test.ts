import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Chunk, Effect, Stream } from "effect"
import * as RunSession from "../src/store/RunSession.ts"
import * as InDoubt from "../src/store/InDoubt.ts"
import { settleDelivered, settleNotDelivered } from "../src/store/InDoubt.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import { RecordingSender, SendInDoubt } from "../src/delivery/Sender.ts"
import { bonusRows, clientMarks, grants, insertClient, insertOrder, instant, moscow } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const FEEDBACK_RUN = moscow("2026-03-10", "11:00")
const INVITE_RUN = moscow("2026-05-20", "12:00")

/** Runs a kind with the Site timing out on every message, then lets it answer again. */
const runInDoubt = (kind: "feedback" | "invite", at: string) =>
  Effect.gen(function*() {
    const recorder = yield* RecordingSender
    yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "no answer within 10s" })))
    const summary = yield* Effect.zipRight(Harness.at(at), Jobs.run(kind))
    yield* recorder.answerWith(() => Effect.void)
    expect(summary.inDoubt).toBe(1)
    const [stored] = yield* Harness.notifications
    return stored!
  })

/** Each stored notification's recorded instants, as ISO strings. */
const instants = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ attemptedAt: Date; postStartedAt: Date | null; sentAt: Date | null; settledAt: Date | null }>`
    SELECT attempted_at AS "attemptedAt", post_started_at AS "postStartedAt", sent_at AS "sentAt", settled_at AS "settledAt"
    FROM pronto_notify.notifications ORDER BY notifications.id
  `).pipe(Effect.map((rows) =>
    rows.map((r) => ({
      attemptedAt: r.attemptedAt.toISOString(),
      postStartedAt: r.postStartedAt?.toISOString() ?? null,
      sentAt: r.sentAt?.toISOString() ?? null,
      settledAt: r.settledAt?.toISOString() ?? null
    }))
  ))

const orderMarks = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ orderUid: string }>`SELECT order_uid::text AS "orderUid" FROM pronto_notify.order_marks`)

layer(Harness.layer, { timeout: "120 seconds" })("settling a message left in doubt", (it) => {
  it.effect("delivered: the mark is set, the message is sent as of its attempt, and it is never sent again", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") })
      const stored = yield* runInDoubt("feedback", FEEDBACK_RUN)
      expect(yield* orderMarks).toEqual([])

      yield* settleDelivered(stored.id)
      const [after] = yield* Harness.notifications
      expect(after).toMatchObject({ id: stored.id, status: "sent", orderUid: uid })
      expect(after!.sentAt?.toISOString()).toBe(new Date(FEEDBACK_RUN).toISOString())
      expect(yield* orderMarks).toEqual([{ orderUid: uid }])
      expect(yield* Effect.zipRight(Harness.at(moscow("2026-03-10", "12:00")), Jobs.run("feedback"))).toMatchObject({
        selected: 0,
        sent: 0
      })
    }))

  it.effect("delivered 15 days late: the gift is granted at the settling instant and expires 14 days after it", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // Lapsed 20 days (band B) with no balance: action 1 falls back to the gift.
      yield* insertClient({ id: 7, lastOrderAt: moscow("2026-04-30", "12:00") })
      yield* insertOrder({ clientId: 7, closedAt: moscow("2026-04-30", "12:00") })
      const stored = yield* runInDoubt("invite", INVITE_RUN)
      expect(stored).toMatchObject({ chosenAction: 1, performedAction: 2 })
      expect(yield* bonusRows).toEqual([])

      const settledAt = new Date(Date.parse(INVITE_RUN) + 15 * 86_400_000).toISOString()
      yield* Harness.at(settledAt)
      yield* settleDelivered(stored.id)
      const rows = yield* bonusRows
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ table: "temporary", clientId: "7", amount: "100.00", reason: "invite" })
      expect(rows[0]!.createdAt.toISOString()).toBe(settledAt)
      expect(rows[0]!.expiresAt?.toISOString()).toBe(new Date(Date.parse(settledAt) + 14 * 86_400_000).toISOString())
      expect((yield* grants)[0]).toMatchObject({ bonusGranted: "100.00" })
      expect((yield* clientMarks)[0]?.inviteLapse?.toISOString()).toBe(new Date(moscow("2026-04-30", "12:00")).toISOString())
      // Sent when its POST started; settled now: each instant is the real one.
      const [times] = yield* instants
      expect(times).toEqual({ attemptedAt: INVITE_RUN, postStartedAt: INVITE_RUN, sentAt: INVITE_RUN, settledAt })
    }))

  it.effect("not delivered: the message waits, its trigger taken, and the next run sends it once", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* insertClient({ id: 1 })
      const uid = yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") })
      const stored = yield* runInDoubt("feedback", FEEDBACK_RUN)
      yield* settleNotDelivered(stored.id)
      expect((yield* Harness.notifications).map((n) => [n.orderUid, n.status])).toEqual([[uid, "resend"]])

      const sentBefore = (yield* recorder.sent).length
      yield* Effect.zipRight(Harness.at(moscow("2026-03-10", "12:00")), Jobs.run("feedback"))
      expect((yield* Harness.notifications).map((n) => [n.orderUid, n.status])).toEqual([[uid, "sent"]])
      expect((yield* recorder.sent).length).toBe(sentBefore + 1)
    }))

  it.effect("a message that is not in doubt cannot be settled, and nothing changes", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") })
      yield* Effect.zipRight(Harness.at(FEEDBACK_RUN), Jobs.run("feedback"))
      const [sent] = yield* Harness.notifications
      const notInDoubt = yield* Effect.flip(settleNotDelivered(sent!.id))
      expect(notInDoubt.message).toBe(`notification ${sent!.id} is sent, not in doubt: nothing to settle`)
      expect((yield* Effect.flip(settleDelivered(sent!.id)))._tag).toBe("NotInDoubt")
      expect((yield* Effect.flip(settleDelivered("999999"))).message).toBe("there is no notification 999999")
      expect((yield* Harness.notifications).map((n) => n.status)).toEqual(["sent"])
    }))

  it.effect("in bulk: listed, and settled by kind and attempt time or by run, set by set", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const recorder = yield* RecordingSender
      yield* recorder.answerWith(() => Effect.fail(new SendInDoubt({ reason: "a gateway's 502" })))
      for (const id of [1, 2, 3, 4, 5]) yield* insertClient({ id })
      const early = [
        yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") }),
        yield* insertOrder({ clientId: 2, closedAt: moscow("2026-03-10", "09:10") }),
        yield* insertOrder({ clientId: 3, closedAt: moscow("2026-03-10", "09:20") })
      ]
      const first = yield* Effect.zipRight(Harness.at(FEEDBACK_RUN), Jobs.run("feedback"))
      const late = [
        yield* insertOrder({ clientId: 4, closedAt: moscow("2026-03-10", "11:10") }),
        yield* insertOrder({ clientId: 5, closedAt: moscow("2026-03-10", "11:20") })
      ]
      const second = yield* Effect.zipRight(Harness.at(moscow("2026-03-10", "12:00")), Jobs.run("feedback"))
      yield* recorder.answerWith(() => Effect.void)
      expect([first.inDoubt, second.inDoubt]).toEqual([3, 2])
      expect(first.run).not.toBe(second.run)

      const listed = yield* Stream.runCollect(InDoubt.list()).pipe(Effect.map(Chunk.toReadonlyArray))
      expect(listed.map((m) => [m.orderUid, m.run, m.postStartedAt !== null])).toEqual([
        ...early.map((uid) => [uid, first.run, true]),
        ...late.map((uid) => [uid, second.run, true])
      ])
      const window = { kind: "feedback", from: instant(moscow("2026-03-10", "10:59")), to: instant(moscow("2026-03-10", "11:30")) }
      expect(Chunk.size(yield* Stream.runCollect(InDoubt.list(window)))).toBe(3)
      expect(Chunk.size(yield* Stream.runCollect(InDoubt.list({ kind: "invite" })))).toBe(0)

      // The second run's messages did not go out: forgotten, and the next run sends them.
      expect((yield* InDoubt.settleAllNotDelivered({ run: second.run })).settled).toBe(2)
      expect(yield* Effect.zipRight(Harness.at(moscow("2026-03-10", "13:00")), Jobs.run("feedback"))).toMatchObject({
        selected: 2,
        sent: 2
      })
      // The first run's did: settled as delivered, marked, and never sent again.
      const settledAt = moscow("2026-03-10", "14:00")
      yield* Harness.at(settledAt)
      const settled = yield* InDoubt.settleAllDelivered(window)
      expect(settled.settled).toBe(3)
      expect((yield* orderMarks).map((m) => m.orderUid).sort()).toEqual([...early, ...late].sort())
      expect((yield* Harness.notifications).map((n) => n.status)).toEqual(["sent", "sent", "sent", "sent", "sent"])
      expect((yield* instants).slice(0, 3).map((t) => [t.sentAt, t.settledAt])).toEqual(
        early.map(() => [FEEDBACK_RUN, settledAt])
      )
      expect(yield* Stream.runCollect(InDoubt.list())).toEqual(Chunk.empty())
      expect((yield* InDoubt.settleAllDelivered(window)).settled).toBe(0)
    }))

  it.effect("a message of a run still going is neither listed nor settled; with ids, nothing is settled unless all can be", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-10", "09:00") })
      const ended = yield* runInDoubt("feedback", FEEDBACK_RUN)
      const sql = yield* SqlClient.SqlClient
      yield* Effect.scoped(Effect.gen(function*() {
        const live = yield* RunSession.acquire
        const [{ id }] = yield* sql<{ id: string }>`
          INSERT INTO pronto_notify.notifications (kind, action_set, trigger_key, client_id, phone, chosen_action,
            performed_action, text, status, attempted_at, post_started_at, run_token)
          VALUES ('feedback', 'feedback', 'live', 1, '89160000001', 1, 1, 'text', 'in_doubt', now(), now(), ${live.token})
          RETURNING id::text AS id
        `
        expect((yield* Stream.runCollect(InDoubt.list())).pipe(Chunk.map((m) => m.id), Chunk.toReadonlyArray)).toEqual([ended.id])
        const refused = yield* Effect.flip(InDoubt.settleAllDelivered({ ids: [ended.id, id] }))
        expect(refused.message).toBe(`notification ${id} belongs to a run that is still going: settle it once that run has ended`)
        expect((yield* Harness.notifications).map((n) => n.status)).toEqual(["in_doubt", "in_doubt"])
        expect((yield* InDoubt.settleAllNotDelivered({ kind: "feedback" })).ids).toEqual([ended.id])
      }))
    }))
})

