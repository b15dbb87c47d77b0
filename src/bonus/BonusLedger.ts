/**
 * The bonus server over SQL: `jupiter.bonus_permanent` and `jupiter.bonus_temporary`, the host's
 * own tables. Every statement runs on the caller's connection, so inside `sql.withTransaction`
 * an accrual commits or rolls back with the notification it belongs to (C10).
 *
 * A positive row is an accrual, a negative one a spending. Spending from a temporary bucket
 * writes a negative temporary row with the bucket's own `expires_at`, so the spent part leaves
 * the balance together with the bucket and nothing is counted twice (C14):
 *
 *   balance(t) = Σ permanent (created_at <= t) + Σ temporary (created_at <= t < expires_at)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import {
  type Accrual,
  type AccrualLookup,
  BonusServer,
  BonusServerError,
  type FoundAccrual,
  InsufficientBalance,
  type OperationId
} from "./BonusServer.ts"
import type { ClientId } from "../store/Ids.ts"
import * as Rows from "../store/Rows.ts"

/** Temporary bonuses expire this long after accrual unless spent. */
export const TEMPORARY_LIFETIME_DAYS = 14

/** The reason of every accrual made for an order. */
export const ORDER_REASON = "order"

/** When a temporary bonus accrued at `at` expires. */
export const temporaryExpiry = (at: DateTime.Utc): DateTime.Utc => DateTime.add(at, { days: TEMPORARY_LIFETIME_DAYS })

/** The largest amount numeric(12,2) holds, in cents. */
const MAX_CENTS = 10 ** 12 - 1
/** The largest amount numeric(12,2) holds. */
export const MAX_AMOUNT = MAX_CENTS / 100

/** Amounts are handled in whole cents: float sums of 0.1s would drift. */
const toCents = (amount: number | string): number => Math.round(Number(amount) * 100)
const fromCents = (cents: number): string => (cents / 100).toFixed(2)

/**
 * The one amount check, shared with the HTTP API so that both accept the same amounts: positive,
 * at most two decimals up to float noise (0.1 + 0.2 is 0.30), at most MAX_AMOUNT.
 */
export const isValidAmount = (amount: number): boolean =>
  Number.isFinite(amount) && amount > 0 && Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-6 &&
  Math.round(amount * 100) <= MAX_CENTS

const invalidAmount = (operation: string, amount: number) =>
  new BonusServerError({
    operation,
    reason: `amount ${amount} is not a positive number of bonuses with at most two decimals (up to ${
      fromCents(MAX_CENTS)
    })`
  })

const failed = (operation: string) => (error: SqlError.SqlError) =>
  new BonusServerError({ operation, reason: error.message })

/**
 * Accrues bonuses for an order, always with reason `order`: there is no reason to pass, so an
 * order accrual cannot be stored without it. The one path that writes `order`: any other accrual
 * keeps the reason it is given, an order UID or not (a review bonus names the order it reviews
 * and stays `feedback`). Works with any BonusServer.
 */
export const accrueForOrder = (accrual: {
  readonly clientId: ClientId
  readonly orderUid: string
  readonly amount: number
  readonly at: DateTime.Utc
}): Effect.Effect<OperationId, BonusServerError, BonusServer> =>
  Effect.flatMap(BonusServer, (bonus) =>
    bonus.accrue({
      type: "permanent",
      clientId: accrual.clientId,
      orderUid: accrual.orderUid,
      amount: accrual.amount,
      reason: ORDER_REASON,
      at: accrual.at
    }))

