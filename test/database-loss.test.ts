/**
 * The database goes away in the middle of runs, on a server of the test's own: stopped abruptly
 * (`-m immediate`) and started again, or stalled behind a proxy that stops forwarding without
 * closing (a half-open link). Whatever it does, `run` ends within a bound and exits (4 when it
 * left messages in doubt, with its summary), `serve` retries the slot and finishes it, nothing
 * reaches the Site twice, and a later run sends the rest once.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import * as Cli from "./support/Cli.ts"
import * as OwnPostgres from "./support/OwnPostgres.ts"
import * as TestSite from "./support/TestSite.ts"

/** 11:00 in Moscow: a feedback slot. */
const SLOT = "2026-03-10T08:00:00.000Z"
const ORDERS = 1_500
/** How long a statement may run here; the client gives a connection up 5 s after it. */
const DATABASE_TIMEOUT_S = 3
/**
 * How soon after its database went away a run has ended, at the most (README, "What each failure
 * leaves"): a statement's timeout and the answer's margin, a new connection's, and the releases.
 */
const BOUND_MS = 60_000

const seed = (own: OwnPostgres.OwnPostgres) =>
  Effect.gen(function*() {
    yield* OwnPostgres.query(own.url(), "TRUNCATE jupiter.orders, jupiter.clients, pronto_notify.notifications, pronto_notify.order_marks, pronto_notify.job_runs CASCADE")
    yield* OwnPostgres.query(own.url(), `INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${ORDERS}) AS i`)
    yield* OwnPostgres.query(
      own.url(),
      `INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
       SELECT gen_random_uuid(), i, 'site', true, 'closed', $1::timestamptz - make_interval(secs => i), 1000
       FROM generate_series(1, ${ORDERS}) AS i`,
      [SLOT]
    )
  })

/** What the Site got, and what the database says: nothing twice, every order sent or in doubt. */
const invariants = (own: OwnPostgres.OwnPostgres, site: TestSite.TestSite) =>
  Effect.gen(function*() {
    const phones = site.received().map((r) => new URLSearchParams(r.body).get("phones"))
    expect(new Set(phones).size).toBe(phones.length)
    const rows = yield* OwnPostgres.query(own.url(), "SELECT status, count(*)::int AS n FROM pronto_notify.notifications GROUP BY status")
    const count = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0)
    expect(count("sent") + count("in_doubt")).toBe(ORDERS)
    expect(phones.length).toBeGreaterThanOrEqual(count("sent"))
    expect(phones.length).toBeLessThanOrEqual(count("sent") + count("in_doubt"))
    return { sent: count("sent"), inDoubt: count("in_doubt") }
  })

const untilReceived = (site: TestSite.TestSite, n: number) =>
  Effect.gen(function*() {
    while (site.received().length < n) yield* Effect.sleep("20 millis")
  })

/** Until the server holds no session of the command line's: those behind a dead link ended by its timeouts. */
const untilSessionsEnded = (own: OwnPostgres.OwnPostgres) =>
  Effect.gen(function*() {
    const started = Date.now()
    while (true) {
      const [row] = yield* OwnPostgres.query(own.url(), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pronto-notify'")
      if (row?.n === 0) return Date.now() - started
      if (Date.now() - started > (DATABASE_TIMEOUT_S + 90) * 1000) return yield* Effect.dieMessage("the server kept the dead link's sessions")
      yield* Effect.sleep("500 millis")
    }
  })

/** A run of the command, watched from its start: its end, when it comes, with its exit code, output and instant. */
const started = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function*() {
    const child = Cli.start(args, env)
    yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))
    const end = yield* Effect.fork(Effect.map(Cli.finish(child), (result) => ({ ...result, at: Date.now() })))
    /** Its end, within the bound after `since`: how long it took from there. */
    const ended = (since: number) =>
      Fiber.join(end).pipe(
        Effect.timeout(`${BOUND_MS} millis`),
        Effect.map((result) => ({ ...result, afterMs: result.at - since })),
        Effect.catchTag("TimeoutException", () => Effect.dieMessage(`the run did not end within ${BOUND_MS} ms`))
      )
    return { child, ended }
  })

