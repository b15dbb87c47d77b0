/**
 * Issue "Client ids above 2^53 are silently changed, and a bonus goes to the wrong client":
 * `jupiter.clients.id` is bigint, and 9007199254740993 read as a JavaScript number is
 * 9007199254740992, another client. Every path an id takes, end to end against PostgreSQL, must
 * keep it exact: the selectors, the stored notification, the gift's accrual, the reaction job's
 * look-ups and the bonus server's HTTP API.
 */
import { expect, layer } from "@effect/vitest"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Stream } from "effect"
import * as BonusApi from "../src/bonus/BonusApi.ts"
import * as BonusLedger from "../src/bonus/BonusLedger.ts"
import { BonusServer } from "../src/bonus/BonusServer.ts"
import * as BonusServerHttp from "../src/bonus/BonusServerHttp.ts"
import * as BonusTokens from "./support/BonusTokens.ts"
import { RecordingSender } from "../src/delivery/Sender.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import { Notifications } from "../src/store/Notifications.ts"
import {
  bonusRows,
  byId,
  clientMarks,
  daysAfter,
  grants,
  insertBonusRow,
  insertClient,
  insertOrder,
  instant,
  moscow
} from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

/** 2^53: the last of these that a JavaScript number still holds exactly. */
const TWO_53 = "9007199254740992"
/** 2^53 + 1: as a number it becomes TWO_53, the other client. */
const TWO_53_PLUS_1 = "9007199254740993"
/** The largest bigint. */
const BIGINT_MAX = "9223372036854775807"

const PHONES: Readonly<Record<string, string>> = {
  [TWO_53]: "89161000001",
  [TWO_53_PLUS_1]: "89161000002",
  [BIGINT_MAX]: "89161000003"
}

const TEXT_GIFT = "Как насчет подарков? Дарим 100 бонусов на 2 недели"

/** Feedback runs at 11:00 in Moscow on 10 March; each client's order closed that morning. */
const FEEDBACK_RUN = moscow("2026-03-10", "11:00")
const hoursBefore = (h: number, iso = FEEDBACK_RUN) => new Date(Date.parse(iso) - h * 3600_000).toISOString()
/** The last order of the lapsed clients: 20 days before the invite's run (band B). */
const LAST_ORDER = moscow("2026-03-10", "09:00")
const INVITE_RUN = moscow("2026-03-30", "12:00")

const runAt = (kind: string, iso: string) => Effect.zipRight(Harness.at(iso), Jobs.run(kind))

/** A client with a closed order, which is also its last order. */
const clientWithOrder = (id: string, closedAt: string) =>
  Effect.zipRight(
    insertClient({ id, phone: PHONES[id]!, lastOrderAt: closedAt }),
    insertOrder({ clientId: id, closedAt })
  )

/** The messages the recording Sender accepted while `effect` ran. */
const sentDuring = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const recorder = yield* RecordingSender
    const before = (yield* recorder.sent).length
    const result = yield* effect
    return { result, sent: (yield* recorder.sent).slice(before) }
  })

