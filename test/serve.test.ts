/**
 * Three `pronto-notify serve` processes, socket runners of one Effect Cluster on one PostgreSQL,
 * against a Site on 127.0.0.1. Their clocks start just before 11:00 in Moscow; the one running the
 * 11:00 feedback is killed with SIGKILL mid-run; the slot must still complete, on another runner,
 * and no message may reach the Site twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Scope } from "effect"
import type { ChildProcess } from "node:child_process"
import * as http from "node:http"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import { hostname } from "node:os"
import pg from "pg"
import * as FakeSite from "../src/demo/FakeSite.ts"
import { serve } from "../src/cli/Serve.ts"
import { start } from "./support/Cli.ts"
import { migratedUrl } from "./support/TestDatabase.ts"
import { freePort, sleep } from "./support/Ports.ts"

const ORDERS = 400
/** How long the Site takes to answer each message, so that the run lasts long enough to be killed mid-way. */
const SITE_DELAY_MS = 40
/** 11:00 Moscow. */
const SLOT = "2026-03-10T08:00:00.000Z"
/** The runners' clocks read this ... */
const CLOCK_START = "2026-03-10T07:59:52Z"
/** ... this long after the test starts them (their start-up takes a few seconds on two cores). */
const ANCHOR_DELAY_MS = 4_000
const KEY = "serve-test-key"
/** The runners' shared secret. */
const RUNNER_SECRET = "runners-shared-secret-9e41b7"

/** What a stranger gets from a runner's port: raw bytes in, the answer's first line and whether any body came. */
const asStranger = (port: number, request: string) =>
  new Promise<string>((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    let answer = ""
    socket.on("data", (c: Buffer) => (answer += c.toString("latin1")))
    socket.on("error", () => resolve(answer))
    socket.on("close", () => resolve(answer))
    socket.on("connect", () => socket.write(request))
    setTimeout(() => socket.destroy(), 2_000)
  })

/** A Site that answers like FakeSite, only slower: a loopback proxy in front of it. */
const slowProxy = (target: string) =>
  Effect.acquireRelease(
    Effect.async<{ server: http.Server; url: string }>((resume) => {
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () =>
          setTimeout(() => {
            const upstream = http.request(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers)
              answer.pipe(res)
            })
            upstream.on("error", () => res.destroy())
            upstream.end(Buffer.concat(chunks))
          }, SITE_DELAY_MS))
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })))
    }),
    ({ server }) => Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
  )



/** What both multi-process tests stand on; filled in before they run. */
class Chain {
  readonly scope = Effect.runSync(Scope.make())
  readonly children: Array<ChildProcess> = []
  url = ""
  site!: FakeSite.FakeSite
  db!: pg.Client
}

/**
 * A fresh database with one delivery order per client from `source`, each closed within the 24
 * hours before 11:00, and a fake Site; every child process is killed and all released afterwards.
 */
