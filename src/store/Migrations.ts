/**
 * The library's own tables, in their own Postgres schema `pronto_notify`, applied with the
 * `@effect/sql` Migrator. Queries live in the module that owns each table.
 */
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { Effect, Option } from "effect"
import { REQUESTS_TABLE } from "../bonus/api/Idempotency.ts"
import { OUTBOX_TABLE } from "../bonus/http/Outbox.ts"
import { BusinessTimeZone, DEFAULT_TIME_ZONE } from "../time/BusinessTime.ts"
import { migration as JOB_RUNS_TABLE } from "../scheduling/JobRuns.ts"
import { migration as INVALID_PHONES_TABLE } from "./InvalidPhones.ts"
import { attemptsMigration } from "./Notifications.ts"

export const SCHEMA = "pronto_notify"

/**
 * The occurrence of a birthday in a given year: 29 February is 28 February in other years (C6).
 * One body for the function's two definitions (migrations 1 and 6).
 */
const BIRTHDAY_IN_YEAR = `  SELECT CASE
    WHEN extract(month FROM b) = 2 AND extract(day FROM b) = 29
         AND NOT ((y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0)
      THEN make_date(y, 2, 28)
    ELSE make_date(y, extract(month FROM b)::int, extract(day FROM b)::int)
  END`

const initial = `
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
`

/**
 * Each notification records the action set its action came from (the report groups by it), and
 * the rotation counts turns. Stored invites get their band back from their trigger as the report
 * used to read it: more than 28 days between the lapse's and the send's business-zone dates is A;
 * an unreadable trigger leaves the band unknown (the action set is the kind).
 */
const ISO_INSTANT = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}(:?\\d{2})?)$"

const actionSets = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const zone = Option.match(yield* Effect.serviceOption(BusinessTimeZone), {
    onNone: () => DEFAULT_TIME_ZONE,
    onSome: (z) => z.name
  })
  yield* sql`ALTER TABLE pronto_notify.notifications ADD COLUMN action_set text NULL`
  yield* sql`
    UPDATE pronto_notify.notifications
    SET action_set = CASE
      WHEN kind = 'invite' AND split_part(trigger_key, '@', 2) ~ ${ISO_INSTANT}
        THEN 'invite:' || CASE
          WHEN (coalesce(sent_at, attempted_at) AT TIME ZONE ${zone}::text)::date
               - (split_part(trigger_key, '@', 2)::timestamptz AT TIME ZONE ${zone}::text)::date > 28 THEN 'A' ELSE 'B' END
      ELSE kind
    END
  `
  yield* sql`ALTER TABLE pronto_notify.notifications ALTER COLUMN action_set SET NOT NULL`
  yield* sql`ALTER TABLE pronto_notify.rotation RENAME COLUMN next_slot TO next_turn`
})

/**
 * Selection at scale. The birthday occurrence is no longer STRICT, which changes no result (its
 * body gives NULL for a NULL argument) but lets PostgreSQL inline it into the selector's
 * expressions instead of calling a function per client: ten times faster over a million clients.
 */
const selection = `
CREATE OR REPLACE FUNCTION pronto_notify.birthday_in_year(b date, y integer) RETURNS date
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT AS $$
${BIRTHDAY_IN_YEAR}
$$;
`

const ddl = (statements: string) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statements))

/** Every migration, in order. Append; never edit one that has shipped. */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "1_initial": ddl(initial),
  "2_bonus_http": ddl(REQUESTS_TABLE + OUTBOX_TABLE),
  "3_job_runs": ddl(JOB_RUNS_TABLE),
  "4_action_sets": actionSets,
  "5_delivery": ddl(attemptsMigration + INVALID_PHONES_TABLE),
  "6_selection": ddl(selection)
}

const runMigrator = Migrator.make({})

/** Applies the library's migrations (idempotent; concurrent callers wait for each other). */
export const migrate = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // The Migrator creates its table with a check that would race between two processes starting
  // at once; creating schema and table first, under a lock, leaves it nothing to race on.
  yield* sql.withTransaction(
    Effect.all([
      sql`SELECT pg_advisory_xact_lock(hashtext('pronto_notify migrations'))`,
      sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`),
      sql.unsafe(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.migrations (
        migration_id integer PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        name text NOT NULL
      )`)
    ], { discard: true })
  )
  return yield* runMigrator({ loader: Migrator.fromRecord(migrations), table: `${SCHEMA}.migrations` })
})
