import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer } from "effect"
import * as BonusLedger from "../src/bonus/BonusLedger.ts"
import { BonusServer } from "../src/bonus/BonusServer.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import { bonusRows, insertClient, insertOrder } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import * as TestDatabase from "./support/TestDatabase.ts"

const SENT = "2026-03-10T09:00:00.000Z"
const DAY = 86_400_000
/** An instant `ms` after `iso`. */
const plus = (ms: number, iso = SENT) => new Date(Date.parse(iso) + ms).toISOString()
const WINDOW_END = plus(14 * DAY)

let trigger = 0

const notify = (n: {
  readonly kind: "feedback" | "invite" | "profile" | "birthday"
  readonly clientId: number
  readonly sentAt?: string
  readonly status?: "sent" | "in_doubt"
}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const at = new Date(n.sentAt ?? SENT)
    const status = n.status ?? "sent"
    // The id as text: exact whatever the driver's int8 parser, as the library's own ids are.
    return sql<{ id: string }>`
      INSERT INTO pronto_notify.notifications
        (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at, sent_at)
      VALUES (${n.kind}, ${n.kind}, ${`trigger-${++trigger}`}, ${n.clientId}, '89160000001', 1, 1, 'text', ${status}, ${at},
              ${status === "sent" ? at : null})
      RETURNING id::text AS id
    `.pipe(Effect.map((rows) => rows[0]!.id))
  })

/** A bonus accrual as the app would make it; returns its operation id. */
const accrual = (a: {
  readonly clientId: number
  readonly reason: string | null
  readonly at: string
  readonly amount?: number
  readonly temporary?: boolean
}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    a.temporary
      ? sql<{ id: string }>`
          INSERT INTO jupiter.bonus_temporary (client_id, amount, reason, created_at, expires_at)
          VALUES (${a.clientId}, ${a.amount ?? 100}, ${a.reason}, ${new Date(a.at)}, ${new Date(plus(14 * DAY, a.at))})
          RETURNING id::text AS id
        `.pipe(Effect.map((rows) => `temporary:${rows[0]!.id}`))
      : sql<{ id: string }>`
          INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at)
          VALUES (${a.clientId}, ${a.amount ?? 100}, ${a.reason}, ${new Date(a.at)})
          RETURNING id::text AS id
        `.pipe(Effect.map((rows) => `permanent:${rows[0]!.id}`)))

interface Decided {
  readonly id: string
  readonly reaction: string
  readonly ref: string | null
  readonly reactedAt: string | null
}

const reactions = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ id: string; reaction: string; ref: string | null; reactedAt: Date | null }>`
    SELECT id::text AS id, reaction, reaction_ref AS ref, reacted_at AS "reactedAt" FROM pronto_notify.notifications
    ORDER BY notifications.id
  `.pipe(
    Effect.map((rows) =>
      new Map(rows.map((r): [string, Decided] => [r.id, { ...r, reactedAt: r.reactedAt?.toISOString() ?? null }]))
    )
  ))

const reactionOf = (id: string) => Effect.map(reactions, (all) => all.get(id)!)

const runAt = (iso: string) => Effect.zipRight(Harness.at(iso), Reactions.run)

const clients = (...ids: ReadonlyArray<number>) => Effect.forEach(ids, (id) => insertClient({ id }), { discard: true })

const fresh = Effect.zipRight(TestDatabase.truncateAll, clients(1, 2, 3))

const testLayer = BonusLedger.layer.pipe(Layer.provideMerge(TestDatabase.layer))

