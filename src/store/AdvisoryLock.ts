/**
 * Session-level advisory locks on reserved connections (a job's lock, a run's token), and running
 * statements on such a connection: taking and releasing a lock, and closing the connection when a
 * release fails, so that a pooled connection never keeps a lock.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlConnection, SqlError, Statement } from "@effect/sql"
import { Clock, Duration, Effect } from "effect"

/** Runs statements on one reserved connection, built with the client's escaping. */
export const onConnection = (conn: SqlConnection.Connection) =>
<Row extends object>(statement: Statement.Statement<Row>): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError> => {
  const [text, params] = statement.compile()
  return conn.execute(text, params, undefined) as Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError>
}

/**
 * How often a connection that holds a session lock shows it is alive, while the lock is held: a
 * statement, so that a server that ends idle sessions (`idle_session_timeout`, longer than this)
 * ends only those whose client is gone, their locks with them.
 */
export const LOCK_HEARTBEAT = Duration.seconds(10)

/**
 * Runs `SELECT 1` on a lock's connection every LOCK_HEARTBEAT until the scope closes; a failure is
 * logged. On the real clock: the server's idle timeout runs in real time, whatever clock the
 * business time runs on (a shifted one, a test's).
 */
export const heartbeat = (lock: string, execute: (statement: string) => Effect.Effect<unknown, SqlError.SqlError>) =>
  Effect.forkScoped(
    Effect.sleep(LOCK_HEARTBEAT).pipe(
      Effect.zipRight(execute("SELECT 1")),
      Effect.catchAll((error) => Effect.logWarning(`the connection holding ${lock} did not answer: ${error.message}`)),
      Effect.forever,
      Effect.withClock(Clock.make())
    )
  )

/** An error's own words, with the database's reason when it has one. */
export const describe = (error: { readonly message: string; readonly cause?: unknown }) =>
  error.cause instanceof Error && error.cause.message !== error.message
    ? `${error.message}: ${error.cause.message}`
    : error.message

/** Whether a failed statement was answered by the server (an SQL error), rather than by a broken connection. */
const answeredByServer = (error: SqlError.SqlError) =>
  typeof error.cause === "object" && error.cause !== null && "severity" in error.cause

/** Asks `check` every 20 ms, for up to 5 seconds, until it holds; whether it did. */
const within5s = <E>(check: Effect.Effect<boolean, E>, tries = 250): Effect.Effect<boolean, E> =>
  Effect.flatMap(check, (ok) =>
    ok || tries <= 1 ? Effect.succeed(ok) : Effect.zipRight(Effect.sleep(Duration.millis(20)), within5s(check, tries - 1)))

/**
 * Releases a session-level advisory lock held by the reserved connection `conn` (backend `pid`).
 * If the release fails, or the server says the session did not hold the lock, the connection must
 * not go back to the pool still holding it (a later blocking lock would wait forever): the failure
 * is logged as an error naming the lock, and the connection's backend is terminated from another
 * connection, which ends the lock server-side even when the client side of `conn` is already
 * broken. It then waits until `conn` itself has seen its connection break, so that the pool
 * discards it instead of handing it out again. Never fails.
 */
export const releaseOrClose = (
  conn: SqlConnection.Connection,
  pid: number,
  lock: string,
  unlock: Effect.Effect<boolean, SqlError.SqlError>
): Effect.Effect<void, never, SqlClient.SqlClient> =>
  unlock.pipe(
    Effect.flatMap((released) =>
      released ? Effect.void : Effect.fail({ message: "the server says this session did not hold it" })
    ),
    Effect.catchAll((error) =>
      Effect.gen(function*() {
        yield* Effect.logError(
          `could not release ${lock}: ${describe(error)}; closing its connection (backend ${pid}) so that the lock ends with it`
        )
        const sql = yield* SqlClient.SqlClient
        const backendGone = sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid}
        `.pipe(Effect.map((rows) => rows[0]?.n === 0))
        const connBroken = conn.executeRaw("SELECT 1", []).pipe(
          Effect.as(false),
          Effect.catchAll((e) => Effect.succeed(!answeredByServer(e)))
        )
        yield* sql`SELECT pg_terminate_backend(${pid})`.pipe(
          Effect.zipRight(within5s(backendGone)),
          Effect.zipRight(within5s(connBroken)),
          Effect.flatMap((closed) =>
            closed
              ? Effect.void
              : Effect.logError(`the connection holding ${lock} (backend ${pid}) did not close within 5 seconds`)
          ),
          Effect.catchAll((e) =>
            Effect.logError(`could not close the connection holding ${lock} (backend ${pid}): ${describe(e)}`)
          )
        )
      })
    )
  )

