/**
 * The PostgreSQL connection of the command line, the demo and the tests: `DATABASE_URL` when set,
 * otherwise an embedded server. A plain `PgClient.layer` with the driver's own type parsers, as a
 * host's would be: the library decodes its rows itself (store/Rows).
 */
import { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Deployment from "../config/Deployment.ts"
import * as Embedded from "./EmbeddedPostgres.ts"

export type { EmbeddedOptions } from "./EmbeddedPostgres.ts"

export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  message: Schema.String
}) {}

/** Strips credentials so that a connection error never prints a password. */
const describe = (url: string) => {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || 5432}${u.pathname}`
  } catch {
    return "the configured database"
  }
}

export const layerUrl = (url: string, options: PoolOptions = {}) =>
  PgClient.layer({
    url: Redacted.make(url),
    maxConnections: options.maxConnections ?? 16,
    connectTimeout: "10 seconds",
    applicationName: "pronto-notify"
  }).pipe(
    Layer.catchAll((error) =>
      Layer.fail(
        new DatabaseUnavailable({
          message: `cannot connect to PostgreSQL at ${describe(url)} (${
            error.cause instanceof Error ? error.cause.message : error.message
          }); check DATABASE_URL`
        })
      )
    )
  )

export interface PoolOptions {
  /** The pool's size; default 16. */
  readonly maxConnections?: number
}

export const layerEmbedded = (options: Embedded.EmbeddedOptions | "temporary", pool: PoolOptions = {}) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const resolved = options === "temporary"
        ? { dataDir: yield* Embedded.temporaryDataDir, persistent: false }
        : options
      const url = yield* Embedded.start(resolved)
      return layerUrl(url, pool)
    }).pipe(Effect.mapError((e) => new DatabaseUnavailable({ message: e.message })))
  )

/**
 * `DATABASE_URL` when set; otherwise the embedded server (`temporary`: a fresh one removed at the
 * end, as the demo uses; by default a persistent one kept between commands).
 */
export const layer = (
  whenNoUrl: Embedded.EmbeddedOptions | "temporary" = { dataDir: Embedded.defaultDataDir, persistent: true },
  pool: PoolOptions = {}
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, DatabaseUnavailable> =>
  Layer.unwrapEffect(
    Deployment.databaseUrl.pipe(
      Effect.orDie,
      Effect.map(Option.match({
        onNone: () => layerEmbedded(whenNoUrl, pool),
        onSome: (url) => layerUrl(Redacted.value(url), pool)
      }))
    )
  )
