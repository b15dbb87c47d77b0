/**
 * Rows as they come back from PostgreSQL, decoded with Schema so that no result depends on the
 * SqlClient's type parsers: the host's own `PgClient.layer` (int8 as strings, dates as Dates) and
 * a client configured otherwise give the same values. Queries cast what parsers would change
 * (`id::text`, `amount::text`, `day::text`); instants decode from a Date or an ISO string.
 */
import { Effect, Schema } from "effect"

/** A bigint id (clients, notifications, bonus operations), exact: digits, never a rounded number. */
export const Id = Schema.String.pipe(Schema.pattern(/^-?\d+$/)).annotations({ identifier: "Id" })

/** A timestamptz: a Date from the default parser, or its text from a client that keeps it. */
export const Instant = Schema.Union(Schema.DateFromSelf, Schema.DateFromString).annotations({ identifier: "Instant" })

/** A numeric cast to text (`amount::text`), read as a number. */
export const Numeric = Schema.NumberFromString

/** A count or any int4: every parser gives a number. */
export const Int = Schema.Int

/**
 * Decodes rows; a row that does not decode is a bug in the query beside it, not bad input, so it
 * is a defect.
 */
export const decodeRows = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>> => Effect.orDie(decode(rows))
}

/** Decodes one row (see `decodeRows`). */
export const decodeRow = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(schema)
  return (row: unknown): Effect.Effect<A> => Effect.orDie(decode(row))
}
