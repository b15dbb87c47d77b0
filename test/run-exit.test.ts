/**
 * The command line as a cron wrapper meets it (real processes, a Site on 127.0.0.1): `run` exits
 * with a status that says what happened (0 sent, 3 failures, 4 in doubt, 5 stopped by a signal,
 * with the summary printed even then), and messages in doubt are listed and settled in bulk.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Database from "../src/database/Database.ts"
import { DEFAULT_IN_FLIGHT } from "../src/delivery/InFlight.ts"
import { BREAKER_THRESHOLD } from "../src/engine/Stopper.ts"
import * as Cli from "./support/Cli.ts"
import { migratedUrl } from "./support/TestDatabase.ts"
import * as TestSite from "./support/TestSite.ts"

/** 11:00 in Moscow. */
const AT = "2026-03-10T08:00:00.000Z"

/** A database with `n` feedback orders (clients 1..n, phones 8916xxxxxxx) and a Site answering as told. */
const setup = (n: number) =>
  Effect.gen(function*() {
    const url = yield* migratedUrl
    const site = yield* TestSite.make()
    yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${n}) AS i`
      yield* sql`
        INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
        SELECT gen_random_uuid(), i, 'site', true, 'closed', ${new Date(AT)}::timestamptz - make_interval(mins => i), 1000
        FROM generate_series(1, ${n}) AS i
      `
    }).pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 2 })), Effect.orDie)
    const env = { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: "k", NOTIFY_TIME_ZONE: "Europe/Moscow" }
    const statuses = Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM pronto_notify.notifications GROUP BY status`).pipe(
        Effect.map((rows) => Object.fromEntries(rows.map((r) => [r.status, r.n]))),
        Effect.provide(Database.layerUrl(url, { maxConnections: 1 })),
        Effect.orDie
      )
    return { site, env, statuses }
  })

const oneLineError = (result: Cli.CliResult) => {
  expect(result.code).not.toBe(0)
  expect(result.stderr.trim().split("\n")).toHaveLength(1)
  return result.stderr.trim()
}

describe("run's exit status", { timeout: 240_000 }, () => {
  it.scopedLive("0 when all is sent, 3 when sends failed, 4 when some are in doubt (the breaker stopped the run)", () =>
    Effect.gen(function*() {
      const { env, site } = yield* setup(30)
      site.answer(() => ({ status: 500, body: "Internal Server Error" }))
      const failed = yield* Cli.run(["run", "feedback", "--at", AT, "--json"], env)
      expect(failed.code, failed.stderr).toBe(3)
      expect(JSON.parse(failed.stdout)).toMatchObject({ selected: 30, sent: 0, failed: 30, inDoubt: 0 })

      site.answer(() => ({ status: 502, body: "Bad Gateway" }))
      const doubtful = yield* Cli.run(["run", "feedback", "--at", AT], env)
      expect(doubtful.code, doubtful.stderr).toBe(4)
      const [line, stopped] = doubtful.stdout.trim().split("\n")
      const inDoubt = Number(/in doubt (\d+)/.exec(line!)![1])
      expect(inDoubt).toBeGreaterThanOrEqual(BREAKER_THRESHOLD)
      expect(inDoubt).toBeLessThan(BREAKER_THRESHOLD + DEFAULT_IN_FLIGHT)
      expect(stopped).toBe("  stopped early (the Site's answers stayed ambiguous); the rest is left for a later run")
      expect(doubtful.stderr).toContain("ambiguous outcomes in a row: the Site may be down")

      site.answer(() => TestSite.OK)
      const rest = yield* Cli.run(["run", "feedback", "--at", AT, "--json"], env)
      // The exit status is this run's own: everything it selected went out.
      expect(rest.code, rest.stderr).toBe(0)
      expect(JSON.parse(rest.stdout)).toMatchObject({ selected: 30 - inDoubt, sent: 30 - inDoubt, failed: 0, inDoubt: 0 })
    }))

  it.scopedLive("5 when stopped by SIGTERM, after the messages in flight, with the summary printed", () =>
    Effect.gen(function*() {
      const { env, site, statuses } = yield* setup(400)
      site.answer(() => ({ status: 200, body: "{\"mesages_sent\":1}", delayMs: 30 }))
      const child = Cli.start(["run", "feedback", "--at", AT, "--json"], env)
      while (site.received().length < 40) yield* Effect.sleep("20 millis")
      child.kill("SIGTERM")
      const result = yield* Cli.finish(child)
      expect(result.code, result.stderr).toBe(5)
      const summary = JSON.parse(result.stdout)
      expect(summary).toMatchObject({ kind: "feedback", stopped: "interrupted", failed: 0, inDoubt: 0 })
      expect(summary.sent).toBeLessThan(400)
      // What the summary says went out is what the Site got, and what is stored as sent.
      expect(summary.sent).toBe(site.received().length)
      expect(yield* statuses).toEqual({ sent: summary.sent })
    }))
})

