/**
 * Migration 2: the bonus server's HTTP API: its accruals' idempotency keys (`bonus_requests`,
 * bonus/api/Idempotency) and the client's outbox of accruals (`bonus_outbox`, bonus/http/Outbox).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

export const migration = Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`
CREATE TABLE pronto_notify.bonus_requests (
  key          text PRIMARY KEY,
  operation_id text NOT NULL,
  -- the request as given, so that a key reused for another accrual is refused
  request      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pronto_notify.bonus_outbox (
  id              bigserial PRIMARY KEY,
  request_key     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  type            text NOT NULL CHECK (type IN ('permanent', 'temporary')),
  client_id       bigint NOT NULL,
  amount          numeric(12,2) NOT NULL,
  reason          text NULL,
  accrued_at      timestamptz NOT NULL,
  expires_at      timestamptz NULL CHECK ((type = 'temporary') = (expires_at IS NOT NULL)),
  order_uid       uuid NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  refusals        integer NOT NULL DEFAULT 0,
  last_error      text NULL,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until   timestamptz NULL,
  delivered_at    timestamptz NULL,
  operation_id    text NULL,
  failed_at       timestamptz NULL CHECK (failed_at IS NULL OR delivered_at IS NULL)
);
CREATE INDEX bonus_outbox_pending ON pronto_notify.bonus_outbox (id) WHERE delivered_at IS NULL AND failed_at IS NULL;
`))
