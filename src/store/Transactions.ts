/**
 * Transactions beside `sql.withTransaction`: escaping the caller's, and one whose connection the
 * caller may use directly.
 */
import { SqlClient, type SqlConnection, type SqlError, type Statement } from "@effect/sql"
import { Context, Effect, Exit, type Scope } from "effect"

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
 * A connection a sender holds for one message after another, and whether a transaction is already
 * open on it: the commit of one message may begin the next one's in the same round trip.
 */
export interface HeldConnection {
  readonly conn: SqlConnection.Connection
  open: boolean
}

/**
 * Takes a connection to hold; one given back with a transaction still open (begun for a message
 * that another sender took) is rolled back first. A ROLLBACK that fails means a broken connection,
 * which the pool discards: it is logged, and the run goes on.
 */
export const hold: Effect.Effect<HeldConnection, SqlError.SqlError, SqlClient.SqlClient | Scope.Scope> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    Effect.acquireRelease(
      Effect.map(sql.reserve, (conn): HeldConnection => ({ conn, open: false })),
      (held) =>
        held.open
          ? held.conn.executeRaw("ROLLBACK", []).pipe(
            Effect.catchAll((error) =>
              Effect.logWarning(`could not end an empty transaction on a sender's connection: ${error.message}`)
            )
          )
          : Effect.void
    )
)

/**
 * A transaction on a held connection, as `sql.withTransaction` runs one (the SqlClient's
 * statements inside `body` join it; a nested `withTransaction` becomes a savepoint; a failed COMMIT
 * or ROLLBACK is a defect). `body` ends with the text of its last statement, which goes with the
 * COMMIT in one simple query (one round trip); `beginNext` says whether another transaction will
 * follow on this connection, and then the same query begins it.
 */
export const withTransactionOn = <E, R>(
  held: HeldConnection,
  body: Effect.Effect<string, E, R>,
  beginNext: Effect.Effect<boolean>
): Effect.Effect<void, E | SqlError.SqlError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const { conn } = held
      if (!held.open) yield* conn.executeRaw("BEGIN", [])
      held.open = true
      const exit = yield* Effect.exit(
        restore(body).pipe(Effect.provideService(SqlClient.TransactionConnection, [conn, 0]))
      )
      held.open = false
      if (Exit.isFailure(exit)) {
        yield* Effect.orDie(conn.executeRaw("ROLLBACK", []))
        return yield* exit
      }
      const next = yield* beginNext
      // A failure anywhere in it stops the rest (no COMMIT after a failed statement, no BEGIN after a
      // failed COMMIT); what is left of the transaction is rolled back before the defect.
      yield* conn.executeRaw(`${exit.value}; COMMIT${next ? "; BEGIN" : ""}`, []).pipe(
        Effect.tapError(() => Effect.orDie(conn.executeRaw("ROLLBACK", []))),
        Effect.orDie
      )
      held.open = next
    })
  )
