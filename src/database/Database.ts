/**
 * The PostgreSQL connection of the command line, the demo and the tests: `DATABASE_URL` when set,
 * otherwise an embedded server. A plain `PgClient` with the driver's own type parsers, as a host's
 * would be (the library decodes its rows itself: store/Rows), over a pool whose every wait is
 * bounded, whatever the link does:
 *
 * - a connection is made, or taken from a full pool, within `CONNECT_TIMEOUT`;
 * - the server ends a statement that runs longer than the timeout (`statement_timeout`), and a
 *   session left idle inside a transaction (`idle_in_transaction_session_timeout`), and a session
 *   left idle at all (`idle_session_timeout`, so PostgreSQL 14 or later), with its session locks;
 * - the client gives up on an answer a little after that (`query_timeout`): a link that stops
 *   forwarding without closing (a half-open connection through a proxy) answers nothing, and
 *   such a connection is then closed rather than handed out again;
 * - TCP keepalives find a dead peer on an idle connection.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type { SqlClient } from "@effect/sql"
import * as SqlError from "@effect/sql/SqlError"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import pg from "pg"
import * as Deployment from "../config/Deployment.ts"
import * as Embedded from "./EmbeddedPostgres.ts"

export type { EmbeddedOptions } from "./EmbeddedPostgres.ts"

export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  message: Schema.String
}) {}

/** How long making a connection, or waiting for one from a full pool, may take. */
export const CONNECT_TIMEOUT = Duration.seconds(10)

/** How long a statement may run, by default (`DATABASE_TIMEOUT`). */
export const STATEMENT_TIMEOUT = Duration.seconds(60)

/** How much longer than the statement timeout the client waits for an answer before it gives the connection up. */
const ANSWER_MARGIN = Duration.seconds(5)

/** A transaction may stay idle (a message's transaction waits for the Site) this long past the statement timeout. */
const IDLE_IN_TRANSACTION_MARGIN = Duration.seconds(60)

/**
 * A session idle this long is ended by the server (`idle_session_timeout`, PostgreSQL 14 and
 * later): one whose client went away behind a half-open link, and the session locks it held (a
 * job's, a run's, the cluster's shards) with it. The library's lock connections show they are
 * alive more often than that (store/AdvisoryLock's heartbeat), and so does the cluster's. Set at
 * the connection's start, with the other timeouts: a statement of its own would race the first query.
 */
export const idleSessionTimeoutOf = (statement: Duration.Duration): Duration.Duration =>
  Duration.max(Duration.seconds(30), Duration.times(statement, 2))

/** Strips credentials so that a connection error never prints a password. */
const describe = (url: string) => {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || 5432}${u.pathname}`
  } catch {
    return "the configured database"
  }
}

const READ_TIMEOUT = "Query read timeout"

/**
 * A client that closes its connection when an answer did not come in time: the connection is
 * stuck behind that statement, so the pool must not hand it out again. Ending the client with a
 * statement still active destroys its socket and, since the end was asked for, raises no error
 * event; the pool then drops it when it is given back.
 */
class BoundedClient extends pg.Client {
  override query(...args: Array<unknown>): never {
    const last = args.length - 1
    const callback = args[last]
    if (typeof callback === "function") {
      args[last] = (error: unknown, result: unknown) => {
        if (error instanceof Error && error.message === READ_TIMEOUT) void this.end().catch(() => undefined)
        callback(error, result)
      }
    }
    return (pg.Client.prototype.query as (...a: Array<unknown>) => never).apply(this, args)
  }
}

export interface PoolOptions {
  /** The pool's size; default 16. */
  readonly maxConnections?: number
  /** How long a statement may run; default `DATABASE_TIMEOUT`, else `STATEMENT_TIMEOUT`. */
  readonly statementTimeout?: Duration.DurationInput
}

/** The settings of a bounded pool over `url`, for a host that builds its own `pg.Pool`. */
export const poolConfig = (url: string, options: PoolOptions = {}): pg.PoolConfig => {
  const statement = Duration.toMillis(Duration.decode(options.statementTimeout ?? STATEMENT_TIMEOUT))
  const idleInTransaction = statement + Duration.toMillis(IDLE_IN_TRANSACTION_MARGIN)
  const idleSession = Duration.toMillis(idleSessionTimeoutOf(Duration.millis(statement)))
  return {
    connectionString: url,
    max: options.maxConnections ?? 16,
    connectionTimeoutMillis: Duration.toMillis(CONNECT_TIMEOUT),
    query_timeout: statement + Duration.toMillis(ANSWER_MARGIN),
    options: `-c statement_timeout=${statement} -c idle_in_transaction_session_timeout=${idleInTransaction} -c idle_session_timeout=${idleSession}`,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: "pronto-notify",
    Client: BoundedClient
  }
}

/** `DATABASE_TIMEOUT` as the statement timeout, when set. */
const configuredTimeout = Effect.orDie(Deployment.databaseTimeout)

export const layerUrl = (url: string, options: PoolOptions = {}): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, DatabaseUnavailable> =>
  Layer.unwrapEffect(Effect.map(configuredTimeout, (timeout) => {
    const statement = Duration.decode(options.statementTimeout ?? Option.getOrElse(timeout, () => STATEMENT_TIMEOUT))
    const config = poolConfig(url, { ...options, statementTimeout: statement })
    return PgClient.layerFromPool({
      acquire: Effect.acquireRelease(
        Effect.sync(() => {
          const pool = new pg.Pool(config)
          // An idle connection that breaks is removed by the pool; its error needs no more.
          pool.on("error", () => undefined)
          return pool
        }).pipe(
          Effect.tap((pool) =>
            Effect.tryPromise({
              try: () => pool.query("SELECT 1"),
              catch: (cause) => new SqlError.SqlError({ cause, message: "PgClient: Failed to connect" })
            }).pipe(Effect.tapError(() => Effect.promise(() => pool.end().catch(() => undefined))))
          )
        ),
        // `end` waits for every connection to come back, and one that a reserve interrupted while it
        // waited for the pool never does (@effect/sql-pg cannot cancel that wait): the wait is made
        // interruptible, as a release is not, so that the timeout can end it.
        (pool) => Effect.promise(() => pool.end().catch(() => undefined)).pipe(Effect.interruptible, Effect.timeoutOption("5 seconds"))
      ),
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
  }))

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
