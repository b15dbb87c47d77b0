/**
 * What a host's monitoring gets from a real `pronto-notify serve` (a single runner on a made-up
 * clock just before 11:00 in Moscow, a fake Site on 127.0.0.1 that refuses some phones and leaves
 * others in doubt): after the 11:00 feedback slot, the counters scraped from /metrics equal the
 * run's summary in job_runs; /health/live and /health/ready answer (the database, the migrations,
 * the cluster's shards); with PRONTO_NOTIFY_LOG_FORMAT=json every log line is one JSON object, the
 * run's naming its job, kind and run, no phone unmasked; the traces that reach an OTLP/HTTP
 * collector on 127.0.0.1 form slot → run → message → POST, with no phone or text in any attribute.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import type { ChildProcess } from "node:child_process"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import pg from "pg"
import * as FakeSite from "../src/demo/FakeSite.ts"
import { start } from "./support/Cli.ts"
import { migratedUrl } from "./support/TestDatabase.ts"
import { freePort, sleep } from "./support/Ports.ts"

const ORDERS = 40
/** Clients whose phone the Site refuses ({"mesages_sent":0}), and those it leaves in doubt (a gateway's 504). */
const REFUSED = [3, 17, 29]
const IN_DOUBT = [8, 22]
const SLOT = "2026-03-10T08:00:00.000Z"
const CLOCK_START = "2026-03-10T07:59:52Z"
const ANCHOR_DELAY_MS = 4_000
const KEY = "observability-serve-key"
const TEXTS = ["Все понравилось? Оцени заказ и получи 50 баллов!", "Все понравилось? Оцени заказ в приложении и получи 100 баллов!"]

const phoneOf = (client: number) => `8916${String(client).padStart(7, "0")}`
const get = async (url: string) => {
  const response = await fetch(url)
  return { status: response.status, type: response.headers.get("content-type"), body: await response.text() }
}

/** An OTLP/HTTP collector on 127.0.0.1 that keeps every span posted to /v1/traces (JSON). */
interface OtlpSpan {
  readonly name: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
}
const collector = () =>
  new Promise<{ url: string; spans: Array<OtlpSpan>; close: () => void }>((resolve) => {
    const spans: Array<OtlpSpan> = []
    const server = http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        if (req.url === "/v1/traces") {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
            resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<OtlpSpan> }> }>
          }
          for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans)
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, close: () => server.close() }))
  })

/** A counter's samples from Prometheus' text: the value of each series of `name` whose labels include `labels`. */
const samples = (text: string, name: string, labels: Record<string, string>) =>
  text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)).flatMap((line) => {
    const m = /^[^{ ]+(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (m === null) return []
    const found = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]))
    return Object.entries(labels).every(([k, v]) => found[k] === v) ? [Number(m[2])] : []
  })
const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