const chainOfOrders = (source: "site" | "app"): Chain => {
  const chain = new Chain()
  beforeAll(async () => {
    chain.url = await Effect.runPromise(Scope.extend(migratedUrl, chain.scope))
    chain.site = await Effect.runPromise(Scope.extend(FakeSite.make(KEY), chain.scope))
    chain.db = new pg.Client({ connectionString: chain.url })
    await chain.db.connect()
    await chain.db.query(`
      INSERT INTO jupiter.clients (id, phone)
      SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${ORDERS}) AS i`)
    await chain.db.query(`
      INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
      SELECT gen_random_uuid(), i, $2, true, 'closed', $1::timestamptz - make_interval(mins => i), 1000
      FROM generate_series(1, ${ORDERS}) AS i`, [SLOT, source])
  })
  afterAll(async () => {
    for (const child of chain.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    await chain.db?.end()
    await Effect.runPromise(Scope.close(chain.scope, Exit.void))
  })
  return chain
}

describe("serve: three runners, one killed mid-run", () => {
  const chain = chainOfOrders("site")
  const output = new Map<number, string>()

  it("runs every slot once and sends no message twice", { timeout: 100_000 }, async () => {
    const begun = Date.now()
    const proxy = await Effect.runPromise(Scope.extend(slowProxy(chain.site.url), chain.scope))
    const anchor = new Date(Date.now() + ANCHOR_DELAY_MS).toISOString()
    const ports: Array<number> = []
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      ports.push(port)
      const child = start(["serve"], {
        DATABASE_URL: chain.url,
        SITE_URL: proxy.url,
        SITE_KEY: KEY,
        PRONTO_NOTIFY_RUNNER: `127.0.0.1:${port}`,
        PRONTO_NOTIFY_RUNNER_SECRET: RUNNER_SECRET
      }, { start: CLOCK_START, anchor })
      chain.children.push(child)
      output.set(child.pid!, "")
      const append = (c: Buffer) => output.set(child.pid!, output.get(child.pid!) + c.toString("utf8"))
      child.stdout?.on("data", append)
      child.stderr?.on("data", append)
    }
    const feedbackRun = async () =>
      (await chain.db.query<{ status: string; runner: string; attempts: number }>(
        `SELECT status, runner, attempts FROM pronto_notify.job_runs WHERE job = 'feedback' AND slot = $1`,
        [SLOT]
      )).rows[0]
    const received = () => Effect.runPromise(chain.site.received)

    // Wait for the 11:00 run to be well under way, then kill the runner doing it.
    let victim: ChildProcess | undefined
    while (victim === undefined) {
      if (Date.now() - begun > 50_000) throw new Error(`the 11:00 run never got going:\n${[...output.values()].join("\n")}`)
      const run = await feedbackRun()
      if (run?.status === "running" && (await received()).length >= 40) {
        const pid = Number(run.runner.slice(run.runner.lastIndexOf("/") + 1))
        expect(run.runner.startsWith(`${hostname()}/`)).toBe(true)
        victim = chain.children.find((c) => c.pid === pid)
        expect(victim).toBeDefined()
        victim!.kill("SIGKILL")
      } else {
        await sleep(100)
      }
    }
    const receivedAtKill = (await received()).length
    expect(receivedAtKill).toBeLessThan(ORDERS)

    // A stranger at a survivor's port, while the runners share the schedule: bytes that are not
    // HTTP, a request without the secret, one with another: a refusal each, and nothing else.
    const port = ports[chain.children.findIndex((c) => c !== victim)]!
    expect(await asStranger(port, "\x00\x01\x02\x03\x04\x05\x06\x07")).toMatch(/^(HTTP\/1\.1 400 Bad Request\r\n|)/)
    expect(await asStranger(port, "\x00\x01\x02\x03\x04\x05\x06\x07")).not.toContain("Defect")
    for (const authorization of ["", "Authorization: Bearer not-the-secret-0000000\r\n"]) {
      const answer = await asStranger(port, `POST / HTTP/1.1\r\nHost: x\r\n${authorization}Content-Length: 8\r\nConnection: close\r\n\r\n\x93\x01\x02\x03\x04\x05\x06\x07`)
      expect(answer).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/)
      // An empty body, plain or as the last chunk of a chunked one.
      expect(["", "0\r\n\r\n"]).toContain(answer.slice(answer.indexOf("\r\n\r\n") + 4))
    }

    // Another runner takes the shard over, the tick is delivered again, and the slot completes.
    while ((await feedbackRun())?.status !== "done") {
      if (Date.now() - begun > 55_000) throw new Error(`the 11:00 slot did not complete after the kill:\n${[...output.values()].join("\n")}`)
      await sleep(200)
    }
    const run = (await feedbackRun())!
    // The killed attempt and the one that took over; that one may itself have been retried once
    // (a failure it met while the victim's session was being ended), never more.
    expect([2, 3], [...output.values()].join("\n").slice(-4000)).toContain(run.attempts)
    expect(run.runner).not.toBe(`${hostname()}/${victim!.pid}`)

    const messages = await received()
    const phones = messages.map((m) => m.phones)
    // Nothing reached the Site twice.
    expect(new Set(phones).size).toBe(phones.length)
    const stored = (await chain.db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM pronto_notify.notifications GROUP BY status`
    )).rows
    const sent = stored.find((r) => r.status === "sent")?.n ?? 0
    const inDoubt = stored.find((r) => r.status === "in_doubt")?.n ?? 0
    // Every order got its message, except the few the killed runner had in flight: those stay in
    // doubt, never sent blindly again (C10).
    expect(sent + inDoubt).toBe(ORDERS)
    expect(inDoubt).toBeLessThanOrEqual(8)
    expect(messages.length).toBeGreaterThanOrEqual(sent)
    expect(messages.length).toBeLessThanOrEqual(sent + inDoubt)
    // Every slot due in the test's time ran once: the 11:00 feedback and, on start, the 04:00
    // reactions (the latest slot within its catch-up window). The catch-up may have been running on
    // the killed runner too: then it completes on another once the shard moves.
    const slots = async () =>
      (await chain.db.query<{ job: string; slot: Date; status: string }>(
        `SELECT job, slot, status FROM pronto_notify.job_runs ORDER BY job`
      )).rows
    while ((await slots()).some((r) => r.status !== "done")) {
      if (Date.now() - begun > 55_000) throw new Error(`a slot did not complete after the kill:\n${[...output.values()].join("\n")}`)
      await sleep(200)
    }
    expect((await slots()).map((r) => `${r.job} ${r.slot.toISOString()} ${r.status}`)).toEqual([
      `feedback ${SLOT} done`,
      "reactions 2026-03-10T01:00:00.000Z done"
    ])

    // The survivors stop cleanly on SIGTERM.
    const survivors = chain.children.filter((c) => c !== victim)
    const exits = survivors.map((c) => new Promise<number | null>((resolve) => c.on("exit", (code) => resolve(code))))
    for (const c of survivors) c.kill("SIGTERM")
    expect(await Promise.all(exits)).toEqual([0, 0])
    // The Site key is a secret (C13): nothing the runners printed shows it.
    expect([...output.values()].join("\n")).not.toContain(KEY)
    expect([...output.values()].join("\n")).not.toContain(RUNNER_SECRET)
    console.log(`serve test: killed after ${receivedAtKill} of ${ORDERS} messages; done in ${Date.now() - begun} ms`)
  })
})

describe("serve: SIGTERM mid-run", () => {
  const chain = chainOfOrders("app")

  it("finishes the notification in flight, stops, and a restart completes the slot", { timeout: 100_000 }, async () => {
    const begun = Date.now()
    const proxy = await Effect.runPromise(Scope.extend(slowProxy(chain.site.url), chain.scope))
    const anchor = new Date(Date.now() + ANCHOR_DELAY_MS).toISOString()
    // A single runner (no PRONTO_NOTIFY_RUNNER), restarted on the same clock.
    const env = { DATABASE_URL: chain.url, SITE_URL: proxy.url, SITE_KEY: KEY }
    const clock = { start: CLOCK_START, anchor }
    const first = start(["serve"], env, clock)
    chain.children.push(first)
    const run = async () =>
      (await chain.db.query<{ status: string; attempts: number }>(
        `SELECT status, attempts FROM pronto_notify.job_runs WHERE job = 'feedback' AND slot = $1`,
        [SLOT]
      )).rows[0]
    while ((await Effect.runPromise(chain.site.received)).length < 40) {
      if (Date.now() - begun > 50_000) throw new Error("the 11:00 run never got going")
      await sleep(100)
    }
    const exited = new Promise<number | null>((resolve) => first.on("exit", (code) => resolve(code)))
    const stopAsked = Date.now()
    first.kill("SIGTERM")
    expect(await exited).toBe(0)
    const stopMs = Date.now() - stopAsked
    expect(stopMs).toBeLessThan(10_000)

    // Stopped between notifications: none left in doubt, each recorded one reached the Site, the slot is open.
    const afterStop = (await chain.db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM pronto_notify.notifications GROUP BY status`
    )).rows
    expect(afterStop.map((r) => r.status)).toEqual(["sent"])
    const sentBeforeStop = afterStop[0]!.n
    expect(sentBeforeStop).toBeLessThan(ORDERS)
    expect((await Effect.runPromise(chain.site.received)).length).toBe(sentBeforeStop)
    expect(await run()).toMatchObject({ status: "interrupted", attempts: 1 })

    // Back a few seconds later: the unanswered tick runs the same slot again and finishes it.
    const second = start(["serve"], env, clock)
    chain.children.push(second)
    while ((await run())?.status !== "done") {
      if (Date.now() - begun > 55_000) throw new Error("the 11:00 slot did not complete after the restart")
      await sleep(200)
    }
    expect((await run())!.attempts).toBe(2)
    const phones = (await Effect.runPromise(chain.site.received)).map((m) => m.phones)
    expect(phones.length).toBe(ORDERS)
    expect(new Set(phones).size).toBe(ORDERS)
    const secondExit = new Promise<number | null>((resolve) => second.on("exit", (code) => resolve(code)))
    second.kill("SIGTERM")
    expect(await secondExit).toBe(0)
    console.log(`serve SIGTERM test: stopped after ${sentBeforeStop} of ${ORDERS} in ${stopMs} ms; done in ${Date.now() - begun} ms`)
  })
})

