/**
 * No secret leaves: the suite's secrets (the Site's key, the bonus server's token, a password in
 * a URL) are given to the command line through runs that succeed and fail, settings it refuses and
 * a database it cannot reach; none appears in any line it printed or logged, in any error, in the
 * report, or in any row of any table of the database afterwards (and its `pg_dump`, where the
 * machine has one).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import pg from "pg"
import * as Cli from "./support/Cli.ts"
import * as TestDatabase from "./support/TestDatabase.ts"
import * as TestSite from "./support/TestSite.ts"

const SITE_KEY = "site-key-secret-a81f3c"
const BONUS_TOKEN = "bonus-token-secret-5d92e0"
const URL_PASSWORD = "url-password-secret-c4417b"
const SECRETS = [SITE_KEY, BONUS_TOKEN, URL_PASSWORD]

/** 12:00 in Moscow, 10 March: a feedback and an invite slot's hour. */
const AT = "2026-03-10T12:00:00+03:00"

/** Every row of every table but the system's, as text: what a dump of the database would hold. */
const everyRow = (url: string) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const tables = (await client.query<{ name: string }>(`
        SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
      `)).rows
      const texts: Array<string> = []
      for (const { name } of tables) {
        const rows = (await client.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`)).rows
        texts.push(...rows.map((r) => `${name} ${r.row}`))
      }
      return { tables: tables.length, texts }
    } finally {
      await client.end()
    }
  })

/** `pg_dump` of the database, where the machine has one whose version can read the server's; else nothing. */
const pgDump = (url: string): string | undefined => {
  try {
    return execFileSync("pg_dump", ["--data-only", url], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] })
  } catch {
    return undefined
  }
}

const query = (url: string, text: string) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return (await client.query(text)).rows
    } finally {
      await client.end()
    }
  })

describe("secrets", { timeout: 240_000 }, () => {
  it.scopedLive("are in no output, error, report or row, through runs that succeed and fail", () =>
    Effect.gen(function*() {
      const url = yield* TestDatabase.migratedUrl
      // Feedback orders closed in the last hour, and clients whose last order was 45 and 100 days ago (invites, some with bonuses).
      yield* query(url, `
        INSERT INTO jupiter.clients (id, phone, last_order_at)
        SELECT i, '8916' || lpad(i::text, 7, '0'),
               CASE WHEN i > 20 THEN timestamptz '${AT}' - make_interval(days => 45 + (i % 3) * 30) END
        FROM generate_series(1, 40) AS i;
        INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
        SELECT gen_random_uuid(), i, 'site', true, 'closed',
               CASE WHEN i > 20 THEN timestamptz '${AT}' - make_interval(days => 45 + (i % 3) * 30)
                    ELSE timestamptz '${AT}' - make_interval(mins => i) END, 1000
        FROM generate_series(1, 40) AS i;
      `)
      const site = yield* TestSite.make()
      // Some sends fail, some are refused, some are in doubt: every outcome's words are printed.
      site.answer((r) => {
        const phone = new URLSearchParams(r.body).get("phones") ?? ""
        const n = Number(phone.slice(-2))
        return n % 5 === 0
          ? { status: 500, body: "boom" }
          : n % 7 === 0
          ? { status: 400, body: `bad key ${SITE_KEY}` }
          : n % 11 === 0
          ? { status: 502, body: "gateway" }
          : TestSite.OK
      })
      const bonusAway = "http://127.0.0.1:9"
      const env = {
        DATABASE_URL: url,
        SITE_URL: site.url,
        SITE_KEY,
        BONUS_SERVER_URL: bonusAway,
        BONUS_SERVER_TOKEN: BONUS_TOKEN
      }
      const withPassword = (u: string) => {
        const parsed = new URL(u)
        parsed.username = "jupiter"
        parsed.password = URL_PASSWORD
        return parsed.toString()
      }
      const results = [
        yield* Cli.run(["run", "feedback", "--at", AT, "--json"], env),
        yield* Cli.run(["run", "invite", "--at", AT], env),
        yield* Cli.run(["run", "reactions", "--at", "2026-03-20T04:00:00+03:00"], env),
        yield* Cli.run(["messages", "--json"], env),
        yield* Cli.run(["in-doubt", "--json"], env),
        yield* Cli.run(["report", "--json"], env),
        yield* Cli.run(["report"], env),
        // Settings refused, and a database that is not there.
        yield* Cli.run(["run", "feedback", "--at", AT], { ...env, SITE_URL: withPassword(site.url) }),
        yield* Cli.run(["report"], { ...env, BONUS_SERVER_URL: withPassword(bonusAway) }),
        yield* Cli.run(["report"], { ...env, DATABASE_URL: withPassword("postgres://127.0.0.1:9/nowhere") })
      ]
      // The runs did meet the outcomes and the failures this is about.
      const feedback = JSON.parse(results[0]!.stdout)
      expect(feedback.sent).toBeGreaterThan(0)
      expect(feedback.failed + feedback.refused + feedback.inDoubt).toBeGreaterThan(0)
      expect(results.slice(7).map((r) => r.code)).toEqual([1, 1, 1])
      expect(results[7]!.stderr).toContain("SITE_URL")
      expect(results[8]!.stderr).toContain("BONUS_SERVER_URL")

      const dump = yield* everyRow(url)
      expect(dump.tables).toBeGreaterThan(10)
      const dumped = pgDump(url)
      if (dumped !== undefined) expect(dumped).toContain("COPY pronto_notify.notifications")
      const printed = [...results.flatMap((r) => [r.stdout, r.stderr]), ...(dumped === undefined ? [] : [dumped])]
      for (const secret of SECRETS) {
        for (const text of printed) expect(text).not.toContain(secret)
        for (const row of dump.texts) expect(row).not.toContain(secret)
      }
      // The Site got its key, in the request only.
      expect(site.received().every((r) => r.key === SITE_KEY)).toBe(true)
    }))
})
