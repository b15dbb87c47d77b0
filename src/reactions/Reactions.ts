/**
 * The reaction job (SPEC "Notifications table and reactions", C7): decides, for every sent
 * notification still pending, whether the customer reacted.
 *
 * - `feedback`, `profile`: the client's first bonus accrual with the kind's reason after the send,
 *   looked up through the BonusServer; the reference is the accrual's operation id.
 * - `invite`, `birthday`: the client's first closed order after the send; the reference is its UID.
 *
 * Only events in (sent_at, sent_at + 14 days] count, however late the job runs (C7), and only
 * events up to the Clock's now exist for it: a run "as of" an instant sees nothing after it. With
 * no event, the notification is decided `none` once its window has passed, and stays pending
 * until then. The window is 14 × 24 hours of elapsed time, not calendar days, so it is the same
 * in every time zone.
 *
 * Set-based: the order kinds are one statement; the bonus kinds are read in blocks, each block
 * one `firstAccruals` call and one UPDATE. Every UPDATE touches only pending rows, so a
 * notification is decided once, a later event never flips it, and a second run changes nothing.
 * Messages in doubt are never decided.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Chunk, DateTime, Effect, Option, Ref, Schema, Stream } from "effect"
import { BonusServer, BonusServerError } from "../bonus/BonusServer.ts"
import type { AnyKind } from "../kinds/Kind.ts"
import type { NotificationId } from "../store/Ids.ts"
import { Kinds } from "../kinds/Kinds.ts"
import * as KeysetPages from "../store/KeysetPages.ts"
import * as Rows from "../store/Rows.ts"
import * as TablesMissing from "../store/TablesMissing.ts"

/** A reaction counts only within this many days after the send (C7). */
export const WINDOW_DAYS = 14
const WINDOW_HOURS = WINDOW_DAYS * 24
/** Pending bonus-kind notifications decided per look-up call and UPDATE. */
export const BLOCK = 5_000

/** The kinds whose reaction is the client's next closed order. */
const orderKinds = (kinds: ReadonlyArray<AnyKind>): ReadonlyArray<string> =>
  kinds.filter((kind) => kind.reaction._tag === "ClosedOrder").map((kind) => kind.name)

/** The kinds whose reaction is an accrual, with the accrual's reason. */
const accrualReasons = (kinds: ReadonlyArray<AnyKind>): ReadonlyMap<string, string> =>
  new Map(kinds.flatMap((kind) => (kind.reaction._tag === "Accrual" ? [[kind.name, kind.reaction.reason] as const] : [])))

export interface ReactionTally {
  /** Pending notifications looked at. */
  readonly examined: number
  readonly reacted: number
  readonly none: number
  /** Still pending after the run: the window is open and nothing happened yet. */
  readonly pending: number
}

export interface ReactionSummary extends ReactionTally {
  readonly job: "reactions"
  readonly at: string
  readonly byKind: Readonly<Record<string, ReactionTally>>
}

const Counts = Schema.Struct({ kind: Schema.String, outcome: Schema.String, n: Rows.Int })
type Counts = typeof Counts.Type
const decodeCounts = Rows.decodeRows(Counts)

const PendingAccrualNotification = Schema.Struct({ id: Rows.Id, kind: Schema.String, clientId: Rows.Id, sentAt: Rows.Instant })
type PendingAccrualNotification = typeof PendingAccrualNotification.Type

