/**
 * How a kind's selector reads its candidates: keyset pages (`store/KeysetPages`), each one short
 * statement that selects, in the kind's fixed order (C2), the first `limit` rows after the last
 * row read. A run holds no cursor, and rows it has handled are never read twice.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError, Statement } from "@effect/sql"
import { DateTime, Effect, type Schema, Stream } from "effect"
import * as KeysetPages from "../store/KeysetPages.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { Candidate } from "./Kind.ts"

/** Rows per page of a selector's keyset paging. */
export const PAGE_SIZE = 1_000

/**
 * Rows per page of the selectors that pick clients. No index yields their candidates in page
 * order (band then id; clients with an order in a month, by id), so each page reads the whole
 * range again (the lapsed clients, sorted by band) and costs about the same whatever its length:
 * they read fewer, larger pages, one for a typical run. A page of 50,000 candidates holds about
 * 12 MB, twice that while it is decoded (docs/performance.md, "Selection at scale").
 */
export const CLIENT_PAGE_SIZE = 50_000

/** What one page's statement is given. */
export interface Page {
  /** The run's instant. */
  readonly now: Date
  /** The business time zone's IANA name (C1). */
  readonly tz: string
  /** `true` for the first page, then the condition "after the last row read" (`resume`). */
  readonly after: Statement.Fragment
  readonly limit: number
}

export interface KeysetSelection<K, I> {
  /** The columns every row carries where the next page resumes. */
  readonly key: Schema.Schema<K, I>
  /** The condition "sorts after this key", on the page statement's columns. */
  readonly resume: (sql: SqlClient.SqlClient, key: K) => Statement.Fragment
  /** One page: the first `limit` rows satisfying `after`, in the kind's order, as `Candidate` columns and the key's. */
  readonly page: (sql: SqlClient.SqlClient, page: Page) => Effect.Effect<ReadonlyArray<unknown>, SqlError.SqlError>
  /** Rows per page; default `PAGE_SIZE`. */
  readonly size?: number
}

/** A kind's `select` from its page statement. */
export const keysetSelector = <K, I>(selection: KeysetSelection<K, I>) =>
(at: DateTime.Utc): Stream.Stream<Candidate, SqlError.SqlError, SqlClient.SqlClient | BusinessTimeZone> =>
  Stream.unwrap(
    Effect.map(Effect.all([SqlClient.SqlClient, BusinessTimeZone]), ([sql, { name: tz }]) =>
      KeysetPages.stream({
        sql,
        row: Candidate,
        key: selection.key,
        size: selection.size ?? PAGE_SIZE,
        resume: (key) => selection.resume(sql, key),
        page: (after, limit) => selection.page(sql, { now: DateTime.toDateUtc(at), tz, after, limit })
      }))
  )
