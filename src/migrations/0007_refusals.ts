/**
 * Migration 7: the messages the Site refused (`mesages_sent` 0, a 4xx), by trigger, so that a
 * retry of the same slot does not post them again (store/Attempts). Kept as the history of
 * refusals; a later slot tries the trigger again.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

export const migration = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.unsafe(`
CREATE TABLE pronto_notify.refusals (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL,
  trigger_key text NOT NULL,
  client_id   bigint NOT NULL,
  refused_at  timestamptz NOT NULL,
  run_token   integer NULL,
  reason      text NOT NULL
);
CREATE INDEX refusals_trigger ON pronto_notify.refusals (kind, trigger_key, refused_at);
`))
