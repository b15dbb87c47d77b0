/**
 * A connection a sender holds for one message's transaction after another (engine/Message says
 * what happens inside it, in order). Its commit carries the message's confirmation, the flip to
 * `sent` with the bonus granted, and, when another message waits, the next transaction's BEGIN,
 * all in one simple query: one round trip. A simple query takes no parameters, so the
 * confirmation's values are written in as exact literals (`Literals.ts`, used by this module alone).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { type DateTime, Effect, type Scope } from "effect"
import type { GrantedBonus } from "../kinds/Kind.ts"
import type { NotificationId } from "./Ids.ts"
import * as Literal from "./Literals.ts"

/** What a message's commit records: it went out at `sentAt`, with the bonus its actions granted. */
export interface Confirmation {
  readonly id: NotificationId
  readonly sentAt: DateTime.Utc
  readonly bonus: GrantedBonus | null
}

export interface MessageConnection {
  /** Begins a message's transaction, unless the last commit on this connection began it already. */
  readonly begin: Effect.Effect<void, SqlError.SqlError>
  /** Runs the SqlClient's statements inside the open transaction (a nested `withTransaction` is a savepoint). */
  readonly within: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Records the confirmation and commits, in one round trip; with `beginNext`, begins the next transaction in it too. */
  readonly commit: (confirmation: Confirmation, beginNext: boolean) => Effect.Effect<void, SqlError.SqlError>
  /** Ends the open transaction without a trace. */
  readonly rollback: Effect.Effect<void, SqlError.SqlError>
}

/** The statement that marks the attempt sent, as text with its values written in. */
const confirmationSql = ({ bonus, id, sentAt }: Confirmation): string =>
  `UPDATE pronto_notify.notifications SET status = 'sent', sent_at = ${Literal.instant(sentAt)}` +
  (bonus === null ? "" : `, bonus_granted = ${Literal.number(bonus.amount)}, bonus_operation = ${Literal.text(bonus.operation)}`) +
  ` WHERE id = ${Literal.id(id)}`

/**
 * Takes a connection to hold until the scope closes. One given back with a transaction still open
 * (begun for a message that another sender took) is rolled back first; a ROLLBACK that fails means
 * a broken connection, which the pool discards: it is logged, and the run goes on.
 */
export const hold: Effect.Effect<MessageConnection, SqlError.SqlError, SqlClient.SqlClient | Scope.Scope> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const conn = yield* sql.reserve
    // Whether a transaction is open on the connection: a commit may have begun the next one.
    let open = false
    const raw = (text: string) => Effect.asVoid(conn.executeRaw(text, []))
    yield* Effect.addFinalizer(() =>
      open
        ? raw("ROLLBACK").pipe(
          Effect.catchAll((error) => Effect.logWarning(`could not end an empty transaction on a sender's connection: ${error.message}`))
        )
        : Effect.void
    )
    const rollback = Effect.suspend(() => {
      open = false
      return raw("ROLLBACK")
    })
    return {
      begin: Effect.suspend(() => (open ? Effect.void : Effect.tap(raw("BEGIN"), () => (open = true)))),
      within: (effect) => Effect.provideService(effect, SqlClient.TransactionConnection, [conn, 0]),
      // A failure anywhere in it stops the rest (no COMMIT after a failed statement, no BEGIN after a
      // failed COMMIT); what is left of the transaction is then rolled back.
      commit: (confirmation, beginNext) =>
        Effect.suspend(() => {
          open = false
          return raw(`${confirmationSql(confirmation)}; COMMIT${beginNext ? "; BEGIN" : ""}`).pipe(
            Effect.tap(() => (open = beginNext)),
            Effect.tapError(() => Effect.ignore(raw("ROLLBACK")))
          )
        }),
      rollback
    }
  }
)
