/**
 * The client's last order date (C8): `jupiter.clients.last_order_at`, which the `invite` kind
 * reads, kept up to date when an order closes, and recomputed from the order history by the
 * one-off backfill. The next closed order also clears the inactivity mark, so a client who
 * lapses again later is invited again (C4).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Data, DateTime, Effect, Option, Schema } from "effect"
import type { ClientId } from "../store/Ids.ts"
import * as Rows from "../store/Rows.ts"
import { type InvalidOrderUid, parseOrderUid } from "./OrderUid.ts"

export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", {
  orderUid: Schema.String
}) {
  override get message() {
    return `order ${this.orderUid} is not in jupiter.orders: check the UID`
  }
}

export class OrderNotClosed extends Schema.TaggedError<OrderNotClosed>()("OrderNotClosed", {
  orderUid: Schema.String,
  status: Schema.String
}) {
  override get message() {
    return `order ${this.orderUid} is ${this.status}, not closed (with a close time): call this once it has closed`
  }
}

/** What `orderClosed` did. As JSON its options are plain values (`null` for none, instants as ISO text). */
export class OrderClosed extends Data.Class<{
  readonly orderUid: string
  /** None for an order without a client: nothing to update. */
  readonly clientId: Option.Option<ClientId>
  /** The client's last order time after the call. */
  readonly lastOrderAt: Option.Option<DateTime.Utc>
  /** Whether the call moved the last order time (a replayed older order does not). */
  readonly moved: boolean
  /** Whether the inactivity mark was cleared. */
  readonly inviteMarkCleared: boolean
}> {
  toJSON() {
    return {
      orderUid: this.orderUid,
      clientId: Option.getOrNull(this.clientId),
      lastOrderAt: Option.getOrNull(Option.map(this.lastOrderAt, DateTime.formatIso)),
      moved: this.moved,
      inviteMarkCleared: this.inviteMarkCleared
    }
  }
}

const decodeOrder = Rows.decodeRows(Schema.Struct({
  clientId: Schema.NullOr(Rows.Id),
  status: Schema.String,
  closedAt: Schema.NullOr(Rows.Instant)
}))
const decodeClient = Rows.decodeRows(Schema.Struct({ lastOrderAt: Schema.NullOr(Rows.Instant), moved: Schema.Boolean }))
const decodeClosing = Rows.decodeRows(Schema.Struct({ uid: Schema.String, status: Schema.String, closedAt: Schema.NullOr(Rows.Instant) }))
const decodeOrdersClosed = Rows.decodeRows(Schema.Struct({ clientsMoved: Rows.Int, inviteMarksCleared: Rows.Int }))
const decodeBackfilled = Rows.decodeRows(Schema.Struct({ clientsChanged: Rows.Int, inviteMarksCleared: Rows.Int }))

/**
 * What the host calls when an order closes (operators replay a missed event with
 * `pronto-notify order-closed`). The order must be in `jupiter.orders`, closed, with its close
 * time. The client's last order time becomes the latest close time, never moving back, and the
 * inactivity mark is cleared when this close time is after the lapse it marks. One transaction.
 */
export const orderClosed = (
  orderUid: string
): Effect.Effect<OrderClosed, InvalidOrderUid | OrderNotFound | OrderNotClosed | SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const uid = yield* parseOrderUid(orderUid)
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const [order] = yield* sql`
        SELECT client_id::text AS "clientId", status, closed_at AS "closedAt" FROM jupiter.orders WHERE uid = ${uid}::uuid
      `.pipe(Effect.flatMap(decodeOrder))
      if (order === undefined) return yield* Effect.fail(new OrderNotFound({ orderUid: uid }))
      if (order.status !== "closed" || order.closedAt === null) {
        return yield* Effect.fail(
          new OrderNotClosed({ orderUid: uid, status: order.status === "closed" ? "closed without a close time" : order.status })
        )
      }
      if (order.clientId === null) {
        return new OrderClosed({ orderUid: uid, clientId: Option.none(), lastOrderAt: Option.none(), moved: false, inviteMarkCleared: false })
      }
      // The close time is taken from the row, not round-tripped through a JS Date (which keeps
      // only milliseconds), so the mark comparison below is exact.
      const [client] = yield* sql`
        WITH o AS (SELECT closed_at FROM jupiter.orders WHERE uid = ${uid}::uuid),
        moved AS (
          UPDATE jupiter.clients c SET last_order_at = o.closed_at
          FROM o
          WHERE c.id = ${order.clientId} AND (c.last_order_at IS NULL OR c.last_order_at < o.closed_at)
          RETURNING c.last_order_at
        )
        SELECT coalesce((SELECT last_order_at FROM moved),
                        (SELECT last_order_at FROM jupiter.clients WHERE id = ${order.clientId})) AS "lastOrderAt",
               EXISTS (SELECT 1 FROM moved) AS moved
      `.pipe(Effect.flatMap(decodeClient))
      const cleared = yield* sql`
        UPDATE pronto_notify.client_marks m SET invite_lapse = NULL
        FROM jupiter.orders o
        WHERE o.uid = ${uid}::uuid AND m.client_id = ${order.clientId} AND m.invite_lapse < o.closed_at
        RETURNING m.client_id
      `
      return new OrderClosed({
        orderUid: uid,
        clientId: Option.some(order.clientId),
        lastOrderAt: Option.map(Option.fromNullable(client?.lastOrderAt), DateTime.unsafeFromDate),
        moved: client?.moved ?? false,
        inviteMarkCleared: cleared.length > 0
      })
    }))
  })

