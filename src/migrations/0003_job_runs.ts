/**
 * Migration 3: one row per (job, scheduled slot) (scheduling/JobRuns).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

export const migration = Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`
-- One row per (job, scheduled slot): running while a process holds the job's advisory lock, then
-- done with the run's summary; failed or interrupted slots are run again when asked again.
CREATE TABLE pronto_notify.job_runs (
  job          text NOT NULL,
  slot         timestamptz NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
  attempts     integer NOT NULL DEFAULT 1,
  runner       text NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NULL,
  summary      jsonb NULL,
  error        text NULL,
  PRIMARY KEY (job, slot)
);
`))
