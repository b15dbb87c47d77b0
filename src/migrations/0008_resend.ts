/**
 * Migration 8: a message settled as not delivered goes out once more (store/InDoubt). Its row is
 * kept, its trigger still taken, with the status `resend` and the instant of the request, until a
 * run of its kind sends it; a resend that fails again waits for the next run in the same way.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

export const migration = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.unsafe(`
ALTER TABLE pronto_notify.notifications
  ADD COLUMN resend_requested_at timestamptz NULL,
  DROP CONSTRAINT notifications_status_check,
  ADD CONSTRAINT notifications_status_check CHECK (status IN ('in_doubt', 'sent', 'resend'));
CREATE INDEX notifications_resend ON pronto_notify.notifications (kind, id) WHERE status = 'resend';
`))
