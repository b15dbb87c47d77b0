/**
 * Rows of the reference host schema, written the way Jupiter would.
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect } from "effect"
import { randomUUID } from "node:crypto"
import type { OrderSource, OrderStatus } from "../../src/host/HostSchema.ts"

export const instant = (iso: string) => DateTime.unsafeMake(iso)

/** Ids past 2^53 must be given as strings: a number there is already rounded. */
export type IdInput = number | string

export const insertClient = (client: {
  readonly id: IdInput
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
  readonly clientId: IdInput | null
  readonly source?: OrderSource
  readonly isDelivery?: boolean
  readonly status?: OrderStatus
  readonly closedAt?: string | null
  readonly total?: number
  /** When it was placed; default the database's now(). */
  readonly createdAt?: string
}

/** Inserts an order and returns its UID. */
export const insertOrder = (order: OrderRow) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const uid = order.uid ?? randomUUID()
    const status = order.status ?? "closed"
    return sql`
      INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total, created_at)
      VALUES (${uid}, ${order.clientId}, ${order.source ?? "site"}, ${order.isDelivery ?? true}, ${status},
              ${order.closedAt ? new Date(order.closedAt) : null}, ${order.total ?? 1000},
              ${order.createdAt ? new Date(order.createdAt) : sql`now()`})
    `.pipe(Effect.as(uid))
  })

/** Orders ids read back as text by their value, exactly (as text '10' < '9'; as numbers past 2^53, ties). */
export const byId = (a: string, b: string) => {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** An instant `days` (fractions allowed) after `iso`. */
export const daysAfter = (iso: string, days: number) => new Date(Date.parse(iso) + days * 86_400_000).toISOString()

/** A bonus row written directly, as the host's bonus server would (e.g. a manual adjustment). */
export const insertBonusRow = (row: {
  readonly table: "permanent" | "temporary"
  readonly clientId: IdInput
  readonly amount: number
  readonly at: string
  readonly expiresAt?: string
  readonly reason?: string | null
}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    row.table === "permanent"
      ? sql`
          INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at)
          VALUES (${row.clientId}, ${row.amount}, ${row.reason ?? null}, ${new Date(row.at)})
        `
      : sql`
          INSERT INTO jupiter.bonus_temporary (client_id, amount, reason, created_at, expires_at)
          VALUES (${row.clientId}, ${row.amount}, ${row.reason ?? null}, ${new Date(row.at)},
                  ${new Date(row.expiresAt ?? daysAfter(row.at, 14))})
        `)

/** Ids read back as text (`::text`), so they are exact whatever the driver's int8 parser. */
export interface BonusRow {
  readonly table: "permanent" | "temporary"
  readonly id: string
  readonly clientId: string
  readonly amount: string
  readonly reason: string | null
  readonly createdAt: Date
  readonly expiresAt: Date | null
  readonly orderUid: string | null
}

/** Every bonus row, permanent ones first, each table by id. */
export const bonusRows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<BonusRow>`
    SELECT b.table, b.id::text AS id, b.client_id::text AS "clientId", b.amount::text AS amount, b.reason,
           b.created_at AS "createdAt", b.expires_at AS "expiresAt", b.order_uid::text AS "orderUid"
    FROM (
      SELECT 'permanent' AS table, id, client_id, amount, reason, created_at, NULL::timestamptz AS expires_at, order_uid
      FROM jupiter.bonus_permanent
      UNION ALL
      SELECT 'temporary', id, client_id, amount, reason, created_at, expires_at, NULL
      FROM jupiter.bonus_temporary
    ) b
    -- by the bigint, not its text ('10' < '9')
    ORDER BY b.table, b.id
  `)

export interface ClientMarks {
  readonly clientId: string
  readonly inviteLapse: Date | null
  /** The month's first day, as text (a date column would otherwise come back as a local-time Date). */
  readonly profileMonth: string | null
  readonly birthdayYear: number | null
}

export const clientMarks = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<ClientMarks>`
    SELECT client_id::text AS "clientId", invite_lapse AS "inviteLapse", profile_month::text AS "profileMonth",
           birthday_year AS "birthdayYear"
    FROM pronto_notify.client_marks ORDER BY client_id
  `)

/** The client's last order time as stored. */
export const lastOrderAt = (clientId: IdInput) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ lastOrderAt: Date | null }>`SELECT last_order_at AS "lastOrderAt" FROM jupiter.clients WHERE id = ${clientId}`.pipe(
      Effect.map((rows) => rows[0]?.lastOrderAt ?? null)
    ))

/** The instant of a wall-clock time in Moscow (UTC+3 all year). */
export const moscow = (localDate: string, time = "12:00") => new Date(`${localDate}T${time}:00+03:00`).toISOString()

/** What each stored notification's action granted, by notification id. */
export const grants = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ id: string; clientId: string; bonusGranted: string | null; bonusOperation: string | null }>`
    SELECT id::text AS id, client_id::text AS "clientId", bonus_granted::text AS "bonusGranted", bonus_operation AS "bonusOperation"
    FROM pronto_notify.notifications
    -- qualified: the bigint column, not the text alias ('10' < '9')
    ORDER BY notifications.id
  `)
