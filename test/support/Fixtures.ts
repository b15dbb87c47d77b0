/**
 * Rows of the reference host schema, written the way Jupiter would.
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect } from "effect"
import { randomUUID } from "node:crypto"
import type { OrderSource, OrderStatus } from "../../src/HostSchema.ts"

export const instant = (iso: string) => DateTime.unsafeMake(iso)

export const insertClient = (client: {
  readonly id: number
  readonly phone?: string
  readonly birthday?: string | null
  readonly lastOrderAt?: string | null
}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO jupiter.clients (id, phone, birthday, last_order_at)
      VALUES (${client.id}, ${client.phone ?? `8916${String(client.id).padStart(7, "0")}`},
              ${client.birthday ?? null}, ${client.lastOrderAt ? new Date(client.lastOrderAt) : null})
    `)

export interface OrderRow {
  readonly uid?: string
  readonly clientId: number | null
  readonly source?: OrderSource
  readonly isDelivery?: boolean
  readonly status?: OrderStatus
  readonly closedAt?: string | null
  readonly total?: number
}

/** Inserts an order and returns its UID. */
export const insertOrder = (order: OrderRow) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const uid = order.uid ?? randomUUID()
    const status = order.status ?? "closed"
    return sql`
      INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
      VALUES (${uid}, ${order.clientId}, ${order.source ?? "site"}, ${order.isDelivery ?? true}, ${status},
              ${order.closedAt ? new Date(order.closedAt) : null}, ${order.total ?? 1000})
    `.pipe(Effect.as(uid))
  })
