/**
 * The monitoring endpoints on a server of their own (`Monitoring.serve`) over a PostgreSQL of the
 * test's own: ready while the database answers and the migrations are applied; unready (503, the
 * failing check named) when the server stops or a migration is missing, and ready again when it
 * is back; alive and scraped throughout. A bad address is refused in one line.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { serve } from "../src/cli/Serve.ts"
import * as Database from "../src/database/Database.ts"
import * as Monitoring from "../src/observability/Monitoring.ts"
import { BusinessTimeZone } from "../src/time/BusinessTime.ts"
import * as Cli from "./support/Cli.ts"
import * as OwnPostgres from "./support/OwnPostgres.ts"
import { migratedUrl } from "./support/TestDatabase.ts"
import { freePort } from "./support/Ports.ts"


const get = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: await response.text() }
  })

/** Asks until `ok` holds, for at most `seconds`; the last answer. */
const until = (url: string, ok: (a: { status: number; body: string }) => boolean, seconds = 30) =>
  Effect.gen(function*() {
    const deadline = Date.now() + seconds * 1000
    while (true) {
      const answer = yield* get(url)
      if (ok(answer) || Date.now() > deadline) return answer
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 250)))
    }
  })

describe("readiness", () => {
  it.live("turns unready when the database stops and ready again when it returns; alive throughout", () =>
    Effect.gen(function*() {
      const own = yield* OwnPostgres.make
      const port = yield* Effect.promise(freePort)
      const zone = yield* BusinessTimeZone.make("Europe/Moscow")
      const scope = yield* Scope.make()
      yield* Layer.buildWithScope(
        Monitoring.serve({ host: "127.0.0.1", port }).pipe(
          Layer.provide(Layer.merge(Layer.orDie(Database.layerUrl(own.url(), { maxConnections: 4 })), Layer.succeed(BusinessTimeZone, zone)))
        ),
        scope
      )
      const base = `http://127.0.0.1:${port}`
      const ready = yield* until(`${base}/health/ready`, (a) => a.status === 200)
      expect(ready.status, ready.body).toBe(200)
      expect(JSON.parse(ready.body)).toEqual({
        ready: true,
        checks: [
          { name: "database", ok: true, detail: "answers" },
          { name: "migrations", ok: true, detail: expect.stringMatching(/^all \d+ applied$/) }
        ]
      })

      // A migration missing: unready, naming it.
      const [latest] = yield* OwnPostgres.query(own.url(), "DELETE FROM pronto_notify.migrations WHERE migration_id = (SELECT max(migration_id) FROM pronto_notify.migrations) RETURNING migration_id, name")
      const missing = yield* get(`${base}/health/ready`)
      expect(missing.status).toBe(503)
      expect(JSON.parse(missing.body).checks[1]).toEqual({
        name: "migrations",
        ok: false,
        detail: `1 migration(s) not applied (${latest!.migration_id}): run pronto-notify migrate`
      })
      yield* OwnPostgres.query(own.url(), "INSERT INTO pronto_notify.migrations (migration_id, name) VALUES ($1, $2)", [latest!.migration_id, latest!.name])
      expect((yield* get(`${base}/health/ready`)).status).toBe(200)

      // The server stops: unready within a few seconds, the database named; still alive, still scraped.
      yield* own.stopImmediately
      const down = yield* until(`${base}/health/ready`, (a) => a.status === 503, 15)
      expect(down.status).toBe(503)
      const report = JSON.parse(down.body) as { ready: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> }
      expect(report.ready).toBe(false)
      expect(report.checks.find((c) => c.name === "database")).toMatchObject({ ok: false })
      expect(report.checks.find((c) => c.name === "database")!.detail).not.toContain("\n")
      expect(down.body).not.toContain("postgres:postgres")
      expect((yield* get(`${base}/health/live`)).status).toBe(200)
      const metrics = yield* get(`${base}/metrics`)
      expect(metrics.status).toBe(200)
      expect(metrics.body).toContain("pronto_notify_sampled_at")

      // Back: ready again.
      yield* own.start
      const back = yield* until(`${base}/health/ready`, (a) => a.status === 200, 30)
      expect(back.status, back.body).toBe(200)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.None)), { timeout: 120_000 })
})

