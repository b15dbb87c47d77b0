/**
 * Transactions beside `sql.withTransaction`: escaping the caller's, and one whose connection the
 * caller may use directly.
 */
import { SqlClient, type SqlConnection, type SqlError, type Statement } from "@effect/sql"
import { Context, Effect, Exit } from "effect"
import { onConnection } from "./AdvisoryLock.ts"

/**
 * Runs a statement on a connection of its own even when called inside a transaction: for writes
 * that must commit on their own (a rotation slot, an attempt recorded before its POST).
 */
export const outsideTransaction = <A, Err, R>(effect: Effect.Effect<A, Err, R>): Effect.Effect<A, Err, R> =>
  Effect.mapInputContext(effect, (context) => Context.omit(SqlClient.TransactionConnection)(context) as typeof context)

/** Runs statements on one connection. */
export type Executor = <Row extends object>(
  statement: Statement.Statement<Row>
) => Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError>

/**
 * A transaction on `conn`, a connection the caller holds, as `sql.withTransaction` runs one (the
 * SqlClient's statements inside `body` join it; a nested `withTransaction` becomes a savepoint; a
 * failed COMMIT or ROLLBACK is a defect), that also gives `body` the connection: the statements a
 * run makes for every message go straight to it, without a span and a scope each.
 */
export const withTransactionOn = <A, E, R>(
  conn: SqlConnection.Connection,
  body: (execute: Executor) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError.SqlError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      yield* conn.executeRaw("BEGIN", [])
      const exit = yield* Effect.exit(
        restore(body(onConnection(conn))).pipe(Effect.provideService(SqlClient.TransactionConnection, [conn, 0]))
      )
      yield* Effect.orDie(conn.executeRaw(Exit.isSuccess(exit) ? "COMMIT" : "ROLLBACK", []))
      return yield* exit
    })
  )
