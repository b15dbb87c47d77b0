/**
 * Triggers whose phone the Site cannot take (`pronto_notify.invalid_phones`): remembered so that an
 * invalid phone is reported once per trigger, not in every run for as long as it stays on file.
 * It is still counted as invalid in every run's summary, and sent as soon as the host corrects it.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { DateTime, Effect } from "effect"
import type { ClientId } from "../kinds/Kind.ts"

export const migration = `
CREATE TABLE pronto_notify.invalid_phones (
  kind         text NOT NULL,
  trigger_key  text NOT NULL,
  client_id    bigint NOT NULL,
  reported_at  timestamptz NOT NULL,
  PRIMARY KEY (kind, trigger_key)
);
`

/** Remembers a trigger's invalid phone; whether it was new (and so is to be reported). */
export const remember = (
  kind: string,
  triggerKey: string,
  clientId: ClientId
): Effect.Effect<boolean, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(Effect.all([SqlClient.SqlClient, DateTime.now]), ([sql, now]) =>
    sql`
      INSERT INTO pronto_notify.invalid_phones (kind, trigger_key, client_id, reported_at)
      VALUES (${kind}, ${triggerKey}, ${clientId}, ${DateTime.toDateUtc(now)})
      ON CONFLICT DO NOTHING
      RETURNING client_id::text AS "clientId"
    `.pipe(Effect.map((rows) => rows.length === 1)))
