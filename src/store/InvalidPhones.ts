/**
 * Triggers whose phone the Site cannot take (`pronto_notify.invalid_phones`): remembered so that an
 * invalid phone is reported once per trigger, not in every run for as long as it stays on file.
 * It is still counted as invalid in every run's summary, and sent as soon as the host corrects it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Context, DateTime, Effect, Layer, Ref } from "effect"
import type { ClientId } from "./Ids.ts"

export class InvalidPhones extends Context.Tag("pronto-notify/InvalidPhones")<InvalidPhones, {
  /** Remembers a trigger's invalid phone; whether it was new (and so is to be reported). */
  readonly remember: (kind: string, triggerKey: string, clientId: ClientId) => Effect.Effect<boolean, SqlError.SqlError>
}>() {
  static readonly make = Effect.map(SqlClient.SqlClient, (sql) =>
    InvalidPhones.of({
      remember: (kind, triggerKey, clientId) =>
        Effect.flatMap(DateTime.now, (now) =>
          sql`
            INSERT INTO pronto_notify.invalid_phones (kind, trigger_key, client_id, reported_at)
            VALUES (${kind}, ${triggerKey}, ${clientId}, ${DateTime.toDateUtc(now)})
            ON CONFLICT DO NOTHING
            RETURNING client_id::text AS "clientId"
          `).pipe(Effect.map((rows) => rows.length === 1))
    }))

  static readonly layer = Layer.effect(InvalidPhones, InvalidPhones.make)

  /** In memory; no database. */
  static readonly layerTest = Layer.effect(
    InvalidPhones,
    Effect.map(Ref.make<ReadonlySet<string>>(new Set()), (seen) =>
      InvalidPhones.of({
        remember: (kind, triggerKey) =>
          Ref.modify(seen, (s) => {
            const key = `${kind}\u0000${triggerKey}`
            return s.has(key) ? [false, s] : [true, new Set([...s, key])]
          })
      }))
  )
}