describe("messages in doubt on the command line", { timeout: 240_000 }, () => {
  it.scopedLive("in-doubt lists them; settle takes ids or --kind/--from/--to/--run and settles them in one go", () =>
    Effect.gen(function*() {
      const { env, site, statuses } = yield* setup(12)
      // Every answer is a gateway's 504: the first run leaves 5 to 12 in doubt, the second the rest.
      site.answer(() => ({ status: 504, body: "Gateway Time-out" }))
      const first = JSON.parse((yield* Cli.run(["run", "feedback", "--at", AT, "--json"], env)).stdout)
      const second = JSON.parse((yield* Cli.run(["run", "feedback", "--at", AT, "--json"], env)).stdout)
      const listed: Array<{ id: string; run: number; postStartedAt: string | null }> = JSON.parse(
        (yield* Cli.run(["in-doubt", "--json"], env)).stdout
      )
      expect(listed).toHaveLength(first.inDoubt + second.inDoubt)
      expect(listed.every((m) => m.postStartedAt !== null)).toBe(true)
      expect(listed.filter((m) => m.run === second.run)).toHaveLength(second.inDoubt)
      const text = yield* Cli.run(["in-doubt", "--kind", "feedback"], env)
      expect(text.stdout.trim().split("\n").at(-1)).toBe(
        `${listed.length} messages in doubt; settle them with settle --delivered or --not-delivered`
      )

      expect(oneLineError(yield* Cli.run(["settle", "--delivered"], env))).toBe(
        "pronto-notify: say which messages: notification ids, or --kind/--from/--to/--run (see pronto-notify in-doubt)"
      )
      expect(oneLineError(yield* Cli.run(["settle", listed[0]!.id, "--kind", "feedback", "--delivered"], env))).toBe(
        "pronto-notify: give notification ids, or --kind/--from/--to/--run, not both"
      )
      expect(oneLineError(yield* Cli.run(["settle", "--run", "x1", "--delivered"], env))).toContain('--run "x1" is not a run')

      // The Site's log shows the second run's messages never arrived, and the first run's did.
      // Settled at 23:00 in Moscow, after the sending hours: they wait for the next feedback run.
      const evening = { start: "2026-03-10T20:00:00Z", anchor: new Date().toISOString() }
      const notDelivered = yield* Cli.run(["settle", "--run", String(second.run), "--not-delivered"], env, evening)
      expect(notDelivered.stdout.trim().split("\n")).toEqual([
        `${second.inDoubt} messages settled as not delivered`,
        "  feedback: they go out once more with its next run at 2026-03-11T11:00:00.000+03:00[Europe/Moscow] " +
        "(it is outside the sending hours, 11:00 to 22:00 business time)"
      ])
      const delivered = yield* Cli.run(
        ["settle", "--kind", "feedback", "--from", "2026-03-10T00:00:00Z", "--to", "2099-01-01T00:00:00Z", "--delivered"],
        env
      )
      expect(delivered.code, delivered.stderr).toBe(0)
      expect(delivered.stdout.trim()).toBe(
        `${first.inDoubt} messages settled as delivered: their actions are done and they are recorded sent`
      )
      expect(yield* statuses).toEqual({ sent: first.inDoubt, resend: second.inDoubt })
      expect(JSON.parse((yield* Cli.run(["in-doubt", "--json"], env)).stdout)).toEqual([])
    }))
})
