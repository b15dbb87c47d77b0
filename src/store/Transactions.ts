/**
 * Escaping the caller's transaction.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect } from "effect"

/**
 * Runs a statement on a connection of its own even when called inside a transaction: for writes
 * that must commit on their own (a rotation slot, an attempt recorded before its POST).
 */
export const outsideTransaction = <A, Err, R>(effect: Effect.Effect<A, Err, R>): Effect.Effect<A, Err, R> =>
  Effect.mapInputContext(effect, (context) => Context.omit(SqlClient.TransactionConnection)(context) as typeof context)
