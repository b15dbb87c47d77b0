/**
 * Messages left in doubt (no answer, a dropped connection, a gateway's error or a crash after the
 * POST started): listing them, and settling them one by one or in bulk (by ids, or by kind, attempt
 * time and run) once an operator knows, e.g. from the Site's log, whether the Site delivered them:
 *
 * - delivered: each message's actions and marks are done now, as of the settling instant (a gift's
 *   14 days start when it is granted), and the message becomes `sent` (sent at its POST's start,
 *   settled now);
 * - not delivered: each goes out once more, exactly once, by the next run of its kind (or at once,
 *   `Jobs.resend`), as it was planned: its action, its text; one whose trigger is gone is forgotten.
 *
 * Only attempts of runs that have ended are settled: one still running is delivering it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError, Statement } from "@effect/sql"
import { DateTime, Effect, Option, Schema, Stream } from "effect"
import { normalizePhone } from "../delivery/Phone.ts"
import type { ActionError, GrantedBonus, KindRequirements } from "../kinds/Kind.ts"
import { Kinds, type UnknownKind } from "../kinds/Kinds.ts"
import type { NotificationId } from "./Ids.ts"
import * as Metrics from "../observability/Metrics.ts"
import * as KeysetPages from "./KeysetPages.ts"
import * as Rows from "./Rows.ts"
import { runIsGone } from "./RunSession.ts"
import * as TablesMissing from "./TablesMissing.ts"

/** Which messages in doubt: given ids, or every one of a kind, an attempt-time range and a run. */
export interface InDoubtFilter {
  readonly ids?: ReadonlyArray<NotificationId> | undefined
  readonly kind?: string | undefined
  /** Attempted at or after. */
  readonly from?: DateTime.Utc | undefined
  /** Attempted before. */
  readonly to?: DateTime.Utc | undefined
  /** The run that attempted them (its summary's `run`). */
  readonly run?: number | undefined
}

export class NotInDoubt extends Schema.TaggedError<NotInDoubt>()("NotInDoubt", {
  id: Schema.String,
  status: Schema.NullOr(Schema.String)
}) {
  override get message() {
    return this.status === null
      ? `there is no notification ${this.id}`
      : this.status === "in_doubt"
      ? `notification ${this.id} belongs to a run that is still going: settle it once that run has ended`
      : `notification ${this.id} is ${this.status}, not in doubt: nothing to settle`
  }
}

/** A message in doubt, as an operator needs it to find out. */
export class InDoubtMessage extends Schema.Class<InDoubtMessage>("InDoubtMessage")({
  id: Rows.Id,
  kind: Schema.String,
  actionSet: Schema.String,
  triggerKey: Schema.String,
  clientId: Rows.Id,
  orderUid: Schema.NullOr(Schema.String),
  phone: Schema.String,
  chosenAction: Schema.Number,
  performedAction: Schema.Number,
  text: Schema.String,
  attemptedAt: Schema.compose(Rows.Instant, Schema.DateTimeUtcFromDate),
  /** When its POST started; null for an attempt from before that was recorded (it may have started). */
  postStartedAt: Schema.NullOr(Schema.compose(Rows.Instant, Schema.DateTimeUtcFromDate)),
  /** The run that attempted it; null for attempts from before runs were recorded. */
  run: Schema.NullOr(Rows.Int)
}) {}

/** How many were settled, and which. */
export interface Settled {
  readonly settled: number
  readonly ids: ReadonlyArray<NotificationId>
}

/** Messages settled as delivered per transaction. */
const BATCH = 500

const COLUMNS = `n.id::text AS id, n.kind, n.action_set AS "actionSet", n.trigger_key AS "triggerKey",
  n.client_id::text AS "clientId", n.order_uid::text AS "orderUid", n.phone, n.chosen_action AS "chosenAction",
  n.performed_action AS "performedAction", n.text, n.attempted_at AS "attemptedAt",
  n.post_started_at AS "postStartedAt", n.run_token AS run`

/** The filter as a condition on `n`, the notification: in doubt, and made by a run that has ended. */
const matching = (sql: SqlClient.SqlClient, f: InDoubtFilter): Statement.Fragment =>
  sql`n.status = 'in_doubt' AND ${runIsGone(sql)}
    AND ${f.ids === undefined ? sql`true` : f.ids.length === 0 ? sql`false` : sql`n.id IN ${sql.in([...f.ids])}`}
    AND ${f.kind === undefined ? sql`true` : sql`n.kind = ${f.kind}`}
    AND ${f.from === undefined ? sql`true` : sql`n.attempted_at >= ${DateTime.toDateUtc(f.from)}`}
    AND ${f.to === undefined ? sql`true` : sql`n.attempted_at < ${DateTime.toDateUtc(f.to)}`}
    AND ${f.run === undefined ? sql`true` : sql`n.run_token = ${f.run}`}`

