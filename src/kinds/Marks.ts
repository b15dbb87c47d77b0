/**
 * Marks: what Jupiter calls the order's and the client's "notification sent" flags, written by an
 * action inside the message's transaction so that the selector leaves the trigger out. An order's
 * mark names its notification (`pronto_notify.order_marks`); a client's marks are one column per
 * kind that marks clients (`pronto_notify.client_marks`: the invite lapse, the profile month, the
 * birthday year), each kind naming its own.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Effect } from "effect"
import type { ClientId, NotificationId } from "../store/Ids.ts"

/** Marks an order as notified by a notification. */
export const markOrder = (orderUid: string | null, notificationId: NotificationId): Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO pronto_notify.order_marks (order_uid, notification_id) VALUES (${orderUid}, ${notificationId})`)
    .pipe(Effect.asVoid)

/** Sets one of a client's marks: `column` of `client_marks` to `value`, cast to `type`. */
export const markClient = (
  clientId: ClientId,
  column: "invite_lapse" | "profile_month" | "birthday_year",
  value: string | number,
  type: "timestamptz" | "date" | "integer"
): Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO pronto_notify.client_marks (client_id, ${sql(column)})
      VALUES (${clientId}, ${value}::${sql.literal(type)})
      ON CONFLICT (client_id) DO UPDATE SET ${sql(column)} = EXCLUDED.${sql(column)}
    `).pipe(Effect.asVoid)