layer(Harness.layer, { timeout: "120 seconds" })("client ids past 2^53", (it) => {
  it.effect("each client gets its own feedback message, stored and listed with its exact id", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const uids: Readonly<Record<string, string>> = {
        [TWO_53]: yield* clientWithOrder(TWO_53, hoursBefore(3)),
        [TWO_53_PLUS_1]: yield* clientWithOrder(TWO_53_PLUS_1, hoursBefore(2)),
        [BIGINT_MAX]: yield* clientWithOrder(BIGINT_MAX, hoursBefore(1))
      }
      const { result, sent } = yield* sentDuring(runAt("feedback", FEEDBACK_RUN))
      expect(result).toMatchObject({ kind: "feedback", selected: 3, sent: 3, failed: 0 })
      expect(sent.map((m) => m.phone).sort()).toEqual([PHONES[TWO_53], PHONES[TWO_53_PLUS_1], PHONES[BIGINT_MAX]])

      // Each stored with its own client (client_id::text), phone and order; sorted, as they are sent concurrently.
      const stored = [...yield* Harness.notifications].sort((a, b) => byId(a.clientId, b.clientId))
      expect(stored.map((n) => [n.clientId, n.phone, n.orderUid])).toEqual(
        [TWO_53, TWO_53_PLUS_1, BIGINT_MAX].map((id) => [id, PHONES[id], uids[id]])
      )

      const notifications = yield* Notifications
      const listed = [...yield* Stream.runCollect(notifications.list({ kind: "feedback" }))]
      expect(listed.sort((a, b) => byId(a.clientId, b.clientId)).map((m) => [m.clientId, m.phone, m.orderUid])).toEqual(
        [TWO_53, TWO_53_PLUS_1, BIGINT_MAX].map((id) => [id, PHONES[id], uids[id]])
      )
      expect(listed.map((m) => m.id).sort(byId)).toEqual(stored.map((n) => n.id).sort(byId))
    }))

  it.effect("the messages table lists notification ids in their numeric order, 9 before 10", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* sql`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at,
           sent_at)
        SELECT 'feedback', 'feedback', 'same-instant-' || i, i, '89160000001', 1, 1, 'text', 'sent',
               '2026-03-10T08:00:00Z', '2026-03-10T08:00:00Z'
        FROM generate_series(1, 12) AS i
      `
      const listed = yield* Effect.flatMap(Notifications, (n) => Stream.runCollect(n.list({})))
      expect([...listed].map((m) => m.id)).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)))
    }))

  it.effect("an invite's gift of 100 temporary bonuses goes to each client exactly, not twice to one", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* clientWithOrder(TWO_53, LAST_ORDER)
      yield* clientWithOrder(TWO_53_PLUS_1, LAST_ORDER)
      const sql = yield* SqlClient.SqlClient
      const bonus = yield* BonusServer

      const { result, sent } = yield* sentDuring(runAt("invite", INVITE_RUN))
      expect(result).toMatchObject({ kind: "invite", selected: 2, sent: 2, failed: 0 })
      expect([...sent].sort((a, b) => a.phone.localeCompare(b.phone))).toEqual([
        { phone: PHONES[TWO_53], text: TEXT_GIFT },
        { phone: PHONES[TWO_53_PLUS_1], text: TEXT_GIFT }
      ])
      // Band B by client id: slot 0 chooses action 1 and, with no balance, gives the gift; slot 1 is the gift.
      // (Sorted: the messages go out concurrently, so their ids need not follow the selection.)
      const stored = [...yield* Harness.notifications].sort((a, b) => byId(a.clientId, b.clientId))
      expect(stored.map((n) => [n.clientId, n.chosenAction, n.performedAction, n.text])).toEqual([
        [TWO_53, 1, 2, TEXT_GIFT],
        [TWO_53_PLUS_1, 2, 2, TEXT_GIFT]
      ])

      const accrued = yield* sql<{ clientId: string; amount: string }>`
        SELECT client_id::text AS "clientId", amount::text AS amount FROM jupiter.bonus_temporary ORDER BY client_id
      `
      expect(accrued).toEqual([{ clientId: TWO_53, amount: "100.00" }, { clientId: TWO_53_PLUS_1, amount: "100.00" }])
      // Each notification records its own client's accrual.
      const operationOf = new Map((yield* bonusRows).map((r) => [r.clientId, `${r.table}:${r.id}`]))
      const granted = [...yield* grants].sort((a, b) => byId(a.clientId, b.clientId))
      expect(granted.map((g) => [g.clientId, g.bonusGranted, g.bonusOperation])).toEqual([
        [TWO_53, "100.00", operationOf.get(TWO_53)],
        [TWO_53_PLUS_1, "100.00", operationOf.get(TWO_53_PLUS_1)]
      ])
      // The ledger tells the two balances apart.
      expect(yield* bonus.balance(TWO_53, instant(INVITE_RUN))).toBe(100)
      expect(yield* bonus.balance(TWO_53_PLUS_1, instant(INVITE_RUN))).toBe(100)
      expect((yield* clientMarks).map((m) => [m.clientId, m.inviteLapse?.toISOString()])).toEqual([
        [TWO_53, LAST_ORDER],
        [TWO_53_PLUS_1, LAST_ORDER]
      ])
    }))

  it.effect("the reaction job decides each client's messages by that client's own accrual and order", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* clientWithOrder(TWO_53, LAST_ORDER)
      yield* clientWithOrder(TWO_53_PLUS_1, LAST_ORDER)
      expect((yield* runAt("feedback", FEEDBACK_RUN)).sent).toBe(2)
      // 2^53 reviews two days later; its temporary bonuses expire before the invite, which then gives the gift.
      yield* insertBonusRow({ table: "temporary", clientId: TWO_53, amount: 50, at: daysAfter(FEEDBACK_RUN, 2), reason: "feedback" })
      const [review] = yield* bonusRows
      expect(review).toMatchObject({ table: "temporary", clientId: TWO_53, reason: "feedback" })
      expect((yield* runAt("invite", INVITE_RUN)).sent).toBe(2)
      // 2^53 + 1 orders again two days after its invite.
      const comeback = yield* insertOrder({ clientId: TWO_53_PLUS_1, closedAt: daysAfter(INVITE_RUN, 2) })

      // Both windows (14 days) have passed.
      const summary = yield* Effect.zipRight(Harness.at(daysAfter(INVITE_RUN, 20)), Reactions.run)
      expect(summary).toMatchObject({ examined: 4, reacted: 2, none: 2, pending: 0 })
      const decided = yield* sql<{ kind: string; clientId: string; reaction: string; ref: string | null }>`
        SELECT kind, client_id::text AS "clientId", reaction, reaction_ref AS ref
        FROM pronto_notify.notifications ORDER BY kind, client_id
      `
      expect(decided).toEqual([
        { kind: "feedback", clientId: TWO_53, reaction: "reacted", ref: `temporary:${review!.id}` },
        { kind: "feedback", clientId: TWO_53_PLUS_1, reaction: "none", ref: null },
        { kind: "invite", clientId: TWO_53, reaction: "none", ref: null },
        { kind: "invite", clientId: TWO_53_PLUS_1, reaction: "reacted", ref: comeback }
      ])
    }))
})

