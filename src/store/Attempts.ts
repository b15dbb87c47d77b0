/**
 * What a run writes besides its kind's own tables: its session (a token, locked while it lives),
 * its attempts (notifications recorded in doubt before their POSTs) and the start of each POST,
 * the connections its senders hold for each message's transaction, and the release of an attempt
 * that certainly reached nobody. `layer` is PostgreSQL over the host's SqlClient; `layerTest`
 * keeps it all in memory, for tests of the engine that are not about the database.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Context, DateTime, Effect, Layer, Option, Ref, type Scope } from "effect"
import type { NotificationId } from "./Ids.ts"
import { type Confirmation, hold, type MessageConnection } from "./MessageConnection.ts"
import { acquireWith, type Attempt, giveBack, type RunSession, runIsGone } from "./RunSession.ts"
import { outsideTransaction } from "./Transactions.ts"

export class Attempts extends Context.Tag("pronto-notify/Attempts")<Attempts, {
  /** A run's session until the scope closes; its POST starts are recorded on `postStartLanes` connections. */
  readonly open: (postStartLanes: number) => Effect.Effect<RunSession, SqlError.SqlError, Scope.Scope>
  /** A connection for one message's transaction after another, until the scope closes. */
  readonly hold: Effect.Effect<MessageConnection, SqlError.SqlError, Scope.Scope>
  /** Forgets an attempt that certainly did not reach the customer, so that a later run tries again. */
  readonly release: (id: NotificationId) => Effect.Effect<void, SqlError.SqlError>
  /** Forgets an attempt the Site refused, and remembers the refusal of its trigger (at `at`, why). */
  readonly refuse: (id: NotificationId, at: DateTime.Utc, reason: string) => Effect.Effect<void, SqlError.SqlError>
  /** Which of a kind's triggers the Site refused at or after `since` (the kind's current slot): not posted again before the next. */
  readonly refusedSince: (
    kind: string,
    triggers: ReadonlyArray<string>,
    since: DateTime.Utc
  ) => Effect.Effect<ReadonlySet<string>, SqlError.SqlError>
  /**
   * Forgets the attempts of a kind whose POST never started, made by runs that are gone (their
   * token's lock is free): their messages certainly never left. How many.
   */
  readonly releaseAbandoned: (kind: string) => Effect.Effect<number, SqlError.SqlError>
}>() {
  static readonly make = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return Attempts.of({
      open: (lanes) => Effect.provideService(acquireWith(lanes), SqlClient.SqlClient, sql),
      hold: Effect.provideService(hold, SqlClient.SqlClient, sql),
      release: (id) => giveBack(sql, sql`n.id = ${id} AND n.status = 'in_doubt'`).pipe(Effect.asVoid, outsideTransaction),
      refuse: (id, at, reason) =>
        sql`
          WITH refused AS (
            SELECT kind, trigger_key, client_id, run_token FROM pronto_notify.notifications WHERE id = ${id} AND status = 'in_doubt'
          ), kept AS (
            INSERT INTO pronto_notify.refusals (kind, trigger_key, client_id, refused_at, run_token, reason)
            SELECT kind, trigger_key, client_id, ${DateTime.toDateUtc(at)}, run_token, ${reason} FROM refused
          )
          SELECT 1
        `.pipe(
          Effect.zipRight(giveBack(sql, sql`n.id = ${id} AND n.status = 'in_doubt'`)),
          Effect.asVoid,
          sql.withTransaction,
          outsideTransaction
        ),
      refusedSince: (kind, triggers, since) =>
        triggers.length === 0 ? Effect.succeed(new Set()) : sql<{ trigger: string }>`
          SELECT DISTINCT trigger_key AS trigger FROM pronto_notify.refusals
          WHERE kind = ${kind} AND trigger_key = ANY(${[...triggers]}::text[]) AND refused_at >= ${DateTime.toDateUtc(since)}
        `.pipe(Effect.map((rows) => new Set(rows.map((r) => r.trigger))), outsideTransaction),
      releaseAbandoned: (kind) =>
        giveBack(
          sql,
          sql`n.kind = ${kind} AND n.status = 'in_doubt' AND n.post_started_at IS NULL AND n.run_token IS NOT NULL AND ${runIsGone(sql)}`
        ).pipe(Effect.map((rows) => rows.length), outsideTransaction)
    })
  })

  static readonly layer = Layer.effect(Attempts, Attempts.make)

  /** In memory (`MemoryAttempts` shows what is stored); no database. */
  static readonly layerTest: Layer.Layer<Attempts | MemoryAttempts> = Layer.effectContext(Effect.gen(function*() {
    const store = yield* Ref.make<Memory>({ rows: [], refusals: [], nextId: 1, nextToken: 1, live: new Set() })
    const update = <A>(f: (m: Memory) => readonly [A, Memory]) => Ref.modify(store, f)
    const edit = (id: NotificationId, f: (row: StoredAttempt) => StoredAttempt | null) =>
      Ref.update(store, (m) => ({ ...m, rows: m.rows.flatMap((r) => (r.id === id ? [f(r)].filter((x) => x !== null) : [r])) }))

    const session = (token: number): RunSession => ({
      token,
      record: (attempts) =>
        update((m) => {
          let nextId = m.nextId
          const rows = [...m.rows]
          const ids = attempts.map((attempt) => {
            if (rows.some((r) => r.attempt.kind === attempt.kind && r.attempt.triggerKey === attempt.triggerKey)) return Option.none()
            const id = String(nextId++)
            rows.push({ id, attempt, token, status: "in_doubt", postStarted: false, confirmation: null })
            return Option.some(id)
          })
          return [ids, { ...m, rows, nextId }]
        }),
      startPost: (id) =>
        update((m) => {
          const row = m.rows.find((r) => r.id === id && r.status === "in_doubt" && !r.postStarted)
          return [
            row !== undefined,
            row === undefined ? m : { ...m, rows: m.rows.map((r) => (r === row ? { ...r, postStarted: true } : r)) }
          ]
        }),
      forgetUnstarted: (kind) =>
        update((m) => {
          const keep = m.rows.filter((r) => !(r.attempt.kind === kind && r.token === token && r.status === "in_doubt" && !r.postStarted))
          return [m.rows.length - keep.length, { ...m, rows: keep }]
        }),
      // Only settling asks for a resend (store/InDoubt, in SQL): the memory holds none.
      claimResends: () => Effect.succeed([])
    })

    const connection: MessageConnection = {
      begin: Effect.void,
      within: (effect) => effect,
      commit: (confirmation) => edit(confirmation.id, (r) => ({ ...r, status: "sent", confirmation })),
      rollback: Effect.void
    }

    return Context.make(Attempts, {
      open: () =>
        Effect.acquireRelease(
          update((m) => [m.nextToken, { ...m, nextToken: m.nextToken + 1, live: new Set([...m.live, m.nextToken]) }]),
          (token) => Ref.update(store, (m) => ({ ...m, live: new Set([...m.live].filter((t) => t !== token)) }))
        ).pipe(Effect.map(session)),
      hold: Effect.succeed(connection),
      release: (id) => edit(id, (r) => (r.status === "in_doubt" ? null : r)),
      refuse: (id, at) =>
        Ref.update(store, (m) => {
          const row = m.rows.find((r) => r.id === id && r.status === "in_doubt")
          return row === undefined ? m : {
            ...m,
            rows: m.rows.filter((r) => r !== row),
            refusals: [...m.refusals, { kind: row.attempt.kind, trigger: row.attempt.triggerKey, at }]
          }
        }),
      refusedSince: (kind, triggers, since) =>
        Effect.map(Ref.get(store), (m) =>
          new Set(
            m.refusals.filter((r) => r.kind === kind && triggers.includes(r.trigger) && !DateTime.lessThan(r.at, since))
              .map((r) => r.trigger)
          )),
      releaseAbandoned: (kind) =>
        update((m) => {
          const keep = m.rows.filter((r) => !(r.attempt.kind === kind && r.status === "in_doubt" && !r.postStarted && !m.live.has(r.token)))
          return [m.rows.length - keep.length, { ...m, rows: keep }]
        })
    }).pipe(Context.add(MemoryAttempts, { rows: Effect.map(Ref.get(store), (m) => m.rows) }))
  }))
}

/** An attempt as `Attempts.layerTest` keeps it. */
export interface StoredAttempt {
  readonly id: NotificationId
  readonly attempt: Attempt
  readonly token: number
  readonly status: "in_doubt" | "sent"
  readonly postStarted: boolean
  readonly confirmation: Confirmation | null
}

interface Memory {
  readonly rows: ReadonlyArray<StoredAttempt>
  readonly refusals: ReadonlyArray<{ readonly kind: string; readonly trigger: string; readonly at: DateTime.Utc }>
  readonly nextId: number
  readonly nextToken: number
  readonly live: ReadonlySet<number>
}

/** What `Attempts.layerTest` has stored, in the order recorded. */
export class MemoryAttempts extends Context.Tag("pronto-notify/MemoryAttempts")<MemoryAttempts, {
  readonly rows: Effect.Effect<ReadonlyArray<StoredAttempt>>
}>() {}
