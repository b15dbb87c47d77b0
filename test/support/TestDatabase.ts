/**
 * A fresh database per test file on the run's PostgreSQL, with the reference host schema and
 * the library's migrations, in a session time zone that is neither the business zone nor the
 * process's.
 */
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import pg from "pg"
import { inject } from "vitest"
import * as Database from "../../src/database/Database.ts"
import { installReferenceHostSchema } from "../../src/host/HostSchema.ts"
import { migrate } from "../../src/migrations/Migrations.ts"

export const DATABASE_TIME_ZONE = "Pacific/Kiritimati"

const admin = <A>(url: string, f: (client: pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

const withDatabase = (url: string, name: string) => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** A database of its own, dropped when the layer is released. */
export const makeDatabase = Effect.acquireRelease(
  Effect.gen(function*() {
    const adminUrl = inject("adminDatabaseUrl")
    const name = `pn_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
    yield* admin(adminUrl, async (c) => {
      await c.query(`CREATE DATABASE ${name}`)
      await c.query(`ALTER DATABASE ${name} SET timezone TO '${DATABASE_TIME_ZONE}'`)
    })
    return { adminUrl, name, url: withDatabase(adminUrl, name) }
  }),
  ({ adminUrl, name }) => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
)

/** The URL of a fresh migrated database (for tests that start the command line). */
export const migratedUrl = Effect.gen(function*() {
  const { url } = yield* makeDatabase
  yield* Effect.gen(function*() {
    yield* installReferenceHostSchema
    yield* migrate
  }).pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 2 })), Effect.scoped, Effect.orDie)
  return url
})

export const layer: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient> = Layer.unwrapScoped(
  Effect.map(migratedUrl, (url) => Database.layerUrl(url).pipe(Layer.orDie))
)

/** Empties every table, between tests of one file. */
export const truncateAll = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`
    TRUNCATE jupiter.orders, jupiter.clients, jupiter.bonus_permanent, jupiter.bonus_temporary,
             pronto_notify.order_marks, pronto_notify.client_marks, pronto_notify.notifications,
             pronto_notify.rotation, pronto_notify.invalid_phones
    RESTART IDENTITY CASCADE
  `)