export interface OrdersClosed {
  /** Clients whose last order time moved forward. */
  readonly clientsMoved: number
  /** Inactivity marks cleared. */
  readonly inviteMarksCleared: number
}

/**
 * `orderClosed` for many orders at once, for a host that closes orders in batches (a shift's
 * sync, a replay): the same rules in two statements, whatever the batch size. Every order must be
 * in `jupiter.orders` and closed; otherwise nothing is written.
 */
export const ordersClosed = (
  orderUids: ReadonlyArray<string>
): Effect.Effect<OrdersClosed, InvalidOrderUid | OrderNotFound | OrderNotClosed | SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const uids = yield* Effect.forEach(orderUids, parseOrderUid)
    if (uids.length === 0) return { clientsMoved: 0, inviteMarksCleared: 0 }
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const found = yield* sql`
        SELECT uid::text AS uid, status, closed_at AS "closedAt" FROM jupiter.orders WHERE uid IN ${sql.in(uids)}
      `.pipe(Effect.flatMap(decodeClosing))
      const byUid = new Map(found.map((o) => [o.uid, o]))
      for (const uid of uids) {
        const order = byUid.get(uid)
        if (order === undefined) return yield* Effect.fail(new OrderNotFound({ orderUid: uid }))
        if (order.status !== "closed" || order.closedAt === null) {
          return yield* Effect.fail(
            new OrderNotClosed({ orderUid: uid, status: order.status === "closed" ? "closed without a close time" : order.status })
          )
        }
      }
      const [row] = yield* sql`
        WITH o AS (
          SELECT client_id, max(closed_at) AS closed_at FROM jupiter.orders
          WHERE uid IN ${sql.in(uids)} AND client_id IS NOT NULL
          GROUP BY client_id
        ), moved AS (
          UPDATE jupiter.clients c SET last_order_at = o.closed_at
          FROM o
          WHERE c.id = o.client_id AND (c.last_order_at IS NULL OR c.last_order_at < o.closed_at)
          RETURNING c.id
        ), cleared AS (
          UPDATE pronto_notify.client_marks m SET invite_lapse = NULL
          FROM o
          WHERE m.client_id = o.client_id AND m.invite_lapse < o.closed_at
          RETURNING m.client_id
        )
        SELECT (SELECT count(*) FROM moved)::int AS "clientsMoved", (SELECT count(*) FROM cleared)::int AS "inviteMarksCleared"
      `.pipe(Effect.flatMap(decodeOrdersClosed))
      return row!
    }))
  })

/** What the backfill changed. */
export interface Backfilled {
  /** Clients whose last order time changed. */
  readonly clientsChanged: number
  /** Inactivity marks cleared because the last order time moved past them. */
  readonly inviteMarksCleared: number
}

/**
 * The service procedure: every client's last order time recomputed from closed orders only (C8),
 * in one statement: the latest close time, or none for a client without a closed order (a value
 * no closed order supports, from an order since cancelled, say, is cleared). Where the last order
 * time moved past the marked lapse, the inactivity mark is cleared. Returns how many clients
 * changed and how many marks were cleared.
 */
export const backfillLastOrder: Effect.Effect<Backfilled, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql`
      WITH latest AS (
        SELECT client_id, max(closed_at) AS last_order_at
        FROM jupiter.orders
        WHERE status = 'closed' AND client_id IS NOT NULL AND closed_at IS NOT NULL
        GROUP BY client_id
      ), changed AS (
        UPDATE jupiter.clients c SET last_order_at = l.last_order_at
        FROM jupiter.clients k LEFT JOIN latest l ON l.client_id = k.id
        WHERE c.id = k.id AND c.last_order_at IS DISTINCT FROM l.last_order_at
        RETURNING c.id, c.last_order_at
      ), cleared AS (
        UPDATE pronto_notify.client_marks m SET invite_lapse = NULL
        FROM changed
        WHERE m.client_id = changed.id AND m.invite_lapse < changed.last_order_at
        RETURNING m.client_id
      )
      SELECT (SELECT count(*) FROM changed)::int AS "clientsChanged",
             (SELECT count(*) FROM cleared)::int AS "inviteMarksCleared"
    `.pipe(Effect.flatMap(decodeBackfilled))
    return row!
  }
)