describe("serve: the Site's settings", () => {
  const refusal = (env: Record<string, string>) =>
    serve.pipe(
      Effect.flip,
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.map((error) => error.message)
    )

  it.effect("says which setting is missing or wrong, on one line, before anything starts", () =>
    Effect.gen(function*() {
      const noUrl = yield* refusal({ SITE_KEY: KEY })
      const notHttp = yield* refusal({ SITE_URL: "ftp://site.example", SITE_KEY: KEY })
      const noKey = yield* refusal({ SITE_URL: "https://site.example" })
      for (const message of [noUrl, notHttp, noKey]) {
        expect(message).toMatch(/^serve sends messages through the Site: /)
        expect(message).not.toContain("\n")
        expect(message).not.toContain(KEY)
      }
      expect(noUrl).toContain("SITE_URL")
      expect(noUrl).not.toContain("SITE_KEY")
      expect(notHttp).toContain("ftp://site.example")
      expect(notHttp).toContain("http(s) URL")
      expect(noKey).toContain("SITE_KEY")
      expect(noKey).not.toContain("SITE_URL")
    }))

  it.effect("a runner among several needs the runners' shared secret, long enough; the message shows none", () =>
    Effect.gen(function*() {
      const site = { SITE_URL: "https://site.example", SITE_KEY: KEY, PRONTO_NOTIFY_RUNNER: "127.0.0.1:34440" }
      const needs = "PRONTO_NOTIFY_RUNNER needs PRONTO_NOTIFY_RUNNER_SECRET: the secret every runner shares, 16 characters or more"
      expect(yield* refusal(site)).toBe(needs)
      expect(yield* refusal({ ...site, PRONTO_NOTIFY_RUNNER_SECRET: "short-secret" })).toBe(needs)
    }))
})

describe("serve: no clock from the environment", () => {
  const chain = chainOfOrders("site")

  it("runs on the real clock even when PRONTO_NOTIFY_CLOCK_* are set (C12)", { timeout: 60_000 }, async () => {
    const before = Date.now()
    const child = start(["serve"], {
      DATABASE_URL: chain.url,
      SITE_URL: chain.site.url,
      SITE_KEY: KEY,
      PRONTO_NOTIFY_CLOCK_START: "2031-03-10T07:59:52Z",
      PRONTO_NOTIFY_CLOCK_SPEED: "1000"
    })
    chain.children.push(child)
    let output = ""
    child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")))
    child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")))
    let now: RegExpExecArray | null = null
    while ((now = /now (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/.exec(output)) === null) {
      if (Date.now() - before > 45_000) throw new Error(`serve never said what time it is:\n${output}`)
      await sleep(100)
    }
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    child.kill("SIGTERM")
    await exited
    const said = Date.parse(now[1]!)
    expect(said).toBeGreaterThanOrEqual(before - 1000)
    expect(said).toBeLessThanOrEqual(Date.now() + 1000)
  })
})