layer(testLayer, { timeout: "120 seconds" })("reaction job", (it) => {
  it.effect("feedback and profile react with the first accrual of their own reason, recording its operation id", () =>
    Effect.gen(function*() {
      yield* fresh
      const feedback = yield* notify({ kind: "feedback", clientId: 1 })
      const profile = yield* notify({ kind: "profile", clientId: 2 })
      const review = yield* accrual({ clientId: 1, reason: "feedback", at: plus(3 * DAY) })
      const filledIn = yield* accrual({ clientId: 2, reason: "profile", at: plus(2 * DAY), temporary: true })

      const summary = yield* runAt(plus(4 * DAY))
      expect(yield* reactionOf(feedback)).toEqual({
        id: feedback,
        reaction: "reacted",
        ref: review,
        reactedAt: plus(3 * DAY)
      })
      expect(yield* reactionOf(profile)).toEqual({ id: profile, reaction: "reacted", ref: filledIn, reactedAt: plus(2 * DAY) })
      expect(summary).toMatchObject({ job: "reactions", at: plus(4 * DAY), examined: 2, reacted: 2, none: 0, pending: 0 })
      expect(summary.byKind.feedback).toEqual({ examined: 1, reacted: 1, none: 0, pending: 0 })
      expect(summary.byKind.profile).toEqual({ examined: 1, reacted: 1, none: 0, pending: 0 })
    }))

  it.effect("a review bonus that carries the reviewed order's UID, accrued through the SQL ledger, is the feedback reaction", () =>
    Effect.gen(function*() {
      yield* fresh
      const feedback = yield* notify({ kind: "feedback", clientId: 1 })
      const reviewed = yield* insertOrder({ clientId: 1, closedAt: plus(-DAY) })
      const review = yield* Effect.flatMap(BonusServer, (bonus) =>
        bonus.accrue({
          type: "permanent",
          clientId: "1",
          amount: 50,
          reason: "feedback",
          at: DateTime.unsafeMake(plus(2 * DAY)),
          orderUid: reviewed
        }))
      // The host's own order accrual for the same order: reason `order`, never a review.
      const forOrder = yield* BonusLedger.accrueForOrder({
        clientId: "1",
        orderUid: reviewed,
        amount: 5,
        at: DateTime.unsafeMake(plus(DAY))
      })
      expect(yield* bonusRows).toMatchObject([
        { reason: "feedback", orderUid: reviewed },
        { reason: "order", orderUid: reviewed }
      ])
      yield* runAt(plus(3 * DAY))
      expect(yield* reactionOf(feedback)).toEqual({ id: feedback, reaction: "reacted", ref: review, reactedAt: plus(2 * DAY) })
      expect(forOrder).not.toBe(review)
    }))

  it.effect("invite and birthday react with the first closed order, recording its UID and close time", () =>
    Effect.gen(function*() {
      yield* fresh
      const invite = yield* notify({ kind: "invite", clientId: 1 })
      const birthday = yield* notify({ kind: "birthday", clientId: 2 })
      const order1 = yield* insertOrder({ clientId: 1, closedAt: plus(5 * DAY) })
      const order2 = yield* insertOrder({ clientId: 2, source: "jupiter", isDelivery: false, closedAt: plus(DAY) })

      const summary = yield* runAt(plus(6 * DAY))
      expect(yield* reactionOf(invite)).toEqual({ id: invite, reaction: "reacted", ref: order1, reactedAt: plus(5 * DAY) })
      expect(yield* reactionOf(birthday)).toEqual({ id: birthday, reaction: "reacted", ref: order2, reactedAt: plus(DAY) })
      expect(summary.byKind.invite).toEqual({ examined: 1, reacted: 1, none: 0, pending: 0 })
      expect(summary.byKind.birthday).toEqual({ examined: 1, reacted: 1, none: 0, pending: 0 })
    }))

  it.effect("with nothing, each kind stays pending while its window is open and is decided none once it has passed", () =>
    Effect.gen(function*() {
      yield* fresh
      const ids = yield* Effect.forEach(
        ["feedback", "profile", "invite", "birthday"] as const,
        (kind) => notify({ kind, clientId: 1 })
      )
      // At exactly sent_at + 14 days an event could still come: the window has not passed.
      const open = yield* runAt(WINDOW_END)
      expect(open).toMatchObject({ examined: 4, reacted: 0, none: 0, pending: 4 })
      for (const id of ids) expect((yield* reactionOf(id)).reaction).toBe("pending")

      const passed = yield* runAt(plus(1, WINDOW_END))
      expect(passed).toMatchObject({ examined: 4, reacted: 0, none: 4, pending: 0 })
      for (const kind of ["feedback", "profile", "invite", "birthday"] as const) {
        expect(passed.byKind[kind]).toEqual({ examined: 1, reacted: 0, none: 1, pending: 0 })
      }
      for (const id of ids) expect(yield* reactionOf(id)).toEqual({ id, reaction: "none", ref: null, reactedAt: null })
    }))

  it.effect("window edges: an event at sent_at is not after it; at sent_at + 14 days it counts; 1 ms later it does not", () =>
    Effect.gen(function*() {
      yield* fresh
      // Client 1: events exactly at the send (never count) and exactly at the window's end.
      const fbEdge = yield* notify({ kind: "feedback", clientId: 1 })
      const invEdge = yield* notify({ kind: "invite", clientId: 1 })
      yield* accrual({ clientId: 1, reason: "feedback", at: SENT })
      yield* insertOrder({ clientId: 1, closedAt: SENT })
      const lastAccrual = yield* accrual({ clientId: 1, reason: "feedback", at: WINDOW_END })
      const lastOrder = yield* insertOrder({ clientId: 1, closedAt: WINDOW_END })
      // Client 2: events 1 ms after the window's end.
      const fbLate = yield* notify({ kind: "feedback", clientId: 2 })
      const invLate = yield* notify({ kind: "invite", clientId: 2 })
      yield* accrual({ clientId: 2, reason: "feedback", at: plus(1, WINDOW_END) })
      yield* insertOrder({ clientId: 2, closedAt: plus(1, WINDOW_END) })

      yield* runAt(plus(20 * DAY))
      expect(yield* reactionOf(fbEdge)).toMatchObject({ reaction: "reacted", ref: lastAccrual, reactedAt: WINDOW_END })
      expect(yield* reactionOf(invEdge)).toMatchObject({ reaction: "reacted", ref: lastOrder, reactedAt: WINDOW_END })
      expect(yield* reactionOf(fbLate)).toMatchObject({ reaction: "none", ref: null })
      expect(yield* reactionOf(invLate)).toMatchObject({ reaction: "none", ref: null })
    }))

  it.effect("an event before the send does not count", () =>
    Effect.gen(function*() {
      yield* fresh
      const fb = yield* notify({ kind: "feedback", clientId: 1 })
      const inv = yield* notify({ kind: "birthday", clientId: 1 })
      yield* accrual({ clientId: 1, reason: "feedback", at: plus(-1) })
      yield* insertOrder({ clientId: 1, closedAt: plus(-DAY) })

      expect(yield* runAt(plus(3 * DAY))).toMatchObject({ examined: 2, reacted: 0, pending: 2 })
      expect(yield* runAt(plus(15 * DAY))).toMatchObject({ examined: 2, reacted: 0, none: 2 })
      expect((yield* reactionOf(fb)).reaction).toBe("none")
      expect((yield* reactionOf(inv)).reaction).toBe("none")
    }))

  it.effect("of several events in the window, the first is the one recorded", () =>
    Effect.gen(function*() {
      yield* fresh
      const fb = yield* notify({ kind: "feedback", clientId: 1 })
      const inv = yield* notify({ kind: "invite", clientId: 1 })
      yield* accrual({ clientId: 1, reason: "feedback", at: plus(9 * DAY) })
      const firstAccrual = yield* accrual({ clientId: 1, reason: "feedback", at: plus(2 * DAY), temporary: true })
      yield* accrual({ clientId: 1, reason: "feedback", at: plus(5 * DAY) })
      yield* insertOrder({ clientId: 1, closedAt: plus(8 * DAY) })
      const firstOrder = yield* insertOrder({ clientId: 1, closedAt: plus(3 * DAY) })
      yield* insertOrder({ clientId: 1, closedAt: plus(4 * DAY) })

      yield* runAt(plus(10 * DAY))
      expect(yield* reactionOf(fb)).toMatchObject({ reaction: "reacted", ref: firstAccrual, reactedAt: plus(2 * DAY) })
      expect(yield* reactionOf(inv)).toMatchObject({ reaction: "reacted", ref: firstOrder, reactedAt: plus(3 * DAY) })
    }))

  it.effect("another client's event, another reason, a spending and an order not closed do not count", () =>
    Effect.gen(function*() {
      yield* fresh
      const fb = yield* notify({ kind: "feedback", clientId: 1 })
      const profile = yield* notify({ kind: "profile", clientId: 1 })
      const inv = yield* notify({ kind: "invite", clientId: 1 })
      // Client 2 reacts; client 1 does not.
      yield* accrual({ clientId: 2, reason: "feedback", at: plus(DAY) })
      yield* accrual({ clientId: 2, reason: "profile", at: plus(DAY) })
      yield* insertOrder({ clientId: 2, closedAt: plus(DAY) })
      // Client 1's events that are not reactions: other reasons (stored as given, matched exactly),
      // a spending (negative), orders open or cancelled.
      yield* accrual({ clientId: 1, reason: "order", at: plus(DAY) })
      yield* accrual({ clientId: 1, reason: "Feedback", at: plus(DAY) })
      yield* accrual({ clientId: 1, reason: "feedback ", at: plus(DAY) })
      yield* accrual({ clientId: 1, reason: null, at: plus(DAY) })
      yield* accrual({ clientId: 1, reason: "feedback", amount: -50, at: plus(DAY) })
      yield* accrual({ clientId: 1, reason: "invite", at: plus(DAY) })
      yield* insertOrder({ clientId: 1, status: "open", closedAt: null })
      yield* insertOrder({ clientId: 1, status: "cancelled", closedAt: plus(DAY) })

      expect(yield* runAt(plus(15 * DAY))).toMatchObject({ examined: 3, reacted: 0, none: 3 })
      for (const id of [fb, profile, inv]) expect((yield* reactionOf(id)).reaction).toBe("none")
    }))

  it.effect("is idempotent: a second run changes nothing, and a later event never flips a decided notification", () =>
    Effect.gen(function*() {
      yield* fresh
      const reacted = yield* notify({ kind: "feedback", clientId: 1 })
      const none = yield* notify({ kind: "invite", clientId: 2 })
      const open = yield* notify({ kind: "birthday", clientId: 3, sentAt: plus(10 * DAY) })
      const review = yield* accrual({ clientId: 1, reason: "feedback", at: plus(5 * DAY) })

      const first = yield* runAt(plus(15 * DAY))
      expect(first).toMatchObject({ examined: 3, reacted: 1, none: 1, pending: 1 })
      const before = yield* reactions

      const second = yield* runAt(plus(15 * DAY))
      expect(second).toMatchObject({ examined: 1, reacted: 0, none: 0, pending: 1 })
      expect(yield* reactions).toEqual(before)

      // Events that arrive later, even back-dated into the windows (a replayed order), change nothing.
      yield* accrual({ clientId: 1, reason: "feedback", at: plus(1 * DAY) })
      yield* insertOrder({ clientId: 2, closedAt: plus(2 * DAY) })
      yield* runAt(plus(16 * DAY))
      const after = yield* reactions
      expect(after.get(reacted)).toEqual({ id: reacted, reaction: "reacted", ref: review, reactedAt: plus(5 * DAY) })
      expect(after.get(none)).toEqual({ id: none, reaction: "none", ref: null, reactedAt: null })
      expect(after.get(open)!.reaction).toBe("pending")
    }))

  it.effect("run 30 days late, it still counts only events within each window", () =>
    Effect.gen(function*() {
      yield* fresh
      const fbIn = yield* notify({ kind: "feedback", clientId: 1 })
      const fbOut = yield* notify({ kind: "feedback", clientId: 2 })
      const invIn = yield* notify({ kind: "invite", clientId: 1 })
      const invOut = yield* notify({ kind: "invite", clientId: 2 })
      const review = yield* accrual({ clientId: 1, reason: "feedback", at: plus(13 * DAY) })
      const order = yield* insertOrder({ clientId: 1, closedAt: plus(14 * DAY - 1) })
      yield* accrual({ clientId: 2, reason: "feedback", at: plus(20 * DAY) })
      yield* insertOrder({ clientId: 2, closedAt: plus(15 * DAY) })

      expect(yield* runAt(plus(30 * DAY))).toMatchObject({ examined: 4, reacted: 2, none: 2, pending: 0 })
      expect(yield* reactionOf(fbIn)).toMatchObject({ reaction: "reacted", ref: review })
      expect(yield* reactionOf(invIn)).toMatchObject({ reaction: "reacted", ref: order })
      expect((yield* reactionOf(fbOut)).reaction).toBe("none")
      expect((yield* reactionOf(invOut)).reaction).toBe("none")
    }))

  it.effect("sees nothing after its own instant: an event after `at` leaves the notification pending until a later run", () =>
    Effect.gen(function*() {
      yield* fresh
      const fb = yield* notify({ kind: "feedback", clientId: 1 })
      const inv = yield* notify({ kind: "invite", clientId: 1 })
      // Not sent yet as of the first run: it does not exist for it.
      const later = yield* notify({ kind: "profile", clientId: 1, sentAt: plus(6 * DAY) })
      const review = yield* accrual({ clientId: 1, reason: "feedback", at: plus(7 * DAY) })
      const order = yield* insertOrder({ clientId: 1, closedAt: plus(7 * DAY) })

      expect(yield* runAt(plus(5 * DAY))).toMatchObject({ examined: 2, reacted: 0, none: 0, pending: 2 })
      expect((yield* reactionOf(fb)).reaction).toBe("pending")
      expect((yield* reactionOf(inv)).reaction).toBe("pending")

      expect(yield* runAt(plus(8 * DAY))).toMatchObject({ examined: 3, reacted: 2, none: 0, pending: 1 })
      expect(yield* reactionOf(fb)).toMatchObject({ reaction: "reacted", ref: review })
      expect(yield* reactionOf(inv)).toMatchObject({ reaction: "reacted", ref: order })
      expect((yield* reactionOf(later)).reaction).toBe("pending")
    }))

  it.effect("leaves messages in doubt untouched", () =>
    Effect.gen(function*() {
      yield* fresh
      const fb = yield* notify({ kind: "feedback", clientId: 1, status: "in_doubt" })
      const inv = yield* notify({ kind: "invite", clientId: 1, status: "in_doubt" })
      const old = yield* notify({ kind: "birthday", clientId: 2, status: "in_doubt" })
      yield* accrual({ clientId: 1, reason: "feedback", at: plus(DAY) })
      yield* insertOrder({ clientId: 1, closedAt: plus(DAY) })

      expect(yield* runAt(plus(30 * DAY))).toMatchObject({ examined: 0, reacted: 0, none: 0, pending: 0 })
      for (const id of [fb, inv, old]) expect(yield* reactionOf(id)).toEqual({ id, reaction: "pending", ref: null, reactedAt: null })
    }))

  it.effect("two runs at once decide each notification once between them", () =>
    Effect.gen(function*() {
      yield* TestDatabase.truncateAll
      const sql = yield* SqlClient.SqlClient
      const n = 3_000
      yield* sql`
        INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${n}) AS i
      `
      yield* sql`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at,
           sent_at)
        SELECT CASE WHEN i % 2 = 0 THEN 'feedback' ELSE 'invite' END, CASE WHEN i % 2 = 0 THEN 'feedback' ELSE 'invite:A' END,
               'both-' || i, i, '89160000001', 1, 1, 'text',
               'sent', ${new Date(SENT)}, ${new Date(SENT)}
        FROM generate_series(1, ${n}) AS i
      `
      yield* sql`
        INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at)
        SELECT i, 50, 'feedback', ${new Date(plus(DAY))} FROM generate_series(2, ${n}, 4) AS i
      `
      yield* sql`
        INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at)
        SELECT gen_random_uuid(), i, 'site', true, 'closed', ${new Date(plus(DAY))} FROM generate_series(1, ${n}, 4) AS i
      `
      yield* Harness.at(plus(15 * DAY))
      const [a, b] = yield* Effect.all([Reactions.run, Reactions.run], { concurrency: 2 })
      expect(a.reacted + b.reacted).toBe(n / 2)
      expect(a.none + b.none).toBe(n / 2)
      const [counts] = yield* sql<{ reacted: number; none: number }>`
        SELECT count(*) FILTER (WHERE reaction = 'reacted')::int AS reacted, count(*) FILTER (WHERE reaction = 'none')::int AS none
        FROM pronto_notify.notifications
      `
      expect(counts).toEqual({ reacted: n / 2, none: n / 2 })
    }))

  it.effect("decides more notifications than one block holds, each with its own client's accrual", () =>
    Effect.gen(function*() {
      yield* TestDatabase.truncateAll
      const sql = yield* SqlClient.SqlClient
      const n = Reactions.BLOCK + 7
      // Odd clients reviewed on day 2, even ones never did.
      yield* sql`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at,
           sent_at)
        SELECT 'feedback', 'feedback', 'bulk-' || i, i, '89160000001', 1, 1, 'text', 'sent', ${new Date(SENT)}, ${new Date(SENT)}
        FROM generate_series(1, ${n}) AS i
      `
      yield* sql`
        INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at)
        SELECT i, 50, 'feedback', ${new Date(plus(2 * DAY))} FROM generate_series(1, ${n}, 2) AS i
      `
      const summary = yield* runAt(plus(15 * DAY))
      const reactedCount = Math.ceil(n / 2)
      expect(summary).toMatchObject({ examined: n, reacted: reactedCount, none: n - reactedCount, pending: 0 })
      const [mismatched] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n
        FROM pronto_notify.notifications n
        LEFT JOIN jupiter.bonus_permanent p ON 'permanent:' || p.id = n.reaction_ref
        WHERE (n.client_id % 2 = 1 AND (n.reaction <> 'reacted' OR p.client_id IS DISTINCT FROM n.client_id))
           OR (n.client_id % 2 = 0 AND n.reaction <> 'none')
      `
      expect(mismatched!.n).toBe(0)
    }))
})