describe("a run whose database goes away", { timeout: 420_000 }, () => {
  it.scopedLive("stopped abruptly and started again, three times: each run ends and says what it left; nothing is sent twice", () =>
    Effect.gen(function*() {
      const own = yield* OwnPostgres.make
      const site = yield* TestSite.make()
      site.answer(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{\"mesages_sent\":1}", delayMs: 30 }))
      yield* seed(own)
      const env = { DATABASE_URL: own.url(), SITE_URL: site.url, SITE_KEY: "k", DATABASE_TIMEOUT: `${DATABASE_TIMEOUT_S}s` }
      for (let round = 0; round < 3; round++) {
        const run = yield* started(["run", "feedback", "--at", SLOT, "--json"], env)
        yield* untilReceived(site, site.received().length + 100)
        yield* own.stopImmediately
        const stoppedAt = Date.now()
        yield* Effect.sleep("3 seconds")
        yield* own.start
        const result = yield* run.ended(stoppedAt)
        expect(result.afterMs).toBeLessThan(BOUND_MS)
        expect([1, 4], result.stderr).toContain(result.code)
        const summary = JSON.parse(result.stdout)
        expect(summary).toMatchObject({ kind: "feedback", error: expect.any(String) })
        expect(result.code).toBe(summary.inDoubt > 0 ? 4 : 1)
        if (summary.inDoubt > 0) expect(result.stderr).toContain(`${summary.inDoubt} of its messages are in doubt`)
        // The breaker blames the Site only for the Site's answers.
        expect(result.stderr).not.toContain("the Site may be down")
      }
      const last = yield* Cli.run(["run", "feedback", "--at", SLOT, "--json"], env)
      expect(last.code, last.stderr).toBe(0)
      const { inDoubt } = yield* invariants(own, site)
      expect(inDoubt).toBeLessThanOrEqual(3 * 8)
    }))

  it.scopedLive("stalled behind a link that stops forwarding: the run ends within the bound; healed, the next run sends the rest", () =>
    Effect.gen(function*() {
      const own = yield* OwnPostgres.make
      const link = yield* OwnPostgres.proxy(own.port)
      const site = yield* TestSite.make()
      site.answer(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{\"mesages_sent\":1}", delayMs: 30 }))
      yield* seed(own)
      const env = { DATABASE_URL: own.url(link.port), SITE_URL: site.url, SITE_KEY: "k", DATABASE_TIMEOUT: `${DATABASE_TIMEOUT_S}s` }
      const run = yield* started(["run", "feedback", "--at", SLOT, "--json"], env)
      yield* untilReceived(site, 100)
      yield* link.stall
      const stalledAt = Date.now()
      const result = yield* run.ended(stalledAt)
      expect([1, 4], result.stderr).toContain(result.code)
      expect(result.afterMs).toBeLessThan(BOUND_MS)
      yield* link.heal
      // The server ends the sessions behind the dead link by its idle timeouts (a message's open
      // transaction the latest: statement timeout + 60 s); until then their rows stay locked.
      yield* untilSessionsEnded(own)
      const last = yield* Cli.run(["run", "feedback", "--at", SLOT, "--json"], env)
      expect(last.code, last.stderr).toBe(0)
      yield* invariants(own, site)
    }))
})

describe("serve when its database goes away", { timeout: 420_000 }, () => {
  /** The feedback slot's row, read on the server directly. */
  const slotOf = (own: OwnPostgres.OwnPostgres) =>
    Effect.map(
      OwnPostgres.query(own.url(), "SELECT status, attempts FROM pronto_notify.job_runs WHERE job = 'feedback' AND slot = $1", [SLOT]).pipe(
        Effect.catchAllDefect(() => Effect.succeed([]))
      ),
      (rows) => Option.fromNullable(rows[0] as { status: string; attempts: number } | undefined)
    )

  const untilDone = (own: OwnPostgres.OwnPostgres, output: () => string) =>
    Effect.gen(function*() {
      const started = Date.now()
      while (true) {
        const row = yield* slotOf(own)
        if (Option.isSome(row) && row.value.status === "done") return row.value
        if (Date.now() - started > 150_000) {
          return yield* Effect.dieMessage(`the slot is not done: ${JSON.stringify(row)}\n${output().split("\n").slice(-30).join("\n")}`)
        }
        yield* Effect.sleep("250 millis")
      }
    })

  for (const how of ["stopped and started again", "stalled behind a link, then healed"] as const) {
    it.scopedLive(`${how}: serve retries the slot and finishes it, and stops cleanly`, () =>
      Effect.gen(function*() {
        const own = yield* OwnPostgres.make
        const link = yield* OwnPostgres.proxy(own.port)
        const site = yield* TestSite.make()
        site.answer(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{\"mesages_sent\":1}", delayMs: 30 }))
        yield* seed(own)
        const env = {
          DATABASE_URL: how === "stopped and started again" ? own.url() : own.url(link.port),
          SITE_URL: site.url,
          SITE_KEY: "k",
          DATABASE_TIMEOUT: `${DATABASE_TIMEOUT_S}s`
        }
        // Its clock reaches 11:00 a few seconds after it starts.
        const clock = { start: "2026-03-10T07:59:56Z", anchor: new Date(Date.now() + 4_000).toISOString() }
        const child = Cli.start(["serve"], env, clock)
        let output = ""
        child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")))
        yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))
        yield* untilReceived(site, 100)
        if (how === "stopped and started again") {
          yield* own.stopImmediately
          yield* Effect.sleep("3 seconds")
          yield* own.start
        } else {
          yield* link.stall
          yield* Effect.sleep("15 seconds")
          yield* link.heal
        }
        const row = yield* untilDone(own, () => output)
        // Tried again: by its retry, or by the tick's delivery again once the cluster held its shards again.
        expect(row.attempts, output).toBeGreaterThanOrEqual(2)
        expect(output).not.toContain("DeprecationWarning")
        yield* invariants(own, site)
        const exit = Effect.async<number | null>((resume) => {
          child.once("exit", (code) => resume(Effect.succeed(code)))
        })
        child.kill("SIGTERM")
        expect(yield* exit.pipe(Effect.timeout("30 seconds"))).toBe(0)
      }))
  }
})