describe("serve: what monitoring sees", () => {
  const scope = Effect.runSync(Scope.make())
  let url = ""
  let site: FakeSite.FakeSite
  let db: pg.Client
  let child: ChildProcess | undefined

  beforeAll(async () => {
    url = await Effect.runPromise(Scope.extend(migratedUrl, scope))
    site = await Effect.runPromise(Scope.extend(FakeSite.make(KEY), scope))
    db = new pg.Client({ connectionString: url })
    await db.connect()
    await db.query(`INSERT INTO jupiter.clients (id, phone) SELECT i, '8916' || lpad(i::text, 7, '0') FROM generate_series(1, ${ORDERS}) AS i`)
    await db.query(
      `INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at, total)
       SELECT gen_random_uuid(), i, 'site', true, 'closed', $1::timestamptz - make_interval(mins => i), 1000
       FROM generate_series(1, ${ORDERS}) AS i`,
      [SLOT]
    )
    const last7 = (client: number) => String(client).padStart(7, "0")
    await Effect.runPromise(site.behave((sms) =>
      REFUSED.some((c) => sms.phones.endsWith(last7(c)))
        ? "zero-sent"
        : IN_DOUBT.some((c) => sms.phones.endsWith(last7(c)))
        ? "gateway-timeout"
        : "ok"
    ))
  })
  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    await db?.end()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("scrapes counters equal to the run's summary, answers health, logs JSON, sends its traces", { timeout: 90_000 }, async () => {
    const begun = Date.now()
    const port = await freePort()
    const otlp = await collector()
    child = start(["serve"], {
      DATABASE_URL: url,
      SITE_URL: site.url,
      SITE_KEY: KEY,
      PRONTO_NOTIFY_METRICS: String(port),
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      PRONTO_NOTIFY_LOG_FORMAT: "json"
    }, { start: CLOCK_START, anchor: new Date(Date.now() + ANCHOR_DELAY_MS).toISOString() })
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    const feedback = async () =>
      (await db.query<{ status: string; summary: Record<string, number> }>(
        `SELECT status, summary FROM pronto_notify.job_runs WHERE job = 'feedback' AND slot = $1`,
        [SLOT]
      )).rows[0]
    while ((await feedback())?.status !== "done") {
      if (Date.now() - begun > 60_000) throw new Error(`the 11:00 slot never completed:\n${stderr}`)
      await sleep(200)
    }
    const summary = (await feedback())!.summary
    expect(summary).toMatchObject({
      selected: ORDERS,
      sent: ORDERS - REFUSED.length - IN_DOUBT.length,
      refused: REFUSED.length,
      inDoubt: IN_DOUBT.length,
      failed: 0,
      invalid: 0
    })

    // The scraped counters, summed over actions, equal the summary outcome by outcome.
    const metrics = await get(`http://127.0.0.1:${port}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.type).toMatch(/^text\/plain; version=0\.0\.4/)
    const messages = (outcome: string) => sum(samples(metrics.body, "pronto_notify_messages_total", { kind: "feedback", outcome }))
    expect(messages("sent")).toBe(summary.sent)
    expect(messages("refused")).toBe(summary.refused)
    expect(messages("in_doubt")).toBe(summary.inDoubt)
    expect(messages("failed")).toBe(summary.failed)
    expect(messages("invalid_phone")).toBe(summary.invalid)
    for (const [action, n] of Object.entries(summary.byAction as unknown as Record<string, number>)) {
      expect(sum(samples(metrics.body, "pronto_notify_messages_total", { kind: "feedback", action, outcome: "sent" }))).toBe(n)
    }
    expect(samples(metrics.body, "pronto_notify_runs_total", { job: "feedback", result: "done" })).toEqual([1])
    expect(samples(metrics.body, "pronto_notify_slot_lateness_count", { job: "feedback" })).toEqual([1])
    expect(sum(samples(metrics.body, "pronto_notify_site_post_duration_count", { outcome: "refused" }))).toBe(REFUSED.length)
    expect(sum(samples(metrics.body, "pronto_notify_site_post_duration_count", { outcome: "in_doubt" }))).toBe(IN_DOUBT.length)
    // The gauges are there (sampled at start; test/observability-gauges.test.ts follows them).
    expect(samples(metrics.body, "pronto_notify_messages_in_doubt", { kind: "feedback" })).toHaveLength(1)
    // No label names a client or a phone.
    expect(metrics.body).not.toMatch(/8916\d{7}|7916\d{7}|client/)

    expect(await get(`http://127.0.0.1:${port}/health/live`)).toMatchObject({ status: 200 })
    const ready = await get(`http://127.0.0.1:${port}/health/ready`)
    expect(ready.status, ready.body).toBe(200)
    expect(JSON.parse(ready.body)).toEqual({
      ready: true,
      checks: [
        { name: "database", ok: true, detail: "answers" },
        { name: "migrations", ok: true, detail: expect.stringMatching(/^all \d+ applied$/) },
        { name: "cluster", ok: true, detail: "all 300 shards held" }
      ]
    })
    expect((await get(`http://127.0.0.1:${port}/nothing`)).status).toBe(404)

    const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)))
    child.kill("SIGTERM")
    expect(await exited).toBe(0)

    // Logs: one JSON object a line; the run's lines name the job, the kind and the run; phones masked.
    const lines = stderr.trim().split("\n")
    const logs = lines.map((line) => JSON.parse(line) as { message: unknown; annotations: Record<string, unknown> })
    const ofRun = logs.filter((l) => l.annotations.kind === "feedback")
    expect(ofRun.length).toBeGreaterThan(0)
    for (const l of ofRun) {
      expect(l.annotations).toMatchObject({ job: "feedback", slot: SLOT, run: expect.any(Number) })
    }
    expect(ofRun.some((l) => /in doubt for/.test(String(l.message)))).toBe(true)
    for (const c of [...REFUSED, ...IN_DOUBT]) expect(stderr).not.toContain(phoneOf(c).slice(1))
    expect(stderr + stdout).not.toContain(KEY)

    // Traces: slot → run → message → POST, every message's and POST's, nothing personal in them.
    const byId = new Map(otlp.spans.map((s) => [s.spanId, s]))
    const named = (name: string) => otlp.spans.filter((s) => s.name === name)
    const parentOf = (s: OtlpSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined)
    const ancestor = (s: OtlpSpan, name: string) => {
      let a = parentOf(s)
      while (a !== undefined && a.name !== name) a = parentOf(a)
      return a
    }
    const slot = named("pronto-notify/slot").find((s) => s.attributes?.some((a) => a.key === "job" && a.value.stringValue === "feedback"))
    expect(slot).toBeDefined()
    const [run] = named("pronto-notify/run").filter((r) => ancestor(r, "pronto-notify/slot") === slot)
    expect(run).toBeDefined()
    const delivered = named("pronto-notify/deliver").filter((d) => ancestor(d, "pronto-notify/run") === run)
    expect(delivered).toHaveLength(ORDERS)
    const posts = named("pronto-notify/site-post")
    expect(posts).toHaveLength(ORDERS)
    for (const post of posts) expect(delivered).toContain(parentOf(post))
    const outcomes = delivered.map((d) => d.attributes?.find((a) => a.key === "outcome")?.value.stringValue)
    expect(outcomes.filter((o) => o === "refused")).toHaveLength(REFUSED.length)
    expect(outcomes.filter((o) => o === "in_doubt")).toHaveLength(IN_DOUBT.length)
    const values = otlp.spans.flatMap((s) => (s.attributes ?? []).map((a) => JSON.stringify(a.value)))
    for (let c = 1; c <= ORDERS; c++) {
      for (const v of values) expect(v).not.toContain(phoneOf(c).slice(1))
    }
    for (const text of TEXTS) for (const v of values) expect(v).not.toContain(text)
    otlp.close()
    console.log(`observability serve test: ${otlp.spans.length} spans, ${lines.length} log lines, done in ${Date.now() - begun} ms`)
  })
})
