/**
 * Statements beside the caller's transaction: escaping it, and running on one connection.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError, Statement } from "@effect/sql"
import { Context, Effect } from "effect"

/**
 * Runs a statement on a connection of its own even when called inside a transaction: for writes
 * that must commit on their own (a rotation turn, an attempt released).
 */
export const outsideTransaction = <A, Err, R>(effect: Effect.Effect<A, Err, R>): Effect.Effect<A, Err, R> =>
  Effect.mapInputContext(effect, (context) => Context.omit(SqlClient.TransactionConnection)(context) as typeof context)

/** Runs statements on one connection. */
export type Executor = <Row extends object>(
  statement: Statement.Statement<Row>
) => Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError>