/** Counts settled messages by kind and action (`Metrics.messages`). */
const countSettled = (messages: ReadonlyArray<{ readonly kind: string; readonly action: number }>, outcome: Metrics.MessageOutcome) => {
  const counts = new Map<string, { kind: string; action: number; n: number }>()
  for (const m of messages) {
    const key = `${m.kind}/${m.action}`
    counts.set(key, { ...m, n: (counts.get(key)?.n ?? 0) + 1 })
  }
  return Effect.forEach(counts.values(), (c) => Metrics.message(c.kind, c.action, outcome, c.n), { discard: true })
}

/** The messages in doubt that a filter selects (of runs that have ended), by id, streamed. */
export const list = (
  filter: InDoubtFilter = {}
): Stream.Stream<InDoubtMessage, SqlError.SqlError | TablesMissing.TablesMissing, SqlClient.SqlClient> =>
  TablesMissing.namedStream(Stream.unwrap(Effect.map(SqlClient.SqlClient, (sql) =>
    KeysetPages.stream({
      sql,
      row: InDoubtMessage,
      key: InDoubtMessage,
      size: BATCH,
      resume: (last) => sql`n.id > ${last.id}::bigint`,
      page: (after, limit) =>
        sql`
          SELECT ${sql.literal(COLUMNS)} FROM pronto_notify.notifications n
          WHERE ${matching(sql, filter)} AND ${after}
          ORDER BY n.id LIMIT ${limit}
        `
    }))))

const decodeMessages = Rows.decodeRows(InDoubtMessage)

/** With ids, every one must be in doubt and of a run that has ended: nothing is settled otherwise. */
const checkIds = (filter: InDoubtFilter) =>
  Effect.gen(function*() {
    if (filter.ids === undefined || filter.ids.length === 0) return
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; status: string; settleable: boolean }>`
      SELECT n.id::text AS id, n.status, ${matching(sql, { ids: filter.ids })} AS settleable
      FROM pronto_notify.notifications n WHERE n.id IN ${sql.in([...filter.ids])}
    `
    for (const id of filter.ids) {
      const row = rows.find((r) => r.id === id)
      if (row === undefined || !row.settleable) return yield* new NotInDoubt({ id, status: row?.status ?? null })
    }
  })

/**
 * Records messages in doubt as sent, settled at `at` (sent when their POST started), with the
 * bonuses their actions granted; inside the settling transaction.
 */
const settleSent = (
  sql: SqlClient.SqlClient,
  settled: ReadonlyArray<{ readonly id: NotificationId; readonly bonus: GrantedBonus | null }>,
  at: DateTime.Utc
) => {
  const bonuses = settled.flatMap(({ bonus, id }) => (bonus === null ? [] : [{ id, amount: bonus.amount, operation: bonus.operation }]))
  return sql`
    UPDATE pronto_notify.notifications n
    SET status = 'sent', sent_at = coalesce(n.post_started_at, n.attempted_at), settled_at = ${DateTime.toDateUtc(at)},
        bonus_granted = coalesce(b.amount, n.bonus_granted), bonus_operation = coalesce(b.operation, n.bonus_operation)
    FROM unnest(${settled.map((s) => s.id)}::bigint[]) AS i(id)
    LEFT JOIN jsonb_to_recordset(${JSON.stringify(bonuses)}::jsonb) AS b(id bigint, amount numeric, operation text)
      ON b.id = i.id
    WHERE n.id = i.id AND n.status = 'in_doubt'
  `
}

/** The Site did deliver them: do what each message promised, now, and record them sent. */
export const settleAllDelivered = (filter: InDoubtFilter): Effect.Effect<
  Settled,
  NotInDoubt | UnknownKind | ActionError | SqlError.SqlError | TablesMissing.TablesMissing,
  KindRequirements
> =>
  TablesMissing.named(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const registry = yield* Kinds
    yield* checkIds(filter)
    const settled: Array<NotificationId> = []
    let after = "0"
    while (true) {
      const batch = yield* sql.withTransaction(Effect.gen(function*() {
        const rows = yield* sql`
          SELECT ${sql.literal(COLUMNS)} FROM pronto_notify.notifications n
          WHERE ${matching(sql, filter)} AND n.id > ${after}::bigint
          ORDER BY n.id LIMIT ${BATCH} FOR UPDATE OF n
        `.pipe(Effect.flatMap(decodeMessages))
        const now = yield* DateTime.now
        const performed = yield* Effect.forEach(rows, (m) =>
          Effect.flatMap(registry.get(m.kind), (kind) =>
            kind.perform(
              { clientId: m.clientId, phone: m.phone, orderUid: m.orderUid, actionSet: m.actionSet, trigger: m.triggerKey },
              { performedAction: m.performedAction, text: m.text },
              { notificationId: m.id, at: now }
            )).pipe(Effect.map(({ bonus }) => ({ id: m.id, bonus }))))
        if (rows.length > 0) yield* settleSent(sql, performed, now)
        return rows
      }))
      settled.push(...batch.map((m) => m.id))
      yield* countSettled(batch.map((m) => ({ kind: m.kind, action: m.performedAction })), "settled_delivered")
      if (batch.length < BATCH) break
      after = batch[batch.length - 1]!.id
    }
    yield* Effect.logInfo(`${settled.length} notifications settled as delivered: their actions are done, they are sent`)
    return { settled: settled.length, ids: settled }
  }).pipe(Effect.withSpan("pronto-notify/settle", { attributes: { outcome: "delivered" }, captureStackTrace: false })))

