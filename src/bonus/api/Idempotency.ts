/**
 * Idempotent accruals on the bonus server: the `pronto_notify.bonus_requests` table and the
 * statements over it. An accrual sent with a key is made once per key; a retry after a lost
 * answer gets the first operation id. SQL only: migrations load this module without any HTTP.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Rows from "../../store/Rows.ts"

/** The key was already used for a different request: the caller must use a new key. */
export class KeyReused extends Schema.TaggedError<KeyReused>()("KeyReused", { key: Schema.String }) {}

/**
 * Makes the accrual once per key. The key's record is written in the same transaction as the
 * accrual (the SQL ledger joins it), so a retry after a lost answer finds it and gets the first
 * operation id; a key reused for a different request is refused.
 */
const decodePrior = Rows.decodeRows(Schema.Struct({ operationId: Schema.String, same: Schema.Boolean }))

export const accrueOnce = (sql: SqlClient.SqlClient) =>
<E, R>(
  key: string,
  request: Record<string, unknown>,
  accrue: Effect.Effect<string, E, R>
): Effect.Effect<string, E | KeyReused | SqlError.SqlError, R> => {
  const asGiven = JSON.stringify(request)
  return Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(hashtextextended(${`pronto_notify bonus request ${key}`}, 0))`
    const prior = yield* sql`
      SELECT operation_id AS "operationId", request = ${asGiven}::jsonb AS same
      FROM pronto_notify.bonus_requests WHERE key = ${key}
    `.pipe(Effect.flatMap(decodePrior))
    if (prior[0] !== undefined) {
      if (!prior[0].same) return yield* new KeyReused({ key })
      return prior[0].operationId
    }
    const operationId = yield* accrue
    yield* sql`
      INSERT INTO pronto_notify.bonus_requests (key, operation_id, request)
      VALUES (${key}, ${operationId}, ${asGiven}::jsonb)
    `
    return operationId
  }).pipe(sql.withTransaction)
}