// ---------------------------------------------------------------------------------------------
// The bonus server's HTTP API, served over the ledger as in test/bonus-api.test.ts.

const AT = "2026-03-10T09:00:00.000Z"
const LATER = "2026-03-10T09:00:00.001Z"

interface Answer {
  readonly status: number
  readonly body: unknown
}

/** A raw request; a string body is sent as it is, so a JSON number can hold more digits than a JS number. */
const call = (method: "GET" | "POST", path: string, body?: unknown) =>
  Effect.gen(function*() {
    const base = yield* BonusApi.baseUrl
    const client = yield* HttpClient.HttpClient
    let request = method === "GET" ? HttpClientRequest.get(`${base}${path}`) : HttpClientRequest.post(`${base}${path}`)
    request = HttpClientRequest.bearerToken(request, BonusTokens.WRITER)
    if (body !== undefined) {
      request = typeof body === "string"
        ? HttpClientRequest.bodyText(request, body, "application/json")
        : HttpClientRequest.bodyUnsafeJson(request, body)
    }
    const response = yield* client.execute(request)
    const text = yield* response.text
    const answer: Answer = { status: response.status, body: text === "" ? null : JSON.parse(text) }
    return answer
  })

const permanentRows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ clientId: string; amount: string }>`
    SELECT client_id::text AS "clientId", amount::text AS amount FROM jupiter.bonus_permanent ORDER BY id
  `)

const apiLayer = BonusApi.serve().pipe(
  Layer.provide(BonusLedger.layer),
  Layer.provide(BonusTokens.layer),
  Layer.provideMerge(Layer.merge(Harness.layer, FetchHttpClient.layer))
)

layer(apiLayer, { timeout: "120 seconds" })("client ids past 2^53 over the bonus HTTP API", (it) => {
  it.effect("takes clientId as a string of digits and answers exactly that client; refuses a number past 2^53 - 1", () =>
    Effect.gen(function*() {
      yield* truncateAll
      for (const [clientId, amount] of [[TWO_53, 30], [TWO_53_PLUS_1, 70], [BIGINT_MAX, 5]] as const) {
        const accrued = yield* call("POST", "/bonus/accruals/permanent", { clientId, amount, reason: "order", at: AT })
        expect(accrued.status).toBe(200)
      }
      const written = [
        { clientId: TWO_53, amount: "30.00" },
        { clientId: TWO_53_PLUS_1, amount: "70.00" },
        { clientId: BIGINT_MAX, amount: "5.00" }
      ]
      expect(yield* permanentRows).toEqual(written)

      // Each balance is its own client's, and the id comes back as the same string.
      for (const [clientId, balance] of [[TWO_53_PLUS_1, 70], [TWO_53, 30], [BIGINT_MAX, 5]] as const) {
        expect(yield* call("GET", `/bonus/balance?clientId=${clientId}&at=${LATER}`)).toEqual({
          status: 200,
          body: { clientId, at: LATER, balance }
        })
      }
      expect(yield* call("POST", "/bonus/spendings", { clientId: TWO_53_PLUS_1, amount: 71, at: LATER })).toEqual({
        status: 409,
        body: { _tag: "InsufficientBalance", clientId: TWO_53_PLUS_1, requested: 71, available: 70 }
      })
      // The library's HTTP BonusServer sends the id as a string too.
      const overHttp = yield* Effect.flatMap(BonusApi.baseUrl, (baseUrl) =>
        Effect.flatMap(BonusServer, (bonus) => bonus.balance(TWO_53_PLUS_1, instant(LATER))).pipe(
          Effect.provide(BonusServerHttp.layer({ baseUrl, token: BonusTokens.writer }))
        ))
      expect(overHttp).toBe(70)

      // A JSON number past 2^53 - 1 has already lost digits when it is parsed: refused, not rounded.
      for (const digits of [TWO_53_PLUS_1, TWO_53]) {
        const body = `{"clientId": ${digits}, "amount": 1, "reason": "order", "at": "${AT}"}`
        expect(yield* call("POST", "/bonus/accruals/permanent", body)).toEqual({
          status: 400,
          body: { _tag: "InvalidRequest", message: expect.stringMatching(/^clientId /) }
        })
      }
      // Past the largest bigint there is no such client.
      expect(yield* call("GET", `/bonus/balance?clientId=9223372036854775808&at=${LATER}`)).toEqual({
        status: 400,
        body: { _tag: "InvalidRequest", message: expect.stringMatching(/^clientId /) }
      })
      expect(yield* permanentRows).toEqual(written)
    }))
})
