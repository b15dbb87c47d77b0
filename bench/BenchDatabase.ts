/**
 * A scratch database for a benchmark on the server at DATABASE_URL (default: the local one),
 * created before and dropped after, whatever happens in between.
 */
import pg from "pg"

const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

const admin = async (statement: string) => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

/** Runs `bench` with the URL of a fresh database. */
export const withScratchDatabase = async (bench: (url: string) => Promise<void>) => {
  const name = `pn_bench_${Date.now().toString(36)}`
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  await admin(`CREATE DATABASE ${name}`)
  try {
    await bench(u.toString())
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
}
