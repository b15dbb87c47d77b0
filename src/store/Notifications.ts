/**
 * The notifications table (`pronto_notify.notifications`) as people read it: every message
 * attempted, what was chosen and done, the exact text, when, and the customer's reaction. Jupiter
 * shows it as "Таблица сообщений". What a run writes into it is `Attempts`'s; settling, `InDoubt`'s.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError, Statement } from "@effect/sql"
import { Context, DateTime, Effect, Layer, Schema, type Stream } from "effect"
import * as KeysetPages from "./KeysetPages.ts"
import * as Rows from "./Rows.ts"
import * as TablesMissing from "./TablesMissing.ts"

export const MessageStatus = Schema.Literal("sent", "in_doubt", "resend")
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

/** Rows per page of `list`, and where a page ends: the last row's instant (exact, UTC text) and id. */
const LIST_PAGE = 1_000
const ListKey = Schema.Struct({ pageAt: Schema.String, id: Rows.Id })

export class Notifications extends Context.Tag("pronto-notify/Notifications")<Notifications, {
  /** The messages in order of their instant, streamed: the table may be large. */
  readonly list: (filter: MessageFilter) => Stream.Stream<Message, SqlError.SqlError | TablesMissing.TablesMissing>
}>() {
  static readonly make = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return Notifications.of({
      list: (filter) => {
        const page = (after: Statement.Fragment, limit: number) =>
          sql`
            SELECT id::text AS id, kind, client_id::text AS "clientId", order_uid::text AS "orderUid", phone,
                   chosen_action AS "chosenAction", performed_action AS "performedAction", text,
                   coalesce(sent_at, attempted_at) AS "sentAt", status, reaction, reaction_ref AS "reactionRef",
                   to_char(coalesce(sent_at, attempted_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "pageAt"
            FROM pronto_notify.notifications
            WHERE ${filter.kind === undefined ? sql`true` : sql`kind = ${filter.kind}`}
              AND ${filter.from === undefined ? sql`true` : sql`coalesce(sent_at, attempted_at) >= ${DateTime.toDateUtc(filter.from)}`}
              AND ${filter.to === undefined ? sql`true` : sql`coalesce(sent_at, attempted_at) < ${DateTime.toDateUtc(filter.to)}`}
              AND ${after}
            ORDER BY coalesce(sent_at, attempted_at), notifications.id
            LIMIT ${limit}
          `
        // Keyset pages, not a cursor: a lost connection fails the listing instead of hanging it.
        return TablesMissing.namedStream(KeysetPages.stream({
          sql,
          row: Message,
          key: ListKey,
          size: LIST_PAGE,
          resume: (k) => sql`(coalesce(sent_at, attempted_at), notifications.id) > (${k.pageAt}::timestamptz, ${k.id}::bigint)`,
          page
        }))
      }
    })
  })

  static readonly layer = Layer.effect(Notifications, Notifications.make)
}
