/**
 * What the host records of the simulated world: clients, closed orders with their order bonuses,
 * and the app's accruals (a review, a filled-in birthday). The history is written in bulk, as a
 * host has it when the library is installed; the weeks the messages run one half hour at a time,
 * with `ordersClosed` as the host calls it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { DateTime, Effect } from "effect"
import { BonusServer } from "../bonus/BonusServer.ts"
import { Feedback } from "../kinds/Feedback.ts"
import { Profile } from "../kinds/Profile.ts"
import { ordersClosed } from "../host/Orders.ts"
import { ORDER_BONUS_SHARE, ORGANIC_REVIEW_BONUS, PROFILE_BONUS } from "./Behaviour.ts"
import type * as Random from "./Random.ts"
import { birthdayOf, pickSource, uuidFrom } from "./Synthetic.ts"
import type { Happening, SimClient } from "./World.ts"

/** Share of orders delivered (the rest are picked up); a delivery from the Site or an app gets a review request. */
const DELIVERY_SHARE = 0.5
const CHUNK = 5000

type OrderRow = {
  readonly uid: string
  readonly client_id: number
  readonly source: string
  readonly is_delivery: boolean
  readonly status: "closed"
  readonly created_at: Date
  readonly closed_at: Date
  readonly total: number
}

type AccrualRow = {
  readonly client_id: number
  readonly amount: number
  readonly reason: string
  readonly created_at: Date
}

/** The rows a batch of happenings makes; a filled-in birthday gets its date here. */
export const rowsOf = (details: Random.Random, happenings: ReadonlyArray<Happening>) => {
  const orders: Array<OrderRow> = []
  const accruals: Array<AccrualRow> = []
  const birthdays: Array<{ id: number; birthday: string }> = []
  for (const h of happenings) {
    if (h.type === "order") orders.push(orderRow(details, h.client, h.at))
    else if (h.type === "review") {
      accruals.push({
        client_id: h.client.id,
        amount: h.cause?.amount ?? ORGANIC_REVIEW_BONUS,
        reason: Feedback.rules.reactionReason,
        created_at: new Date(h.at)
      })
    } else {
      h.client.birthday = birthdayOf(details)
      birthdays.push({ id: h.client.id, birthday: h.client.birthday })
      accruals.push({ client_id: h.client.id, amount: PROFILE_BONUS, reason: Profile.rules.reactionReason, created_at: new Date(h.at) })
    }
  }
  return { orders, accruals, birthdays }
}

export const orderRow = (details: Random.Random, client: SimClient, closedAt: number): OrderRow => ({
  uid: uuidFrom(details),
  client_id: client.id,
  source: pickSource(details),
  is_delivery: details.next() < DELIVERY_SHARE,
  status: "closed",
  created_at: new Date(closedAt - details.int(20, 90) * 60_000),
  closed_at: new Date(closedAt),
  total: details.int(500, 4000)
})

const chunks = <A>(rows: ReadonlyArray<A>) =>
  Array.from({ length: Math.ceil(rows.length / CHUNK) }, (_, i) => rows.slice(i * CHUNK, (i + 1) * CHUNK))

export const insertClients = (clients: ReadonlyArray<SimClient>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forEach(
      chunks(clients.map((c) => ({ id: c.id, phone: c.phone, birthday: c.birthday }))),
      (rows) => sql`INSERT INTO jupiter.clients ${sql.insert(rows)}`,
      { discard: true }
    ))

const insertOrders = (orders: ReadonlyArray<OrderRow>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forEach(chunks(orders), (rows) =>
      sql`
        WITH o AS (INSERT INTO jupiter.orders ${sql.insert([...rows])} RETURNING client_id, total, closed_at, uid)
        INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at, order_uid)
        SELECT client_id, round(total * ${ORDER_BONUS_SHARE}, 2), 'order', closed_at, uid FROM o
      `, { discard: true }))

const updateBirthdays = (birthdays: ReadonlyArray<{ id: number; birthday: string }>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    birthdays.length === 0 ? Effect.void : sql`
      UPDATE jupiter.clients c SET birthday = b.birthday
      FROM jsonb_to_recordset(${JSON.stringify(birthdays)}::jsonb) AS b(id bigint, birthday date)
      WHERE c.id = b.id
    `.pipe(Effect.asVoid))

/** The history at once: orders, their bonuses, the app's accruals, birthdays, then the backfill's statement. */
export const recordHistory = (rows: ReturnType<typeof rowsOf>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* insertOrders(rows.orders)
    yield* Effect.forEach(chunks(rows.accruals), (batch) => sql`INSERT INTO jupiter.bonus_permanent ${sql.insert([...batch])}`, {
      discard: true
    })
    yield* updateBirthdays(rows.birthdays)
    // What a host runs once when installing: the last order time of every client from the orders.
    yield* sql`
      UPDATE jupiter.clients c SET last_order_at = o.closed_at
      FROM (SELECT client_id, max(closed_at) AS closed_at FROM jupiter.orders WHERE status = 'closed' GROUP BY client_id) o
      WHERE c.id = o.client_id
    `
  })

/** One half hour while the messages run: the orders as the host closes them, then the app's accruals. */
export const recordStep = (rows: ReturnType<typeof rowsOf>) =>
  Effect.gen(function*() {
    const bonus = yield* BonusServer
    if (rows.orders.length > 0) {
      yield* insertOrders(rows.orders)
      yield* ordersClosed(rows.orders.map((o) => o.uid))
    }
    yield* updateBirthdays(rows.birthdays)
    yield* Effect.forEach(rows.accruals, (a) =>
      bonus.accrue({
        type: "permanent",
        clientId: String(a.client_id),
        amount: a.amount,
        reason: a.reason,
        at: DateTime.unsafeFromDate(a.created_at)
      }), { discard: true })
  })
