/**
 * `pronto-notify serve` (a real process, its cron on an Effect Cluster stored in PostgreSQL) with
 * a Site on 127.0.0.1: when the 11:00 feedback sends fail and the Site then recovers, or when every
 * connection to the database is terminated mid-run, the slot is not done, it is retried within its
 * window, each message goes out once, and SIGTERM still stops the runner.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import pg from "pg"
import { start } from "./support/Cli.ts"
import { migratedUrl } from "./support/TestDatabase.ts"
import * as TestSite from "./support/TestSite.ts"

/** 11:00 Moscow; the runner's clock reads 10:59:52 a few seconds after it starts. */
const SLOT = "2026-03-10T08:00:00.000Z"
const CLOCK_START = "2026-03-10T07:59:52Z"
const ANCHOR_DELAY_MS = 4_000

describe("serve: a slot that did not finish", () => {
  it.scopedLive("is retried by the cron within its window once the Site recovers; nothing is sent twice", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const db = new pg.Client({ connectionString: url })
      yield* Effect.promise(() => db.connect())
      yield* Effect.addFinalizer(() => Effect.promise(() => db.end()))
      yield* Effect.promise(() =>
        db.query(`
          INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, 3) AS i;
          INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
          SELECT gen_random_uuid(), i, 'site', true, 'closed', '${SLOT}'::timestamptz - make_interval(mins => i), 1000
          FROM generate_series(1, 3) AS i;
        `)
      )
      const site = yield* TestSite.make()
      // The first three POSTs (the 11:00 run) get HTTP 500; the Site then recovers.
      site.answer(() => (site.received().length <= 3 ? { status: 500, body: "Internal Server Error" } : TestSite.OK))
      const child = start(["serve"], { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: "k" }, {
        start: CLOCK_START,
        anchor: new Date(Date.now() + ANCHOR_DELAY_MS).toISOString()
      })
      let output = ""
      child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")))
      child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")))
      yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))
      const run = () =>
        Effect.promise(() =>
          db.query<{ status: string; attempts: number; summary: { sent: number; failed: number } | null }>(
            `SELECT status, attempts, summary FROM pronto_notify.job_runs WHERE job = 'feedback' AND slot = $1`,
            [SLOT]
          )
        ).pipe(Effect.map((r) => r.rows[0]))

      const begun = Date.now()
      let failedOnce = false
      for (let row = yield* run(); row?.status !== "done"; row = yield* run()) {
        if (row?.status === "failed") {
          failedOnce = true
          expect(row.summary).toMatchObject({ sent: 0, failed: 3 })
        }
        if (Date.now() - begun > 60_000) throw new Error(`the 11:00 slot was not retried:\n${output}`)
        yield* Effect.sleep("200 millis")
      }
      expect(failedOnce).toBe(true)
      expect(yield* run()).toMatchObject({ status: "done", attempts: 2, summary: { sent: 3, failed: 0 } })
      expect(output).toMatch(/feedback for 2026-03-10T08:00:00\.000Z failed: 3 messages not sent \(definite failures\); trying again in 10s/)
      const statuses = site.received().map((r) => r.body)
      expect(statuses).toHaveLength(6)
      const accepted = site.received().slice(3).map((r) => new URLSearchParams(r.body).get("phones")).sort()
      expect(accepted).toEqual(["89160000001", "89160000002", "89160000003"])

      const exited = Effect.async<number | null>((resume) => {
        child.on("exit", (code) => resume(Effect.succeed(code)))
      })
      child.kill("SIGTERM")
      expect(yield* exited).toBe(0)
    }), { timeout: 120_000 })

  it.scopedLive("every connection terminated mid-run: the slot is retried to the end, SIGTERM still stops the runner", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const database = new URL(url).pathname.slice(1)
      const db = new pg.Client({ connectionString: url })
      yield* Effect.promise(() => db.connect())
      yield* Effect.addFinalizer(() => Effect.promise(() => db.end()))
      const n = 400
      yield* Effect.promise(() =>
        db.query(`
          INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${n}) AS i;
          INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
          SELECT gen_random_uuid(), i, 'site', true, 'closed', '${SLOT}'::timestamptz - make_interval(secs => i), 1000
          FROM generate_series(1, ${n}) AS i;
        `)
      )
      const site = yield* TestSite.make()
      site.answer(() => ({ status: 200, body: "{\"mesages_sent\":1}", delayMs: 30 }))
      const child = start(["serve"], { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: "k" }, {
        start: CLOCK_START,
        anchor: new Date(Date.now() + ANCHOR_DELAY_MS).toISOString()
      })
      let output = ""
      child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")))
      child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")))
      yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))
      const begun = Date.now()
      while (site.received().length < 40) {
        if (Date.now() - begun > 60_000) throw new Error(`the 11:00 run never got going:\n${output}`)
        yield* Effect.sleep("50 millis")
      }
      // A PostgreSQL restart, as the runner sees it: every connection to its database is terminated.
      const killed = yield* Effect.promise(() =>
        db.query(
          `WITH chosen AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid())
           SELECT pid FROM chosen WHERE pg_terminate_backend(pid)`,
          [database]
        )
      )
      expect(killed.rowCount).toBeGreaterThan(0)
      const run = () =>
        Effect.promise(() =>
          db.query<{ status: string }>(`SELECT status FROM pronto_notify.job_runs WHERE job = 'feedback' AND slot = $1`, [SLOT])
        ).pipe(Effect.map((r) => r.rows[0]?.status))
      while ((yield* run()) !== "done") {
        if (Date.now() - begun > 100_000) throw new Error(`the 11:00 slot did not complete after the connections were lost:\n${output}`)
        yield* Effect.sleep("200 millis")
      }
      const stored = (yield* Effect.promise(() =>
        db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM pronto_notify.notifications GROUP BY status`)
      )).rows
      const sent = stored.find((r) => r.status === "sent")?.n ?? 0
      const inDoubt = stored.find((r) => r.status === "in_doubt")?.n ?? 0
      expect(sent + inDoubt).toBe(n)
      expect(inDoubt).toBeLessThanOrEqual(8)
      const phones = site.received().map((r) => new URLSearchParams(r.body).get("phones"))
      expect(new Set(phones).size).toBe(phones.length)

      const exited = Effect.async<number | null>((resume) => {
        child.on("exit", (code) => resume(Effect.succeed(code)))
      })
      const stopAsked = Date.now()
      child.kill("SIGTERM")
      expect(yield* exited.pipe(Effect.timeout("15 seconds"))).toBe(0)
      console.log(`serve connection-loss test: ${sent} sent, ${inDoubt} in doubt; stopped in ${Date.now() - stopAsked} ms`)
    }), { timeout: 180_000 })
})
