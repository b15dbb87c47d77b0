import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Database from "../src/database/Database.ts"
import * as FakeSite from "../src/demo/FakeSite.ts"
import * as Cli from "./support/Cli.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import { migratedUrl } from "./support/TestDatabase.ts"

const KEY = "cli-test-key"
const AT = "2026-03-10T11:00:00+03:00"
const hoursBeforeAt = (h: number) => new Date(Date.parse(AT) - h * 3600_000).toISOString()

/** A fresh migrated database with two clients and three eligible orders, and a fake Site. */
const setup = Effect.gen(function*() {
  const url = yield* migratedUrl
  const site = yield* FakeSite.make(KEY)
  const uids = yield* Effect.gen(function*() {
    yield* insertClient({ id: 1, phone: "+7 (909) 158-21-49" })
    yield* insertClient({ id: 2 })
    return [
      yield* insertOrder({ clientId: 1, closedAt: hoursBeforeAt(3) }),
      yield* insertOrder({ clientId: 2, closedAt: hoursBeforeAt(2) }),
      yield* insertOrder({ clientId: 1, closedAt: hoursBeforeAt(1) })
    ] as const
  }).pipe(Effect.provide(Database.layerUrl(url, { maxConnections: 2 })), Effect.orDie)
  const env = { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: KEY, NOTIFY_TIME_ZONE: "Europe/Moscow" }
  const count = (table: string) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(table)}`).pipe(
      Effect.map((rows) => rows[0]!.n),
      Effect.provide(Database.layerUrl(url, { maxConnections: 1 })),
      Effect.orDie
    )
  return { url, site, uids, env, count }
})

describe("pronto-notify command line", { timeout: 120_000 }, () => {
  it.live("--version prints package.json's version", () =>
    Effect.gen(function*() {
      const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../package.json"), "utf8")) as { version: string }
      const result = yield* Cli.run(["--version"], {})
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout.trim()).toBe(pkg.version)
    }))

  it.scopedLive("bad input gets one line that says what to fix, a non-zero exit, and writes nothing", () =>
    Effect.gen(function*() {
      const { count, env } = yield* setup
      const cases: ReadonlyArray<[ReadonlyArray<string>, Record<string, string | undefined>, RegExp]> = [
        [["run", "spend-before", "--at", AT], env, /unknown kind "spend-before"/],
        [["run", "feedback", "--at", "10.03.2026 11:00"], env, /--at "10.03.2026 11:00" is not an ISO-8601 instant/],
        [["run", "feedback", "--at", "2026-03-10T11:00:00"], env, /is not an ISO-8601 instant with an offset/],
        [["run", "feedback", "--at", AT], { ...env, SITE_URL: undefined }, /set SITE_URL/],
        [["run", "feedback", "--at", AT], { ...env, NOTIFY_TIME_ZONE: "Mars/Olympus" }, /NOTIFY_TIME_ZONE "Mars\/Olympus"/],
        [["run", "feedback", "--at", AT], { ...env, DATABASE_URL: "postgres://postgres:pw@127.0.0.1:1/nowhere" }, /cannot connect to PostgreSQL at 127\.0\.0\.1:1\/nowhere .*check DATABASE_URL/],
        [["messages", "--from", "yesterday"], env, /--from "yesterday"/],
        [["run", "feedback", "--at", "2026-02-30T12:00:00Z"], env, /--at "2026-02-30T12:00:00Z" is not an ISO-8601 instant/]
      ]
      for (const [args, caseEnv, expected] of cases) {
        const result = yield* Cli.run(args, caseEnv)
        expect(result.code, args.join(" ")).not.toBe(0)
        const lines = result.stderr.trim().split("\n")
        expect(lines, result.stderr).toHaveLength(1)
        expect(lines[0]).toMatch(expected)
        expect(result.stderr).not.toContain("pw@")
      }
      expect(yield* count("pronto_notify.notifications")).toBe(0)
      expect(yield* count("pronto_notify.rotation")).toBe(0)
    }))

  it.scopedLive("run --dry-run shows who would get which text and changes nothing", () =>
    Effect.gen(function*() {
      const { count, env, site, uids } = yield* setup
      const result = yield* Cli.run(["run", "feedback", "--at", AT, "--dry-run", "--json"], env)
      expect(result.code, result.stderr).toBe(0)
      const out = JSON.parse(result.stdout)
      expect(out.messages.map((m: { orderUid: string; chosenAction: number }) => [m.orderUid, m.chosenAction])).toEqual([
        [uids[0], 1],
        [uids[1], 2],
        [uids[2], 1]
      ])
      expect(out.messages[0].phone).toBe("8909*****49")
      expect(yield* site.received).toEqual([])
      expect(yield* count("pronto_notify.notifications")).toBe(0)
      expect(yield* count("pronto_notify.rotation")).toBe(0)
    }))

  it.scopedLive("run --json prints the summary and messages --json the table", () =>
    Effect.gen(function*() {
      const { env, site, uids } = yield* setup
      const result = yield* Cli.run(["run", "feedback", "--at", AT, "--json"], env)
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout)).toEqual({
        kind: "feedback",
        at: expect.stringMatching(/^2026-03-10T08:00:00\.\d{3}Z$/),
        run: expect.any(Number),
        selected: 3,
        sent: 3,
        failed: 0,
        refused: 0,
        inDoubt: 0,
        invalid: 0,
        byAction: { "1": 2, "2": 1 }
      })
      expect((yield* site.received).map((r) => r.phones).sort()).toEqual(["89091582149", "89091582149", "89160000002"])

      const within = yield* Cli.run(["messages", "--from", "2026-03-10T10:59:00+03:00", "--to", "2026-03-10T11:01:00+03:00", "--json"], env)
      expect(JSON.parse(within.stdout)).toHaveLength(3)
      const before = yield* Cli.run(["messages", "--to", "2026-03-10T11:00:00+03:00", "--json"], env)
      expect(JSON.parse(before.stdout)).toEqual([])
      const after = yield* Cli.run(["messages", "--from", "2026-03-10T11:01:00+03:00", "--json"], env)
      expect(JSON.parse(after.stdout)).toEqual([])
      const otherKind = yield* Cli.run(["messages", "--kind", "invite", "--json"], env)
      expect(JSON.parse(otherKind.stdout)).toEqual([])

      const listed = yield* Cli.run(["messages", "--kind", "feedback", "--json"], env)
      expect(listed.code, listed.stderr).toBe(0)
      const messages = JSON.parse(listed.stdout)
      expect(messages).toHaveLength(3)
      expect(Object.keys(messages[0]).sort()).toEqual(
        ["id", "kind", "clientId", "orderUid", "phone", "chosenAction", "performedAction", "text", "sentAt", "status", "reaction", "reactionRef"].sort()
      )
      expect(messages.find((m: { orderUid: string }) => m.orderUid === uids[1])).toMatchObject({
        kind: "feedback",
        clientId: "2",
        phone: "89160000002",
        chosenAction: 2,
        performedAction: 2,
        text: "Все понравилось? Оцени заказ в приложении и получи 100 баллов!",
        status: "sent",
        reaction: "pending",
        reactionRef: null
      })
    }))

  it.scopedLive("order-closed records an order's close and backfill-last-order recomputes every client", () =>
    Effect.gen(function*() {
      const { env, uids, url } = yield* setup
      const bad = yield* Cli.run(["order-closed", "not-a-uid"], env)
      expect(bad.code).not.toBe(0)
      expect(bad.stderr.trim().split("\n")).toHaveLength(1)

      const closed = yield* Cli.run(["order-closed", uids[2]!], env)
      expect(closed.code, closed.stderr).toBe(0)
      expect(closed.stdout).toContain(`client 1 last order ${new Date(hoursBeforeAt(1)).toISOString()}`)

      const backfill = yield* Cli.run(["backfill-last-order"], env)
      expect(backfill.code, backfill.stderr).toBe(0)
      // Client 2 had no last order time yet; client 1 was already up to date.
      expect(backfill.stdout).toMatch(/^1 clients changed/)
      const rows = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        // Ordered by the qualified bigint column, not the text alias.
        sql<{ id: string; lastOrderAt: Date }>`
          SELECT id::text AS id, last_order_at AS "lastOrderAt" FROM jupiter.clients ORDER BY clients.id
        `).pipe(
          Effect.provide(Database.layerUrl(url, { maxConnections: 1 })),
          Effect.orDie
        )
      expect(rows.map((r) => [r.id, r.lastOrderAt.toISOString()])).toEqual([
        ["1", new Date(hoursBeforeAt(1)).toISOString()],
        ["2", new Date(hoursBeforeAt(2)).toISOString()]
      ])
    }))

  it.scopedLive("due, schedule, and a dry run of the other kinds", () =>
    Effect.gen(function*() {
      const { env, url } = yield* setup
      // 1 April 12:30 in Moscow is 09:30Z: profile's slot, on the 1st.
      expect(JSON.parse((yield* Cli.run(["due", "--at", "2026-04-01T09:30:00Z", "--json"], env)).stdout)).toEqual(["profile"])
      expect(JSON.parse((yield* Cli.run(["due", "--at", "2026-04-02T09:30:00Z", "--json"], env)).stdout)).toEqual([])
      expect(JSON.parse((yield* Cli.run(["due", "--at", "2026-04-01T09:00:00Z", "--json"], env)).stdout)).toEqual([
        "feedback",
        "invite"
      ])
      const schedule = (yield* Cli.run(["schedule"], env)).stdout
      for (const cron of ["0 11-22 * * *", "0 12 * * *", "30 12 1 * *", "0 13 * * *", "0 4 * * *"]) {
        expect(schedule).toContain(cron)
      }
      // The header and a row per job, five columns each: no cell runs into the next.
      const rows = schedule.split("\n").slice(1, 7)
      expect(rows[0]!.split(/ {2,}/)).toEqual(["job", "when", "cron", "a missed slot still runs", "next"])
      for (const row of rows.slice(1)) expect(row.split(/ {2,}/), row).toHaveLength(5)

      yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql`UPDATE jupiter.clients SET birthday = '1990-03-13' WHERE id = 2`).pipe(
          Effect.provide(Database.layerUrl(url, { maxConnections: 1 })),
          Effect.orDie
        )
      const birthday = yield* Cli.run(["run", "birthday", "--at", AT, "--dry-run", "--json"], env)
      expect(birthday.code, birthday.stderr).toBe(0)
      expect(JSON.parse(birthday.stdout).messages).toEqual([{
        clientId: "2",
        orderUid: null,
        phone: "8916*****02",
        chosenAction: 1,
        performedAction: 1,
        text: "У вас скоро день рождения: дарим скидку 15% на всю следующую неделю"
      }])
    }))

  it.scopedLive("report prints the figures as text and JSON and writes the HTML page", () =>
    Effect.gen(function*() {
      const { env } = yield* setup
      yield* Cli.run(["run", "feedback", "--at", AT], env)
      const dry = yield* Cli.run(["run", "reactions", "--dry-run"], env)
      expect(dry.stderr.trim()).toBe("pronto-notify: --dry-run does not apply to run reactions")
      const reactions = yield* Cli.run(["run", "reactions", "--at", "2026-03-25T11:00:00+03:00", "--json"], env)
      expect(reactions.code, reactions.stderr).toBe(0)
      expect(JSON.parse(reactions.stdout)).toMatchObject({ job: "reactions", examined: 3, reacted: 0, none: 3, pending: 0 })
      const listed: Array<{ reaction: string }> = JSON.parse((yield* Cli.run(["messages", "--json"], env)).stdout)
      expect(listed.map((m) => m.reaction)).toEqual(["none", "none", "none"])

      const bad = yield* Cli.run(["report", "--from", "2026-03-10", "--to", "2026-03-01"], env)
      expect(bad.code).not.toBe(0)
      expect(bad.stderr.trim().split("\n")).toEqual(["pronto-notify: --from must be before --to"])

      const json = yield* Cli.run(["report", "--json"], env)
      expect(json.code, json.stderr).toBe(0)
      const feedback = JSON.parse(json.stdout).groups.find((g: { kind: string }) => g.kind === "feedback")
      expect(feedback.actions.map((a: { action: number; sent: number; none: number }) => [a.action, a.sent, a.none]))
        .toEqual([[1, 2, 2], [2, 1, 1]])

      const file = path.join(os.tmpdir(), `pronto-report-${Date.now()}.html`)
      const text = yield* Cli.run(["report", "--html", file], env)
      expect(text.code, text.stderr).toBe(0)
      expect(text.stdout).toContain("feedback")
      expect(text.stderr).toContain(`wrote the HTML report to ${file}`)
      expect(fs.readFileSync(file, "utf8")).toMatch(/^<!DOCTYPE html>/i)
      fs.rmSync(file)
    }))

  it.scopedLive("a process killed after the Site got the message leaves it in doubt, and it is never sent again; attempts that never started are sent by the next run", () =>
    Effect.gen(function*() {
      const { env, site, uids } = yield* setup
      const child = Cli.start(["run", "feedback", "--at", AT], env)
      // The Site gets the first message, and the process dies before it can commit.
      yield* site.behave(() => {
        child.kill("SIGKILL")
        return "hang"
      })
      yield* Cli.finish(child)
      yield* site.behave("ok")

      // Every attempt in flight at the kill is in doubt (it may have reached the Site); none is "sent".
      const first: Array<{ id: string; orderUid: string; status: string }> = JSON.parse((yield* Cli.run(["messages", "--json"], env)).stdout)
      expect(first.length).toBeGreaterThanOrEqual(1)
      expect(first.every((m) => m.status === "in_doubt")).toBe(true)
      expect(first.map((m) => m.orderUid)).toContain(uids[0])
      // Of those, only the ones whose POST had started stay in doubt; the rest certainly never left.
      const doubt: Array<{ id: string; orderUid: string; postStartedAt: string | null }> = JSON.parse(
        (yield* Cli.run(["in-doubt", "--json"], env)).stdout
      )
      const started = doubt.filter((m) => m.postStartedAt !== null)
      expect(started.map((m) => m.orderUid)).toContain(uids[0])
      const receivedBefore = (yield* site.received).length

      // The next run releases the attempts whose POST never started and sends them, with the rest.
      const rerun = yield* Cli.run(["run", "feedback", "--at", "2026-03-10T12:00:00+03:00", "--json"], env)
      expect(JSON.parse(rerun.stdout)).toMatchObject({ selected: 3 - started.length, sent: 3 - started.length })
      const resent = (yield* site.received).slice(receivedBefore)
      expect(resent).toHaveLength(3 - started.length)
      const after: Array<{ orderUid: string; status: string }> = JSON.parse((yield* Cli.run(["messages", "--json"], env)).stdout)
      expect(after.map((m) => m.orderUid).sort()).toEqual([...uids].sort())
      for (const m of started) expect(after.find((a) => a.orderUid === m.orderUid)?.status).toBe("in_doubt")

      // The operator finds the first one in the Site's log: delivered.
      const usage = yield* Cli.run(["settle", started[0]!.id], env)
      expect(usage.stderr.trim()).toBe("pronto-notify: say which: settle <notification-id> --delivered, or --not-delivered")
      const settled = yield* Cli.run(["settle", started[0]!.id, "--delivered"], env)
      expect(settled.code, settled.stderr).toBe(0)
      const final: Array<{ id: string; status: string }> = JSON.parse((yield* Cli.run(["messages", "--json"], env)).stdout)
      expect(final.find((m) => m.id === started[0]!.id)?.status).toBe("sent")
    }))
})