const decodeCents = Rows.decodeRows(Schema.Struct({ cents: Rows.Numeric }))
const decodeId = Rows.decodeRows(Schema.Struct({ id: Rows.Id }))
const decodeBuckets = Rows.decodeRows(Schema.Struct({ expiresAt: Schema.String, cents: Rows.Numeric }))
const decodeFound = Rows.decodeRows(Schema.Struct({
  operationId: Schema.NullOr(Schema.String),
  at: Schema.NullOr(Rows.Instant),
  amount: Schema.NullOr(Rows.Numeric)
}))

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const balanceCents = (clientId: ClientId, at: Date) =>
    sql`
      SELECT round(100 * (
        coalesce((SELECT sum(amount) FROM jupiter.bonus_permanent
                  WHERE client_id = ${clientId} AND created_at <= ${at}), 0)
        + coalesce((SELECT sum(amount) FROM jupiter.bonus_temporary
                    WHERE client_id = ${clientId} AND created_at <= ${at} AND expires_at > ${at}), 0)
      ))::text AS cents
    `.pipe(Effect.flatMap(decodeCents), Effect.map((rows) => rows[0]!.cents))

  const balance = (clientId: ClientId, at: DateTime.Utc) =>
    balanceCents(clientId, DateTime.toDateUtc(at)).pipe(
      Effect.map((cents) => cents / 100),
      Effect.mapError(failed("balance"))
    )

  const accrue = (accrual: Accrual): Effect.Effect<OperationId, BonusServerError> => {
    if (!isValidAmount(accrual.amount)) return Effect.fail(invalidAmount("accrue", accrual.amount))
    const at = DateTime.toDateUtc(accrual.at)
    const amount = fromCents(toCents(accrual.amount))
    if (accrual.type === "permanent") {
      return sql`
        INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at, order_uid)
        VALUES (${accrual.clientId}, ${amount}::numeric, ${accrual.reason}, ${at}, ${accrual.orderUid ?? null}::uuid)
        RETURNING id::text AS id
      `.pipe(Effect.flatMap(decodeId), Effect.map((rows) => `permanent:${rows[0]!.id}`), Effect.mapError(failed("accrue")))
    }
    if (DateTime.toEpochMillis(accrual.expiresAt) <= DateTime.toEpochMillis(accrual.at)) {
      return Effect.fail(
        new BonusServerError({
          operation: "accrue",
          reason: `a temporary accrual must expire after it is made (at ${DateTime.formatIso(accrual.at)}, expires ${
            DateTime.formatIso(accrual.expiresAt)
          })`
        })
      )
    }
    return sql`
      INSERT INTO jupiter.bonus_temporary (client_id, amount, reason, created_at, expires_at)
      VALUES (${accrual.clientId}, ${amount}::numeric, ${accrual.reason}, ${at}, ${DateTime.toDateUtc(accrual.expiresAt)})
      RETURNING id::text AS id
    `.pipe(Effect.flatMap(decodeId), Effect.map((rows) => `temporary:${rows[0]!.id}`), Effect.mapError(failed("accrue")))
  }

  const spend = (clientId: ClientId, amount: number, at: DateTime.Utc) => {
    if (!isValidAmount(amount)) return Effect.fail(invalidAmount("spend", amount))
    const when = DateTime.toDateUtc(at)
    const wanted = toCents(amount)
    return Effect.gen(function*() {
      // One spender per client at a time, until the (outer) transaction ends: two spends could
      // otherwise both pass the balance check. A separate statement, so the reads below take
      // their snapshot after the lock is held.
      yield* sql`SELECT pg_advisory_xact_lock(hashtextextended(${`pronto_notify bonus ${clientId}`}, 0))`
      const buckets = yield* sql`
        SELECT expires_at::text AS "expiresAt", round(100 * sum(amount))::text AS cents
        FROM jupiter.bonus_temporary
        WHERE client_id = ${clientId} AND created_at <= ${when} AND expires_at > ${when}
        GROUP BY expires_at
        HAVING sum(amount) > 0
        ORDER BY expires_at
      `.pipe(Effect.flatMap(decodeBuckets))
      const available = yield* balanceCents(clientId, when)
      if (available < wanted) {
        return yield* Effect.fail(new InsufficientBalance({ clientId, requested: amount, available: available / 100 }))
      }
      // Soonest-expiring temporary buckets first, the rest from the permanent bonuses.
      let rest = wanted
      // The expiry as the server wrote it (to the microsecond), so the spent part leaves with its bucket.
      const fromTemporary: Array<{ expiresAt: string; cents: number }> = []
      for (const bucket of buckets) {
        if (rest === 0) break
        const take = Math.min(rest, bucket.cents)
        fromTemporary.push({ expiresAt: bucket.expiresAt, cents: take })
        rest -= take
      }
      if (fromTemporary.length > 0) {
        yield* sql`
          INSERT INTO jupiter.bonus_temporary (client_id, amount, reason, created_at, expires_at)
          SELECT ${clientId}, -s.amount, NULL, ${when}, s.expires_at
          FROM jsonb_to_recordset(${
          JSON.stringify(fromTemporary.map((t) => ({ amount: fromCents(t.cents), expires_at: t.expiresAt })))
        }::jsonb) AS s(amount numeric, expires_at timestamptz)
        `
      }
      if (rest > 0) {
        yield* sql`
          INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at)
          VALUES (${clientId}, ${`-${fromCents(rest)}`}::numeric, NULL, ${when})
        `
      }
    }).pipe(
      sql.withTransaction,
      Effect.catchTag("SqlError", (error) => Effect.fail(failed("spend")(error)))
    )
  }

  const firstAccruals = (lookups: ReadonlyArray<AccrualLookup>) => {
    if (lookups.length === 0) return Effect.succeed([])
    const batch = JSON.stringify(lookups.map((l, ord) => ({
      ord,
      client_id: l.clientId,
      reason: l.reason,
      after: DateTime.formatIso(l.after),
      until: DateTime.formatIso(l.until)
    })))
    return sql`
      SELECT l.ord, f.operation_id AS "operationId", f.created_at AS at, f.amount::text AS amount
      FROM jsonb_to_recordset(${batch}::jsonb)
             AS l(ord integer, client_id bigint, reason text, after timestamptz, until timestamptz)
      LEFT JOIN LATERAL (
        SELECT a.operation_id, a.created_at, a.amount
        FROM (
          SELECT 'permanent:' || p.id AS operation_id, p.created_at, p.amount, 0 AS table_rank, p.id
          FROM jupiter.bonus_permanent p
          WHERE p.client_id = l.client_id AND p.reason = l.reason AND p.amount > 0
            AND p.created_at > l.after AND p.created_at <= l.until
          UNION ALL
          SELECT 'temporary:' || t.id, t.created_at, t.amount, 1, t.id
          FROM jupiter.bonus_temporary t
          WHERE t.client_id = l.client_id AND t.reason = l.reason AND t.amount > 0
            AND t.created_at > l.after AND t.created_at <= l.until
        ) a
        ORDER BY a.created_at, a.table_rank, a.id
        LIMIT 1
      ) f ON true
      ORDER BY l.ord
    `.pipe(
      Effect.flatMap(decodeFound),
      Effect.map((rows) =>
        rows.map((row) =>
          row.operationId === null || row.at === null || row.amount === null
            ? Option.none<FoundAccrual>()
            : Option.some<FoundAccrual>({ operationId: row.operationId, at: DateTime.unsafeFromDate(row.at), amount: row.amount })
        )
      ),
      Effect.mapError(failed("firstAccruals"))
    )
  }

  return BonusServer.of({ balance, accrue, spend, firstAccruals })
})

/** The SQL ledger as the BonusServer, over the host's SqlClient. */
export const layer: Layer.Layer<BonusServer, never, SqlClient.SqlClient> = Layer.effect(BonusServer, make)
