/**
 * Migration 5: each attempt records the run that made it (its token), when its POST started, and
 * when an operator settled it; run tokens come from a sequence. An attempt left in doubt before
 * this migration is taken to have started its POST (nobody can tell), so it stays for an operator.
 * Invalid phones are remembered per trigger (store/InvalidPhones).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

export const migration = Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`
ALTER TABLE pronto_notify.notifications
  ADD COLUMN run_token integer NULL,
  ADD COLUMN post_started_at timestamptz NULL,
  ADD COLUMN settled_at timestamptz NULL;
UPDATE pronto_notify.notifications SET post_started_at = attempted_at WHERE status = 'in_doubt';
CREATE INDEX notifications_in_doubt ON pronto_notify.notifications (kind, attempted_at) WHERE status = 'in_doubt';
CREATE SEQUENCE pronto_notify.run_tokens AS integer CYCLE;

CREATE TABLE pronto_notify.invalid_phones (
  kind         text NOT NULL,
  trigger_key  text NOT NULL,
  client_id    bigint NOT NULL,
  reported_at  timestamptz NOT NULL,
  PRIMARY KEY (kind, trigger_key)
);
`))
