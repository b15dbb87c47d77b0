/**
 * Transactions beside `sql.withTransaction`: escaping the caller's, and one whose connection the
 * caller may use directly.
 */
import { SqlClient, type SqlError, type Statement } from "@effect/sql"
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
 * A transaction on a pooled connection, as `sql.withTransaction` runs one (the SqlClient's
 * statements inside `body` join it; a nested `withTransaction` becomes a savepoint; a failed COMMIT
 * or ROLLBACK is a defect), that also gives `body` its connection: the statements a run makes for
 * every message go straight to it, without a span and a scope each.
 */
export const withOwnTransaction = <A, E, R>(
  body: (execute: Executor) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError.SqlError, R | SqlClient.SqlClient> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.scoped(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const conn = yield* sql.reserve
      yield* conn.executeRaw("BEGIN", [])
      const exit = yield* Effect.exit(
        restore(body(onConnection(conn))).pipe(Effect.provideService(SqlClient.TransactionConnection, [conn, 0]))
      )
      yield* Effect.orDie(conn.executeRaw(Exit.isSuccess(exit) ? "COMMIT" : "ROLLBACK", []))
      return yield* exit
    }))
  )
