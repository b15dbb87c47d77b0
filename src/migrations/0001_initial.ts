/**
 * Migration 1: rotation counters, the notifications, the order and client marks, and the
 * birthday-occurrence function.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { BIRTHDAY_IN_YEAR } from "./BirthdayInYear.ts"

export const migration = Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`
CREATE TABLE pronto_notify.rotation (
  action_set text PRIMARY KEY,
  next_slot  bigint NOT NULL DEFAULT 0
);

-- One row per message attempt. It is written (status in_doubt) and committed before the POST,
-- then flipped to sent in the transaction that performs the actions; a definite failure deletes
-- it. The unique trigger makes a second message for the same order, lapse, month or birthday
-- impossible, even after a crash.
CREATE TABLE pronto_notify.notifications (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL,
  trigger_key      text NOT NULL,
  client_id        bigint NOT NULL,
  order_uid        uuid NULL,
  phone            text NOT NULL,
  chosen_action    smallint NOT NULL,
  performed_action smallint NOT NULL,
  text             text NOT NULL,
  status           text NOT NULL CHECK (status IN ('in_doubt', 'sent')),
  attempted_at     timestamptz NOT NULL,
  sent_at          timestamptz NULL,
  reaction         text NOT NULL DEFAULT 'pending' CHECK (reaction IN ('pending', 'reacted', 'none')),
  reaction_ref     text NULL,
  reacted_at       timestamptz NULL,
  -- what the action granted, for the report; written by the action in the same transaction
  bonus_granted    numeric(12,2) NULL,
  bonus_operation  text NULL,
  CONSTRAINT notifications_one_per_trigger UNIQUE (kind, trigger_key)
);
CREATE INDEX notifications_sent_at ON pronto_notify.notifications (sent_at);
CREATE INDEX notifications_client ON pronto_notify.notifications (client_id, kind);
CREATE INDEX notifications_pending ON pronto_notify.notifications (kind, sent_at)
  WHERE reaction = 'pending' AND status = 'sent';

-- Marks: what Jupiter calls the order's and the client's "notification sent" flags.
CREATE TABLE pronto_notify.order_marks (
  order_uid       uuid PRIMARY KEY,
  notification_id bigint NOT NULL REFERENCES pronto_notify.notifications (id)
);

CREATE TABLE pronto_notify.client_marks (
  client_id      bigint PRIMARY KEY,
  -- the lapse notified: the client's last_order_at when invited; cleared by the next closed order
  invite_lapse   timestamptz NULL,
  -- the month the profile prompt was sent for (its first day)
  profile_month  date NULL,
  -- the year of the birthday greeted
  birthday_year  integer NULL
);

-- The occurrence of a birthday in a given year; 29 February is 28 February in other years (C6).
CREATE FUNCTION pronto_notify.birthday_in_year(b date, y integer) RETURNS date
LANGUAGE sql IMMUTABLE STRICT AS $$
${BIRTHDAY_IN_YEAR}
$$;
`))
