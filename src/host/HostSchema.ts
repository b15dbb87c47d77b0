/**
 * The reference host schema: the Jupiter tables this library reads and writes, as they are in
 * Jupiter (schema `jupiter`). It ships for the embedded default, the examples and the tests; a
 * real Jupiter database already has these tables and only needs the columns docs/host.md's host
 * contract lists.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

export const ORDER_SOURCES = ["site", "app", "new_app", "jupiter", "aggregator"] as const
export type OrderSource = typeof ORDER_SOURCES[number]
export const ORDER_STATUSES = ["open", "closed", "cancelled"] as const
export type OrderStatus = typeof ORDER_STATUSES[number]

const ddl = `
CREATE SCHEMA IF NOT EXISTS jupiter;

CREATE TABLE IF NOT EXISTS jupiter.clients (
  id            bigint PRIMARY KEY,
  phone         text NOT NULL,
  birthday      date NULL,
  last_order_at timestamptz NULL
);
CREATE INDEX IF NOT EXISTS clients_last_order_at ON jupiter.clients (last_order_at);

CREATE TABLE IF NOT EXISTS jupiter.orders (
  uid         uuid PRIMARY KEY,
  client_id   bigint NULL REFERENCES jupiter.clients (id),
  source      text NOT NULL CHECK (source IN ('site', 'app', 'new_app', 'jupiter', 'aggregator')),
  is_delivery boolean NOT NULL,
  status      text NOT NULL CHECK (status IN ('open', 'closed', 'cancelled')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  closed_at   timestamptz NULL,
  total       numeric(12,2) NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS orders_closed_at ON jupiter.orders (closed_at) WHERE status = 'closed';
CREATE INDEX IF NOT EXISTS orders_client_closed_at ON jupiter.orders (client_id, closed_at) WHERE status = 'closed';

-- The bonus server's two tables, with the new reason column. A positive amount is an accrual,
-- a negative one a spending.
CREATE TABLE IF NOT EXISTS jupiter.bonus_permanent (
  id         bigserial PRIMARY KEY,
  client_id  bigint NOT NULL,
  amount     numeric(12,2) NOT NULL,
  reason     text NULL,
  created_at timestamptz NOT NULL,
  order_uid  uuid NULL
);
CREATE INDEX IF NOT EXISTS bonus_permanent_client ON jupiter.bonus_permanent (client_id, created_at);

CREATE TABLE IF NOT EXISTS jupiter.bonus_temporary (
  id         bigserial PRIMARY KEY,
  client_id  bigint NOT NULL,
  amount     numeric(12,2) NOT NULL,
  reason     text NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS bonus_temporary_client ON jupiter.bonus_temporary (client_id, created_at);
`

/** Creates the reference host tables where they are missing (idempotent). */
export const installReferenceHostSchema = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(
    Effect.zipRight(sql`SELECT pg_advisory_xact_lock(hashtext('jupiter reference schema'))`, sql.unsafe(ddl))
  )
})
