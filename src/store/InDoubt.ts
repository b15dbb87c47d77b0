/**
 * Settling a message left in doubt (a timeout, a dropped connection, a crash between the Site's
 * answer and the commit). An operator who has found out, e.g. from the Site's log, says which:
 *
 * - delivered: the message's actions and marks are done now, in one transaction, as of the
 *   attempt's instant (a gift expires 14 days after it), and the message becomes `sent`;
 * - not delivered: the attempt is forgotten, and the next run of its kind sends it afresh.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { DateTime, Effect, Schema } from "effect"
import { type ActionError, ActionStrategy, type KindRequirements, type NotificationId } from "../kinds/Kind.ts"
import { Kinds, type UnknownKind } from "../kinds/Registry.ts"
import { Notifications } from "./Notifications.ts"
import * as Rows from "./Rows.ts"

export class NotInDoubt extends Schema.TaggedError<NotInDoubt>()("NotInDoubt", {
  id: Schema.String,
  status: Schema.NullOr(Schema.String)
}) {
  override get message() {
    return this.status === null
      ? `there is no notification ${this.id}`
      : `notification ${this.id} is ${this.status}, not in doubt: nothing to settle`
  }
}

/** The stored attempt, as settling needs it. */
const InDoubtRow = Schema.Struct({
  kind: Schema.String,
  actionSet: Schema.String,
  triggerKey: Schema.String,
  clientId: Rows.Id,
  orderUid: Schema.NullOr(Schema.String),
  phone: Schema.String,
  chosenAction: Schema.Number,
  performedAction: Schema.Number,
  text: Schema.String,
  status: Schema.String,
  attemptedAt: Rows.Instant
})
const decodeAttempt = Rows.decodeRows(InDoubtRow)

const lockAttempt = (id: NotificationId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      SELECT kind, action_set AS "actionSet", trigger_key AS "triggerKey", client_id::text AS "clientId",
             order_uid::text AS "orderUid", phone, chosen_action AS "chosenAction",
             performed_action AS "performedAction", text, status, attempted_at AS "attemptedAt"
      FROM pronto_notify.notifications WHERE id = ${id} FOR UPDATE
    `).pipe(
      Effect.flatMap(decodeAttempt),
      Effect.flatMap(([row]) =>
        row !== undefined && row.status === "in_doubt"
          ? Effect.succeed(row)
          : Effect.fail(new NotInDoubt({ id, status: row?.status ?? null }))
      )
    )

/** The Site did deliver it: do what the message promised, and record it sent. */
export const settleDelivered = (id: NotificationId): Effect.Effect<
  void,
  NotInDoubt | UnknownKind | ActionError | SqlError.SqlError,
  KindRequirements
> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const notifications = yield* Notifications
    yield* sql.withTransaction(Effect.gen(function*() {
      const attempt = yield* lockAttempt(id)
      const at = DateTime.unsafeFromDate(attempt.attemptedAt)
      const kind = yield* Effect.flatMap(Kinds, (registry) => registry.get(attempt.kind))
      const strategy = yield* Effect.provide(ActionStrategy, kind.actions)
      yield* strategy.perform(
        {
          clientId: attempt.clientId,
          phone: attempt.phone,
          orderUid: attempt.orderUid,
          actionSet: attempt.actionSet,
          trigger: attempt.triggerKey
        },
        { performedAction: attempt.performedAction, text: attempt.text },
        id,
        at
      )
      yield* notifications.confirm(id, at)
    }))
    yield* Effect.logInfo(`notification ${id} settled as delivered`)
  })

/** The Site did not deliver it: forget the attempt, so the next run sends it. */
export const settleNotDelivered = (id: NotificationId): Effect.Effect<void, NotInDoubt | SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.zipRight(lockAttempt(id), sql`DELETE FROM pronto_notify.notifications WHERE id = ${id}`)
    )
    yield* Effect.logInfo(`notification ${id} settled as not delivered: the next run sends it`)
  })
