/**
 * A scratch database for a benchmark on the server at DATABASE_URL (default: the local one),
 * created before and dropped after, whatever happens in between.
 */
import pg from "pg"

/** The server's own database at DATABASE_URL (default: the local one), where scratch databases are made. */
export const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** One statement on a connection of its own. */
export const query = async (url: string, statement: string, values: Array<unknown> = []) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(statement, values)
  } finally {
    await client.end()
  }
}

/** Runs `bench` with the URL of a fresh database. */
export const withScratchDatabase = async (bench: (url: string) => Promise<void>) => {
  const name = `pn_bench_${Date.now().toString(36)}`
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  await query(adminUrl, `CREATE DATABASE ${name}`)
  try {
    await bench(u.toString())
  } finally {
    await query(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
}
