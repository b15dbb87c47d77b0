/**
 * The notifications table (`pronto_notify.notifications`): every message attempted, what was
 * chosen and done, the exact text, when, and the customer's reaction. Jupiter shows it as
 * "Таблица сообщений".
 */
import { SqlClient, type SqlError, type Statement } from "@effect/sql"
import { Context, DateTime, Effect, FiberRef, Layer, Option, Schema, Stream } from "effect"
import type { ClientId, NotificationId } from "../kinds/Kind.ts"
import * as KeysetPages from "./KeysetPages.ts"
import * as Literal from "./Literals.ts"
import * as Rows from "./Rows.ts"
import { type Executor, outsideTransaction } from "./Transactions.ts"

/**
 * Migration 5: each attempt records the run that made it (its token), when its POST started, and
 * when an operator settled it; run tokens come from a sequence. An attempt left in doubt before
 * this migration is taken to have started its POST (nobody can tell), so it stays for an operator.
 */
export const attemptsMigration = `
ALTER TABLE pronto_notify.notifications
  ADD COLUMN run_token integer NULL,
  ADD COLUMN post_started_at timestamptz NULL,
  ADD COLUMN settled_at timestamptz NULL;
UPDATE pronto_notify.notifications SET post_started_at = attempted_at WHERE status = 'in_doubt';
CREATE INDEX notifications_in_doubt ON pronto_notify.notifications (kind, attempted_at) WHERE status = 'in_doubt';
CREATE SEQUENCE pronto_notify.run_tokens AS integer CYCLE;
`

export interface Attempt {
  readonly kind: string
  /** The rotation counter its action came from: the kind, or the kind and band. */
  readonly actionSet: string
  readonly triggerKey: string
  readonly clientId: ClientId
  readonly orderUid: string | null
  readonly phone: string
  readonly chosenAction: number
  readonly performedAction: number
  readonly text: string
  /** When the attempt is made. */
  readonly at: DateTime.Utc
}

export const MessageStatus = Schema.Literal("sent", "in_doubt")
export const Reaction = Schema.Literal("pending", "reacted", "none")

export class Message extends Schema.Class<Message>("Message")({
  id: Rows.Id,
  kind: Schema.String,
  clientId: Rows.Id,
  orderUid: Schema.NullOr(Schema.String),
  phone: Schema.String,
  chosenAction: Schema.Number,
  performedAction: Schema.Number,
  text: Schema.String,
  /** When it was sent; for a message in doubt, when it was attempted. */
  sentAt: Schema.compose(Rows.Instant, Schema.DateTimeUtcFromDate),
  status: MessageStatus,
  reaction: Reaction,
  reactionRef: Schema.NullOr(Schema.String)
}) {}

export interface MessageFilter {
  readonly kind?: string | undefined
  readonly from?: DateTime.Utc | undefined
  readonly to?: DateTime.Utc | undefined
}

const toDate = (at: DateTime.Utc) => DateTime.toDateUtc(at)

/**
 * The first key of a run's advisory lock (the second is its token): a run holds it for as long as
 * it lives, so a free lock means the run that made an attempt is gone.
 */
export const RUN_LOCK_SPACE = "pronto_notify runs"

/**
 * Whether the run that made the notification `n` has ended: its token's lock is free (or it has no
 * token, from before runs were recorded).
 */
export const runIsGone = (sql: SqlClient.SqlClient): Statement.Fragment =>
  sql`(n.run_token IS NULL OR NOT EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = hashtext(${RUN_LOCK_SPACE})::oid AND l.objid = n.run_token::oid AND l.objsubid = 2
  ))`

const decodeId = Rows.decodeRows(Schema.Struct({ id: Rows.Id }))
const decodeReserved = Rows.decodeRows(Schema.Struct({ id: Rows.Id, kind: Schema.String, trigger: Schema.String }))

/** Rows per page of `list`, and where a page ends: the last row's instant (exact, UTC text) and id. */
const LIST_PAGE = 1_000
const ListKey = Schema.Struct({ pageAt: Schema.String, id: Rows.Id })

/** A bonus an action granted, written on the notification with its `sent` status. */
interface GrantedBonus {
  readonly amount: number
  readonly operation: string
}

/**
 * While deliveries run (`holdingBonuses`), `recordBonus` keeps the bonus here, by notification, and
 * `confirmation` writes it with the status: until its POST has started a delivery's transaction must
 * not lock the notification's row, whose POST start is recorded from the run's own connection. A
 * released attempt's bonus leaves with it.
 */
const heldBonuses = FiberRef.unsafeMake(Option.none<Map<NotificationId, GrantedBonus>>())

/** Runs deliveries (a run's, or a settling's) with the bonuses their actions grant held for `confirmation`. */
export const holdingBonuses = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => Effect.locally(effect, heldBonuses, Option.some(new Map())))

/** Where an attempt is written: a run's own connection, outside every notification's transaction. */
export type { Executor } from "./Transactions.ts"