/** The Site did not deliver them: forget the attempts, so that the next run of each kind sends them. */
/** What settling as not delivered did. */
export interface SettledNotDelivered extends Settled {
  /** They go out once more, at the next run of their kind (`Jobs.resend` sends them at once). */
  readonly resend: ReadonlyArray<NotificationId>
  /** Their trigger is gone, so they cannot go out again: forgotten. */
  readonly gone: ReadonlyArray<{ readonly id: NotificationId; readonly kind: string; readonly why: string }>
  /** The kinds of those that go out once more, in the order first settled. */
  readonly kinds: ReadonlyArray<string>
}

const Pending = Schema.Struct({
  id: Rows.Id,
  kind: Schema.String,
  chosenAction: Schema.Number,
  orderUid: Schema.NullOr(Schema.String),
  phone: Schema.NullOr(Schema.String),
  orderGone: Schema.Boolean
})
const decodePending = Rows.decodeRows(Pending)

/** Why a message cannot go out again, if it cannot: its client, its phone or its order is gone. */
const goneWhy = (m: typeof Pending.Type): string | undefined =>
  m.phone === null
    ? "the client is no longer in jupiter.clients"
    : Option.isNone(normalizePhone(m.phone))
    ? "the client has no phone the Site can take"
    : m.orderGone
    ? `order ${m.orderUid} is no longer in jupiter.orders`
    : undefined

/**
 * The Site did not deliver them: each goes out once more, exactly once (its trigger stays taken,
 * so no run selects it anew), at the next run of its kind, whatever that kind's selection window
 * says, or at once with `Jobs.resend`. One whose trigger is gone (its order deleted, its client
 * without a phone) is forgotten instead, and said so.
 */
export const settleAllNotDelivered = (
  filter: InDoubtFilter
): Effect.Effect<SettledNotDelivered, NotInDoubt | SqlError.SqlError | TablesMissing.TablesMissing, SqlClient.SqlClient> =>
  TablesMissing.named(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* checkIds(filter)
    const now = yield* DateTime.now
    const done = yield* sql.withTransaction(Effect.gen(function*() {
      const rows = yield* sql`
        SELECT n.id::text AS id, n.kind, n.chosen_action AS "chosenAction", n.order_uid::text AS "orderUid", c.phone,
               (n.order_uid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jupiter.orders o WHERE o.uid = n.order_uid)) AS "orderGone"
        FROM pronto_notify.notifications n LEFT JOIN jupiter.clients c ON c.id = n.client_id
        WHERE ${matching(sql, filter)}
        ORDER BY n.id
        FOR UPDATE OF n
      `.pipe(Effect.flatMap(decodePending))
      const gone = rows.flatMap((m) => {
        const why = goneWhy(m)
        return why === undefined ? [] : [{ id: m.id, kind: m.kind, why }]
      })
      const resend = rows.filter((m) => goneWhy(m) === undefined)
      if (resend.length > 0) {
        yield* sql`
          UPDATE pronto_notify.notifications
          SET status = 'resend', resend_requested_at = ${DateTime.toDateUtc(now)}, settled_at = ${DateTime.toDateUtc(now)},
              run_token = NULL, post_started_at = NULL
          WHERE id = ANY(${resend.map((m) => m.id)}::bigint[])
        `
      }
      if (gone.length > 0) {
        yield* sql`DELETE FROM pronto_notify.notifications WHERE id = ANY(${gone.map((m) => m.id)}::bigint[])`
      }
      yield* Effect.logInfo(
        `${rows.length} notifications settled as not delivered: ${resend.length} go out once more` +
          (gone.length === 0 ? "" : `, ${gone.length} cannot (their trigger is gone)`)
      )
      return {
        settled: rows.length,
        ids: rows.map((m) => m.id),
        resend: resend.map((m) => m.id),
        gone,
        kinds: [...new Set(resend.map((m) => m.kind))],
        counted: rows.map((m) => ({ kind: m.kind, action: m.chosenAction }))
      }
    }))
    const { counted, ...result } = done
    // Counted once committed: a transaction that failed settled nothing.
    yield* countSettled(counted, "settled_not_delivered")
    return result
  }).pipe(Effect.withSpan("pronto-notify/settle", { attributes: { outcome: "not_delivered" }, captureStackTrace: false })))

/** The Site did deliver this one: do what it promised, now, and record it sent. */
export const settleDelivered = (id: NotificationId) => Effect.asVoid(settleAllDelivered({ ids: [id] }))

/** The Site did not deliver this one: it goes out once more (`settleAllNotDelivered`). */
export const settleNotDelivered = (id: NotificationId) => Effect.asVoid(settleAllNotDelivered({ ids: [id] }))
