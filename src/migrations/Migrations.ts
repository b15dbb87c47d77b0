/**
 * The library's own tables, in their own Postgres schema `pronto_notify`, applied with the
 * `@effect/sql` Migrator: one file per migration in this folder, in order. Append; never edit one
 * that has shipped. Queries live in the modules that own each table.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Migrator from "@effect/sql/Migrator"
import { Effect } from "effect"
import { migration as initial } from "./0001_initial.ts"
import { migration as bonusHttp } from "./0002_bonus_http.ts"
import { migration as jobRuns } from "./0003_job_runs.ts"
import { migration as actionSets } from "./0004_action_sets.ts"
import { migration as delivery } from "./0005_delivery.ts"
import { migration as selection } from "./0006_selection.ts"
import { migration as refusals } from "./0007_refusals.ts"
import { migration as resend } from "./0008_resend.ts"

/** What a statement says when the migrations (or the host's tables) are missing. */
export { TablesMissing } from "../store/TablesMissing.ts"

export const SCHEMA = "pronto_notify"

/** Every migration by its id and name, as the Migrator records them. */
export const migrations: Record<string, Effect.Effect<unknown, unknown, SqlClient.SqlClient>> = {
  "1_initial": initial,
  "2_bonus_http": bonusHttp,
  "3_job_runs": jobRuns,
  "4_action_sets": actionSets,
  "5_delivery": delivery,
  "6_selection": selection,
  "7_refusals": refusals,
  "8_resend": resend
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
