/**
 * Reading many rows without a cursor: keyset pages. Each page is one short statement that selects,
 * in a fixed order, the first `size` rows satisfying `after`: `true` for the first page, then
 * `resume(key)` of the last row read ("sorts after this key"). No cursor outlives a statement, so
 * a lost connection fails the page like any other statement (a cursor's close never returns on a
 * dead connection), and no connection is held between pages.
 */
import type { SqlClient, SqlError, Statement } from "@effect/sql"
import { Chunk, Effect, Option, type Schema, Stream } from "effect"
import * as Rows from "./Rows.ts"

export interface Pages<A, IA, K, IK> {
  readonly sql: SqlClient.SqlClient
  /** What each row decodes to. */
  readonly row: Schema.Schema<A, IA>
  /** The row's key columns: where the next page resumes. */
  readonly key: Schema.Schema<K, IK>
  readonly size: number
  readonly resume: (key: K) => Statement.Fragment
  readonly page: (after: Statement.Fragment, limit: number) => Effect.Effect<ReadonlyArray<unknown>, SqlError.SqlError>
}

export const stream = <A, IA, K, IK>(pages: Pages<A, IA, K, IK>): Stream.Stream<A, SqlError.SqlError> => {
  const decodeRows = Rows.decodeRows(pages.row)
  const decodeKey = Rows.decodeRow(pages.key)
  return Stream.paginateChunkEffect(Option.none<K>(), (last) =>
    Effect.gen(function*() {
      const rows = yield* pages.page(Option.match(last, { onNone: () => pages.sql`true`, onSome: pages.resume }), pages.size)
      const decoded = Chunk.unsafeFromArray(yield* decodeRows(rows))
      const end = rows[rows.length - 1]
      if (rows.length < pages.size || end === undefined) return [decoded, Option.none()] as const
      return [decoded, Option.some(Option.some(yield* decodeKey(end)))] as const
    }))
}