describe("the monitoring address", () => {
  it.effect("is a port on 127.0.0.1 or host:port; anything else is refused in one line naming the setting", () =>
    Effect.gen(function*() {
      expect(yield* Monitoring.parseAddress("PRONTO_NOTIFY_METRICS", "9464")).toEqual({ host: "127.0.0.1", port: 9464 })
      expect(yield* Monitoring.parseAddress("PRONTO_NOTIFY_METRICS", "0.0.0.0:9464")).toEqual({ host: "0.0.0.0", port: 9464 })
      expect(yield* Monitoring.parseAddress("PRONTO_NOTIFY_METRICS", "[::1]:9464")).toEqual({ host: "::1", port: 9464 })
      for (const bad of ["", "0", "65536", "host:", "host:port", "http://127.0.0.1:9464", "1.2.3.4:9464:1"]) {
        const error = yield* Effect.flip(Monitoring.parseAddress("PRONTO_NOTIFY_METRICS", bad))
        expect(error.message).toBe(`PRONTO_NOTIFY_METRICS "${bad}" is not a port or host:port, e.g. 9464 or 127.0.0.1:9464`)
      }
    }))

  it.effect("serve refuses a bad PRONTO_NOTIFY_METRICS or OTLP endpoint in one line, before anything starts", () =>
    Effect.gen(function*() {
      const refusal = (env: Record<string, string>) =>
        serve.pipe(
          Effect.flip,
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ SITE_URL: "https://site.example", SITE_KEY: "k", ...env })))),
          Effect.map((error) => error.message)
        )
      expect(yield* refusal({ PRONTO_NOTIFY_METRICS: "metrics" })).toBe(
        `PRONTO_NOTIFY_METRICS "metrics" is not a port or host:port, e.g. 9464 or 127.0.0.1:9464`
      )
      const withPassword = yield* refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:s3cret@collector.example:4318" })
      expect(withPassword).toContain("carries a user name or password")
      expect(withPassword).not.toContain("s3cret")
      expect(yield* refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toContain("is not an http(s) URL")
    }))

  it.live("a log format that is neither text nor json is refused in one line, exit 1", () =>
    Effect.gen(function*() {
      const result = yield* Cli.run(["schedule"], { PRONTO_NOTIFY_LOG_FORMAT: "xml" })
      expect(result.code).toBe(1)
      expect(result.stderr.trim().split("\n")).toHaveLength(1)
      expect(result.stderr).toContain(`PRONTO_NOTIFY_LOG_FORMAT "xml" is neither text nor json`)
      expect((yield* Cli.run(["schedule"], { PRONTO_NOTIFY_LOG_FORMAT: "json" })).code).toBe(0)
    }), { timeout: 60_000 })

  /** A port on 127.0.0.1 that another server holds until the test ends. */
  const takenPort = Effect.gen(function*() {
    const taken = http.createServer()
    const port = yield* Effect.promise(() => new Promise<number>((resolve) => taken.listen(0, "127.0.0.1", () => resolve((taken.address() as AddressInfo).port))))
    yield* Effect.addFinalizer(() => Effect.sync(() => taken.close()))
    return port
  })

  for (
    const [setting, value] of [
      ["PRONTO_NOTIFY_METRICS", (port: number) => ({ PRONTO_NOTIFY_METRICS: String(port) })],
      ["PRONTO_NOTIFY_RUNNER", (port: number) => ({ PRONTO_NOTIFY_RUNNER: `127.0.0.1:${port}`, PRONTO_NOTIFY_RUNNER_SECRET: "runners-shared-secret-0042" })]
    ] as const
  ) {
    it.live(`serve says in one line when its ${setting} port is taken, and exits 1`, () =>
      Effect.gen(function*() {
        const url = yield* migratedUrl
        const port = yield* takenPort
        const result = yield* Cli.run(["serve"], { DATABASE_URL: url, SITE_URL: "http://127.0.0.1:9", SITE_KEY: "key", ...value(port) })
        expect(result.code).toBe(1)
        expect(result.stderr).toContain(`pronto-notify: ${setting}: cannot listen at 127.0.0.1:${port} (listen EADDRINUSE`)
        expect(result.stderr).not.toContain("runners-shared-secret-0042")
        expect(result.stderr.split("\n").filter((line) => line.startsWith("pronto-notify:"))).toHaveLength(1)
      }).pipe(Effect.scoped), { timeout: 90_000 })
  }
})