/** Decides the order kinds in one statement, as of `at`. */
const decideByOrders = (at: Date, kinds: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      WITH examined AS (
        SELECT n.id, n.kind, n.sent_at, first_order.uid, first_order.closed_at
        FROM pronto_notify.notifications n
        LEFT JOIN LATERAL (
          SELECT o.uid, o.closed_at
          FROM jupiter.orders o
          WHERE o.client_id = n.client_id
            AND o.status = 'closed'
            AND o.closed_at > n.sent_at
            AND o.closed_at <= least(n.sent_at + make_interval(hours => ${WINDOW_HOURS}), ${at}::timestamptz)
          ORDER BY o.closed_at, o.uid
          LIMIT 1
        ) first_order ON true
        WHERE n.kind IN ${sql.in(kinds)}
          AND n.status = 'sent'
          AND n.reaction = 'pending'
          AND n.sent_at <= ${at}
      ),
      decided AS (
        UPDATE pronto_notify.notifications n
        SET reaction = CASE WHEN e.uid IS NULL THEN 'none' ELSE 'reacted' END,
            reaction_ref = e.uid::text,
            reacted_at = e.closed_at
        FROM examined e
        WHERE n.id = e.id
          AND n.reaction = 'pending'
          AND (e.uid IS NOT NULL OR e.sent_at + make_interval(hours => ${WINDOW_HOURS}) < ${at}::timestamptz)
        RETURNING n.kind, n.reaction
      )
      SELECT kind, 'examined' AS outcome, count(*)::int AS n FROM examined GROUP BY kind
      UNION ALL
      SELECT kind, reaction, count(*)::int FROM decided GROUP BY kind, reaction
    `.pipe(Effect.flatMap(decodeCounts)))

interface Decision {
  readonly id: NotificationId
  readonly reaction: "reacted" | "none"
  readonly ref: string | null
  /** ISO instant of the reaction. */
  readonly at: string | null
}

/** Decides one block of bonus-kind notifications: one look-up call, one UPDATE. */
const decideBlock = (
  at: DateTime.Utc,
  reasons: ReadonlyMap<string, string>,
  block: ReadonlyArray<PendingAccrualNotification>
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const bonus = yield* BonusServer
    const windows = block.map((n) => {
      const sentAt = DateTime.unsafeFromDate(n.sentAt)
      const end = DateTime.add(sentAt, { hours: WINDOW_HOURS })
      return { sentAt, end, passed: DateTime.lessThan(end, at) }
    })
    const found = yield* bonus.firstAccruals(block.map((n, i) => ({
      clientId: n.clientId,
      reason: reasons.get(n.kind)!,
      after: windows[i]!.sentAt,
      until: DateTime.min(windows[i]!.end, at)
    })))
    if (found.length !== block.length) {
      return yield* new BonusServerError({
        operation: "firstAccruals",
        reason: `asked ${block.length} look-ups, got ${found.length} answers`
      })
    }
    const decisions = block.flatMap((n, i): ReadonlyArray<Decision> =>
      Option.match(found[i]!, {
        onSome: (accrual) => [{ id: n.id, reaction: "reacted", ref: accrual.operationId, at: DateTime.formatIso(accrual.at) }],
        onNone: () => (windows[i]!.passed ? [{ id: n.id, reaction: "none", ref: null, at: null }] : [])
      })
    )
    if (decisions.length === 0) return []
    return yield* sql`
      WITH decided AS (
        UPDATE pronto_notify.notifications n
        SET reaction = d.reaction, reaction_ref = d.ref, reacted_at = d.at
        FROM jsonb_to_recordset(${JSON.stringify(decisions)}::jsonb) AS d(id bigint, reaction text, ref text, at timestamptz)
        WHERE n.id = d.id AND n.reaction = 'pending'
        RETURNING n.kind, n.reaction
      )
      SELECT kind, reaction AS outcome, count(*)::int AS n FROM decided GROUP BY kind, reaction
    `.pipe(Effect.flatMap(decodeCounts))
  })

/**
 * Decides the bonus kinds, block by block, as of `at`. Each block is one keyset page (by id), a
 * short statement of its own: no cursor, so a lost connection fails the job like any statement.
 */
const decideByAccruals = (
  at: DateTime.Utc,
  reasons: ReadonlyMap<string, string>,
  record: (counts: ReadonlyArray<Counts>) => Effect.Effect<void>
): Effect.Effect<void, SqlError.SqlError | BonusServerError, SqlClient.SqlClient | BonusServer> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    KeysetPages.stream({
      sql,
      row: PendingAccrualNotification,
      key: PendingAccrualNotification,
      size: BLOCK,
      resume: (last) => sql`id > ${last.id}::bigint`,
      page: (after, limit) =>
        sql`
          SELECT id::text AS id, kind, client_id::text AS "clientId", sent_at AS "sentAt"
          FROM pronto_notify.notifications
          WHERE kind IN ${sql.in([...reasons.keys()])}
            AND status = 'sent'
            AND reaction = 'pending'
            AND sent_at <= ${DateTime.toDateUtc(at)}
            AND ${after}
          ORDER BY notifications.id
          LIMIT ${limit}
        `
    }).pipe(
      Stream.grouped(BLOCK),
      Stream.mapEffect((chunk) => {
        const block = Chunk.toReadonlyArray(chunk)
        const examined = [...reasons.keys()].map((kind) => ({
          kind,
          outcome: "examined",
          n: block.filter((n) => n.kind === kind).length
        }))
        return Effect.flatMap(decideBlock(at, reasons, block), (decided) => record([...examined, ...decided]))
      }),
      Stream.runDrain
    ))

const emptyTally: ReactionTally = { examined: 0, reacted: 0, none: 0, pending: 0 }

/**
 * Runs the reaction job as of the Clock's now, for every kind of the `Kinds` registry, outside any
 * transaction: each block of pending accrual-kind notifications is read and decided on its own.
 */
export const run: Effect.Effect<
  ReactionSummary,
  SqlError.SqlError | BonusServerError | TablesMissing.TablesMissing,
  SqlClient.SqlClient | BonusServer
> = Effect.gen(function*() {
  const at = yield* DateTime.now
  const { kinds, names } = yield* Kinds
  const totals = yield* Ref.make<Record<string, { examined: number; reacted: number; none: number }>>({})
  const record = (counts: ReadonlyArray<Counts>) =>
    Ref.update(totals, (t) => {
      const next = { ...t }
      for (const { kind, n, outcome } of counts) {
        const current = next[kind] ?? { examined: 0, reacted: 0, none: 0 }
        if (outcome === "examined" || outcome === "reacted" || outcome === "none") {
          next[kind] = { ...current, [outcome]: current[outcome] + n }
        }
      }
      return next
    })

  const byOrders = orderKinds(kinds)
  if (byOrders.length > 0) yield* Effect.flatMap(decideByOrders(DateTime.toDateUtc(at), byOrders), record)
  const reasons = accrualReasons(kinds)
  if (reasons.size > 0) yield* decideByAccruals(at, reasons, record)

  const counted = yield* Ref.get(totals)
  const byKind: Record<string, ReactionTally> = Object.fromEntries(names.map((kind) => {
    const c = counted[kind] ?? emptyTally
    return [kind, { ...c, pending: c.examined - c.reacted - c.none }]
  }))
  const sum = (key: keyof ReactionTally) => names.reduce((s, kind) => s + byKind[kind]![key], 0)
  const summary: ReactionSummary = {
    job: "reactions",
    at: DateTime.formatIso(at),
    examined: sum("examined"),
    reacted: sum("reacted"),
    none: sum("none"),
    pending: sum("pending"),
    byKind
  }
  yield* Effect.logInfo(
    `reactions at ${summary.at}: examined ${summary.examined}, reacted ${summary.reacted}, none ${summary.none}, still pending ${summary.pending}`
  )
  yield* Effect.annotateCurrentSpan({ examined: summary.examined, reacted: summary.reacted, none: summary.none, pending: summary.pending })
  return summary
}).pipe(
  TablesMissing.named,
  Effect.withSpan("pronto-notify/reactions", { attributes: { job: "reactions" }, captureStackTrace: false }),
  Effect.withLogSpan("reactions"),
  Effect.annotateLogs("job", "reactions")
)
