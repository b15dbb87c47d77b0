/**
 * Whether a serving process is ready: each check says so with a line of why. `Readiness` holds
 * the checks of one process: the database answers and the library's migrations are all applied
 * (`standard`), and for `pronto-notify serve` the cluster holds its shards (`Cluster.shardsCheck`).
 * A check never fails and never waits long: a database that does not answer within
 * `CHECK_TIMEOUT` is not ready.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { migrations as known, SCHEMA } from "../migrations/Migrations.ts"

/** How long one check may take before it counts as failed. */
export const CHECK_TIMEOUT = Duration.seconds(3)

/** One check's answer. */
export interface Check {
  readonly name: string
  readonly ok: boolean
  /** One line: what was found, or what is wrong. */
  readonly detail: string
}

/** Every check's answer; ready when all are. */
export interface Report {
  readonly ready: boolean
  readonly checks: ReadonlyArray<Check>
}

/** What a check found wrong, in one line. */
export class NotReady extends Schema.TaggedError<NotReady>()("NotReady", { message: Schema.String }) {}

const firstLine = (text: string) => text.split("\n")[0]!

/**
 * A check named `name`: ready with the line `effect` gives, not ready with the first line of its
 * error, or when it takes longer than `CHECK_TIMEOUT`.
 */
export const check = <E extends { readonly message: string }, R>(
  name: string,
  effect: Effect.Effect<string, E, R>
): Effect.Effect<Check, never, R> =>
  effect.pipe(
    Effect.timeoutFail({ duration: CHECK_TIMEOUT, onTimeout: () => new NotReady({ message: `no answer within ${Duration.format(CHECK_TIMEOUT)}` }) }),
    Effect.match({
      onSuccess: (detail): Check => ({ name, ok: true, detail }),
      onFailure: (error): Check => ({ name, ok: false, detail: firstLine(error.message) })
    }),
    Effect.catchAllDefect((defect) => Effect.succeed<Check>({ name, ok: false, detail: firstLine(String(defect)) }))
  )

/** The database answers a query. */
export const database: Effect.Effect<Check, never, SqlClient.SqlClient> = check(
  "database",
  Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.as(sql`SELECT 1`, "answers"))
)

const knownIds = Object.keys(known).map((key) => Number.parseInt(key, 10))

/** Every migration this version of the library has is applied (a newer version's are allowed). */
export const migrations: Effect.Effect<Check, never, SqlClient.SqlClient> = check(
  "migrations",
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [present] = yield* sql<{ present: boolean }>`SELECT to_regclass(${`${SCHEMA}.migrations`}) IS NOT NULL AS present`
    if (present?.present !== true) return yield* new NotReady({ message: "no migrations applied: run pronto-notify migrate" })
    const rows = yield* sql<{ id: number }>`SELECT migration_id AS id FROM ${sql(SCHEMA)}.migrations`
    const applied = new Set(rows.map((r) => Number(r.id)))
    const missing = knownIds.filter((id) => !applied.has(id))
    if (missing.length > 0) {
      return yield* new NotReady({ message: `${missing.length} migration(s) not applied (${missing.join(", ")}): run pronto-notify migrate` })
    }
    return `all ${knownIds.length} applied`
  })
)

/** The checks every process that uses the database has. */
export const standard: ReadonlyArray<Effect.Effect<Check, never, SqlClient.SqlClient>> = [database, migrations]

/** Runs every check, side by side. */
export const report = <R>(checks: ReadonlyArray<Effect.Effect<Check, never, R>>): Effect.Effect<Report, never, R> =>
  Effect.map(Effect.all(checks, { concurrency: "unbounded" }), (results) => ({ ready: results.every((c) => c.ok), checks: results }))

/** A process's readiness: its checks, run each time it is asked. */
export class Readiness extends Context.Tag("@pronto/notify/Readiness")<Readiness, {
  readonly check: Effect.Effect<Report>
}>() {}

/** `Readiness` over these checks, with what they need taken from the layer's context. */
export const layer = <R>(checks: ReadonlyArray<Effect.Effect<Check, never, R>>): Layer.Layer<Readiness, never, R> =>
  Layer.effect(Readiness, Effect.map(Effect.context<R>(), (context) => Readiness.of({ check: Effect.provide(report(checks), context) })))

/** `Readiness` over the `standard` checks. */
export const layerStandard: Layer.Layer<Readiness, never, SqlClient.SqlClient> = layer(standard)
