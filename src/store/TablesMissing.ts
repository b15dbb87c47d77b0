/**
 * A statement that fails because a table is not there names the cause instead of PostgreSQL's
 * bare "Failed to execute statement": the library's own tables need its migrations; the host's
 * need the host schema contract (docs/host.md, "The host's tables").
 */
import type { SqlError } from "@effect/sql"
import { Effect, Schema, Stream } from "effect"

export class TablesMissing extends Schema.TaggedError<TablesMissing>()("TablesMissing", {
  /** What PostgreSQL said is missing: a relation (`pronto_notify.notifications`) or a schema. */
  missing: Schema.String,
  /** Whose it is: the library's (migrations) or the host's (its schema contract). */
  owner: Schema.Literal("library", "host")
}) {
  override get message() {
    return this.owner === "library"
      ? `the database has no ${this.missing}: apply the library's migrations first (Migrations.migrate, or pronto-notify migrate)`
      : `the database has no ${this.missing}: the host's tables must be there as the host schema contract says (docs/host.md)`
  }
}

/** undefined_table, invalid_schema_name, undefined_function */
const MISSING = new Set(["42P01", "3F000", "42883"])

const missingOf = (error: SqlError.SqlError): TablesMissing | undefined => {
  const cause = error.cause as { readonly code?: unknown; readonly message?: unknown } | null | undefined
  if (typeof cause !== "object" || cause === null || typeof cause.code !== "string" || !MISSING.has(cause.code)) return
  const quoted = /"([^"]+)"/.exec(String(cause.message))?.[1]
  if (quoted === undefined) return
  const owner = quoted.startsWith("pronto_notify") ? "library" : quoted.startsWith("jupiter") ? "host" : undefined
  if (owner === undefined) return
  return new TablesMissing({ missing: owner === "library" && !quoted.includes(".") ? `schema ${quoted}` : quoted, owner })
}

const rename = <E>(error: E): E | TablesMissing =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "SqlError"
    ? missingOf(error as unknown as SqlError.SqlError) ?? error
    : error

/** Turns an SqlError that says a table (or schema) is missing into `TablesMissing`; other errors pass. */
export const named = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | TablesMissing, R> =>
  Effect.mapError(effect, rename)

/** `named`, for a stream. */
export const namedStream = <A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E | TablesMissing, R> =>
  Stream.mapError(stream, rename)