export class Notifications extends Context.Tag("pronto-notify/Notifications")<Notifications, {
  /**
   * Records the attempts of the run `runToken` in one statement, committed on its own (on `on`)
   * before any of their POSTs. Each attempt's id, in order; none for one whose trigger already has
   * a message (sent, in doubt, or earlier in the same list): it must not be sent.
   */
  readonly reserve: (
    attempts: ReadonlyArray<Attempt>,
    runToken: number,
    on: Executor
  ) => Effect.Effect<ReadonlyArray<Option.Option<NotificationId>>, SqlError.SqlError>
  /**
   * Records, committed (on `on`), that the POSTs of these attempts start now. The ids that were
   * still there to post; one missing was released by a later run that took this one for dead, and
   * must not be sent.
   */
  readonly startPosts: (
    ids: ReadonlyArray<NotificationId>,
    at: DateTime.Utc,
    on: Executor
  ) => Effect.Effect<ReadonlySet<NotificationId>, SqlError.SqlError>
  /**
   * The statement that marks the attempt sent, with the bonus its actions granted, as text with its
   * values written in: it goes to the server with the commit of the notification's transaction,
   * in one round trip.
   */
  readonly confirmation: (id: NotificationId, sentAt: DateTime.Utc) => Effect.Effect<string>
  /** Records the bonus an action granted (inside the notification's transaction). */
  readonly recordBonus: (id: NotificationId, amount: number, operation: string) => Effect.Effect<void, SqlError.SqlError>
  /** Forgets an attempt that certainly did not reach the customer, so the next run tries again. */
  readonly release: (id: NotificationId) => Effect.Effect<void, SqlError.SqlError>
  /**
   * Forgets the attempts of a kind made by the run `runToken` whose POST never started (the run
   * stopped before them), on `on`. How many.
   */
  readonly releaseUnstarted: (kind: string, runToken: number, on: Executor) => Effect.Effect<number, SqlError.SqlError>
  /**
   * Forgets the attempts of a kind whose POST never started, made by runs that are gone (their
   * token's lock is free): their messages certainly never left. How many.
   */
  readonly releaseAbandoned: (kind: string) => Effect.Effect<number, SqlError.SqlError>
  /**
   * Records messages in doubt as sent, settled at `at` (sent when their POST started), with the
   * bonuses their actions granted (`holdingBonuses`); inside the settling transaction.
   */
  readonly settleSent: (ids: ReadonlyArray<NotificationId>, at: DateTime.Utc) => Effect.Effect<void, SqlError.SqlError>
  /** The messages in order of their instant, streamed: the table may be large. */
  readonly list: (filter: MessageFilter) => Stream.Stream<Message, SqlError.SqlError>
}>() {
  static readonly make = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return Notifications.of({
      reserve: (attempts, runToken, on) => {
        if (attempts.length === 0) return Effect.succeed([])
        const rows = JSON.stringify(attempts.map((a) => ({
          kind: a.kind,
          action_set: a.actionSet,
          trigger_key: a.triggerKey,
          client_id: a.clientId,
          order_uid: a.orderUid,
          phone: a.phone,
          chosen_action: a.chosenAction,
          performed_action: a.performedAction,
          text: a.text,
          attempted_at: DateTime.formatIso(a.at)
        })))
        return on(sql`
          INSERT INTO pronto_notify.notifications
            (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action, performed_action, text, status,
             attempted_at, run_token)
          SELECT a.kind, a.action_set, a.trigger_key, a.client_id, a.order_uid, a.phone, a.chosen_action,
                 a.performed_action, a.text, 'in_doubt', a.attempted_at, ${runToken}
          FROM jsonb_to_recordset(${rows}::jsonb) AS a(kind text, action_set text, trigger_key text, client_id bigint,
            order_uid uuid, phone text, chosen_action integer, performed_action integer, text text, attempted_at timestamptz)
          ON CONFLICT ON CONSTRAINT notifications_one_per_trigger DO NOTHING
          RETURNING id::text AS id, kind, trigger_key AS trigger
        `).pipe(
          Effect.flatMap(decodeReserved),
          Effect.map((reserved) => {
            const ids = new Map(reserved.map((r) => [`${r.kind}\u0000${r.trigger}`, r.id]))
            // A trigger twice in the list: the first gets the attempt.
            return attempts.map((a) => {
              const key = `${a.kind}\u0000${a.triggerKey}`
              const id = ids.get(key)
              ids.delete(key)
              return Option.fromNullable(id)
            })
          })
        )
      },

      startPosts: (ids, at, on) =>
        ids.length === 0 ? Effect.succeed(new Set()) : on(sql`
          UPDATE pronto_notify.notifications SET post_started_at = ${toDate(at)}
          WHERE id = ANY(${[...ids]}::bigint[]) AND status = 'in_doubt' AND post_started_at IS NULL
          RETURNING id::text AS id
        `).pipe(Effect.flatMap(decodeId), Effect.map((rows) => new Set(rows.map((r) => r.id)))),

      confirmation: (id, sentAt) =>
        Effect.map(FiberRef.get(heldBonuses), (held) => {
          const bonus = Option.flatMap(held, (bonuses) => Option.fromNullable(bonuses.get(id)))
          // A run holds one map for all its messages: what is written leaves it.
          if (Option.isSome(held)) held.value.delete(id)
          const granted = Option.match(bonus, {
            onNone: () => "",
            onSome: (b) =>
              `, bonus_granted = ${Literal.number(b.amount)}, bonus_operation = ${Literal.text(b.operation)}`
          })
          return `UPDATE pronto_notify.notifications SET status = 'sent', sent_at = ${Literal.instant(sentAt)}${granted} ` +
            `WHERE id = ${Literal.id(id)}`
        }),

      recordBonus: (id, amount, operation) =>
        Effect.flatMap(FiberRef.get(heldBonuses), (held) =>
          Option.match(held, {
            onSome: (bonuses) => Effect.sync(() => void bonuses.set(id, { amount, operation })),
            onNone: () =>
              sql`
                UPDATE pronto_notify.notifications SET bonus_granted = ${amount}, bonus_operation = ${operation}
                WHERE id = ${id}
              `.pipe(Effect.asVoid)
          })),

      release: (id) =>
        FiberRef.get(heldBonuses).pipe(
          Effect.tap((held) => Effect.sync(() => Option.map(held, (bonuses) => bonuses.delete(id)))),
          Effect.zipRight(sql`DELETE FROM pronto_notify.notifications WHERE id = ${id} AND status = 'in_doubt'`),
          Effect.asVoid,
          outsideTransaction
        ),

      releaseUnstarted: (kind, runToken, on) =>
        // The kind and the status let the partial index of messages in doubt find them.
        on(sql`
          DELETE FROM pronto_notify.notifications
          WHERE kind = ${kind} AND status = 'in_doubt' AND run_token = ${runToken} AND post_started_at IS NULL
          RETURNING id::text AS id
        `).pipe(Effect.map((rows) => rows.length)),

      releaseAbandoned: (kind) =>
        sql`
          DELETE FROM pronto_notify.notifications n
          WHERE n.kind = ${kind} AND n.status = 'in_doubt' AND n.post_started_at IS NULL
            AND n.run_token IS NOT NULL AND ${runIsGone(sql)}
          RETURNING n.id::text AS id
        `.pipe(Effect.map((rows) => rows.length), outsideTransaction),

      settleSent: (ids, at) =>
        ids.length === 0 ? Effect.void : Effect.flatMap(FiberRef.get(heldBonuses), (held) => {
          const bonuses = Option.match(held, {
            onNone: () => [],
            onSome: (map) => [...map].map(([id, b]) => ({ id, amount: b.amount, operation: b.operation }))
          })
          return sql`
            UPDATE pronto_notify.notifications n
            SET status = 'sent', sent_at = coalesce(n.post_started_at, n.attempted_at), settled_at = ${toDate(at)},
                bonus_granted = coalesce(b.amount, n.bonus_granted), bonus_operation = coalesce(b.operation, n.bonus_operation)
            FROM unnest(${[...ids]}::bigint[]) AS i(id)
            LEFT JOIN jsonb_to_recordset(${JSON.stringify(bonuses)}::jsonb) AS b(id bigint, amount numeric, operation text)
              ON b.id = i.id
            WHERE n.id = i.id AND n.status = 'in_doubt'
          `.pipe(Effect.asVoid)
        }),

      list: (filter) => {
        const page = (after: Statement.Fragment, limit: number) =>
          sql`
            SELECT id::text AS id, kind, client_id::text AS "clientId", order_uid::text AS "orderUid", phone,
                   chosen_action AS "chosenAction", performed_action AS "performedAction", text,
                   coalesce(sent_at, attempted_at) AS "sentAt", status, reaction, reaction_ref AS "reactionRef",
                   to_char(coalesce(sent_at, attempted_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "pageAt"
            FROM pronto_notify.notifications
            WHERE ${filter.kind === undefined ? sql`true` : sql`kind = ${filter.kind}`}
              AND ${filter.from === undefined ? sql`true` : sql`coalesce(sent_at, attempted_at) >= ${toDate(filter.from)}`}
              AND ${filter.to === undefined ? sql`true` : sql`coalesce(sent_at, attempted_at) < ${toDate(filter.to)}`}
              AND ${after}
            ORDER BY coalesce(sent_at, attempted_at), notifications.id
            LIMIT ${limit}
          `
        // Keyset pages, not a cursor: a lost connection fails the listing instead of hanging it.
        return KeysetPages.stream({
          sql,
          row: Message,
          key: ListKey,
          size: LIST_PAGE,
          resume: (k) => sql`(coalesce(sent_at, attempted_at), notifications.id) > (${k.pageAt}::timestamptz, ${k.id}::bigint)`,
          page
        })
      }
    })
  })

  static readonly layer = Layer.effect(Notifications, Notifications.make)
}
