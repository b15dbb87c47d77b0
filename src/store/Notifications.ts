/**
 * The notifications table (`pronto_notify.notifications`): every message attempted, what was
 * chosen and done, the exact text, when, and the customer's reaction. Jupiter shows it as
 * "Таблица сообщений".
 */
import { SqlClient, type SqlError, type Statement } from "@effect/sql"
import { Context, DateTime, Effect, Layer, Option, Schema, Stream } from "effect"
import type { ClientId, NotificationId } from "../kinds/Kind.ts"
import * as KeysetPages from "./KeysetPages.ts"
import * as Rows from "./Rows.ts"
import { outsideTransaction } from "./Transactions.ts"

export interface Attempt {
  readonly kind: string
  /** The rotation counter its action came from: the kind, or the kind and band. */
  readonly actionSet: string
  readonly triggerKey: string
  readonly clientId: ClientId
  readonly orderUid: string | null
  readonly phone: string
  readonly chosenAction: number
  readonly performedAction: number
  readonly text: string
  readonly at: DateTime.Utc
}

export const MessageStatus = Schema.Literal("sent", "in_doubt")
export const Reaction = Schema.Literal("pending", "reacted", "none")

export class Message extends Schema.Class<Message>("Message")({
  id: Rows.Id,
  kind: Schema.String,
  clientId: Rows.Id,
  orderUid: Schema.NullOr(Schema.String),
  phone: Schema.String,
  chosenAction: Schema.Number,
  performedAction: Schema.Number,
  text: Schema.String,
  /** When it was sent; for a message in doubt, when it was attempted. */
  sentAt: Schema.compose(Rows.Instant, Schema.DateTimeUtcFromDate),
  status: MessageStatus,
  reaction: Reaction,
  reactionRef: Schema.NullOr(Schema.String)
}) {}

export interface MessageFilter {
  readonly kind?: string | undefined
  readonly from?: DateTime.Utc | undefined
  readonly to?: DateTime.Utc | undefined
}

const toDate = (at: DateTime.Utc) => DateTime.toDateUtc(at)

const decodeId = Rows.decodeRows(Schema.Struct({ id: Rows.Id }))

/** Rows per page of `list`, and where a page ends: the last row's instant (exact, UTC text) and id. */
const LIST_PAGE = 1_000
const ListKey = Schema.Struct({ pageAt: Schema.String, id: Rows.Id })

export class Notifications extends Context.Tag("pronto-notify/Notifications")<Notifications, {
  /**
   * Records an attempt, committed on its own before the POST. None when this trigger already has
   * a message (sent, or in doubt): the caller must not send.
   */
  readonly reserve: (attempt: Attempt) => Effect.Effect<Option.Option<NotificationId>, SqlError.SqlError>
  /** Marks the attempt sent; runs inside the notification's transaction. */
  readonly confirm: (id: NotificationId, sentAt: DateTime.Utc) => Effect.Effect<void, SqlError.SqlError>
  /** Records the bonus an action granted (inside the notification's transaction). */
  readonly recordBonus: (id: NotificationId, amount: number, operation: string) => Effect.Effect<void, SqlError.SqlError>
  /** Forgets an attempt that certainly did not reach the customer, so the next run tries again. */
  readonly release: (id: NotificationId) => Effect.Effect<void, SqlError.SqlError>
  /** The messages in order of their instant, streamed: the table may be large. */
  readonly list: (filter: MessageFilter) => Stream.Stream<Message, SqlError.SqlError>
}>() {
  static readonly make = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return Notifications.of({
      reserve: (a) =>
        sql`
          INSERT INTO pronto_notify.notifications
            (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action, performed_action, text, status,
             attempted_at)
          VALUES (${a.kind}, ${a.actionSet}, ${a.triggerKey}, ${a.clientId}, ${a.orderUid}, ${a.phone}, ${a.chosenAction},
                  ${a.performedAction}, ${a.text}, 'in_doubt', ${toDate(a.at)})
          ON CONFLICT ON CONSTRAINT notifications_one_per_trigger DO NOTHING
          RETURNING id::text AS id
        `.pipe(
          Effect.flatMap(decodeId),
          Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => r.id)),
          outsideTransaction
        ),

      confirm: (id, sentAt) =>
        sql`UPDATE pronto_notify.notifications SET status = 'sent', sent_at = ${toDate(sentAt)} WHERE id = ${id}`.pipe(
          Effect.asVoid
        ),

      recordBonus: (id, amount, operation) =>
        sql`
          UPDATE pronto_notify.notifications SET bonus_granted = ${amount}, bonus_operation = ${operation} WHERE id = ${id}
        `.pipe(Effect.asVoid),

      release: (id) =>
        sql`DELETE FROM pronto_notify.notifications WHERE id = ${id} AND status = 'in_doubt'`.pipe(
          Effect.asVoid,
          outsideTransaction
        ),

      list: (filter) => {
        const page = (after: Statement.Fragment, limit: number) =>
          sql`
            SELECT id::text AS id, kind, client_id::text AS "clientId", order_uid::text AS "orderUid", phone,
                   chosen_action AS "chosenAction", performed_action AS "performedAction", text,
                   coalesce(sent_at, attempted_at) AS "sentAt", status, reaction, reaction_ref AS "reactionRef",
                   to_char(coalesce(sent_at, attempted_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "pageAt"
            FROM pronto_notify.notifications
            WHERE ${filter.kind === undefined ? sql`true` : sql`kind = ${filter.kind}`}
              AND ${filter.from === undefined ? sql`true` : sql`coalesce(sent_at, attempted_at) >= ${toDate(filter.from)}`}
              AND ${filter.to === undefined ? sql`true` : sql`coalesce(sent_at, attempted_at) < ${toDate(filter.to)}`}
              AND ${after}
            ORDER BY coalesce(sent_at, attempted_at), notifications.id
            LIMIT ${limit}
          `
        // Keyset pages, not a cursor: a lost connection fails the listing instead of hanging it.
        return KeysetPages.stream({
          sql,
          row: Message,
          key: ListKey,
          size: LIST_PAGE,
          resume: (k) => sql`(coalesce(sent_at, attempted_at), notifications.id) > (${k.pageAt}::timestamptz, ${k.id}::bigint)`,
          page
        })
      }
    })
  })

  static readonly layer = Layer.effect(Notifications, Notifications.make)
}
