/**
 * The library over a test database with the recording Sender and the SQL bonus ledger: what the
 * kind tests run on.
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer, Stream, TestClock } from "effect"
import type { Kind } from "../../src/kinds/Kind.ts"
import * as ProntoNotify from "../../src/host/ProntoNotify.ts"
import { Sender } from "../../src/delivery/Sender.ts"
import * as TestDatabase from "./TestDatabase.ts"

export const layer = Layer.mergeAll(ProntoNotify.layer(), Sender.layerTest).pipe(
  Layer.provideMerge(TestDatabase.layer)
)

/** Moves the TestClock to an instant. */
export const at = (iso: string) => TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake(iso)))

/** Ids read back as text (`::text`), so they are exact whatever the driver's int8 parser. */
export interface StoredNotification {
  readonly id: string
  readonly kind: string
  readonly triggerKey: string
  readonly clientId: string
  readonly orderUid: string | null
  readonly phone: string
  readonly chosenAction: number
  readonly performedAction: number
  readonly text: string
  readonly status: string
  readonly sentAt: Date | null
}

export const notifications = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<StoredNotification>`
    SELECT id::text AS id, kind, trigger_key AS "triggerKey", client_id::text AS "clientId", order_uid::text AS "orderUid", phone,
           chosen_action AS "chosenAction", performed_action AS "performedAction", text, status, sent_at AS "sentAt"
    FROM pronto_notify.notifications
    -- qualified: the bigint column, not the text alias ('10' < '9')
    ORDER BY notifications.id
  `)

/**
 * What a kind's selector yields at an instant: the candidates a run then would take. For the
 * selection rules at hours when no run sends (the sending hours are 11:00 to 22:00).
 */
export const selectAt = <R>(kind: Kind<string, unknown, R>, iso: string) =>
  Effect.map(Stream.runCollect(kind.select(DateTime.unsafeMake(iso))), (chunk) => [...chunk])
