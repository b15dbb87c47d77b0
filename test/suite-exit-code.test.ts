/**
 * `npm test` tells the truth: vitest, run as a child process with the suite's own global setup,
 * exits 1 when a test fails and 0 when all pass, with DATABASE_URL and without it (then the setup
 * starts an embedded server, whose package would otherwise end the process with exit code 0).
 * vitest runs in a copy of the checkout under a directory anyone may enter, so the embedded server
 * (as root, user postgres) starts wherever this checkout lives.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { copyCheckout } from "./support/CheckoutCopy.ts"

let parent: string
let root: string

beforeAll(() => {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-exit-code-"))
  fs.chmodSync(parent, 0o755)
  root = copyCheckout(path.join(parent, "checkout"))
})

afterAll(() => {
  if (parent) fs.rmSync(parent, { recursive: true, force: true })
})

interface Run {
  readonly code: number | null
  readonly output: string
}

/** vitest on one fixture file (`fails` or `passes`), with or without DATABASE_URL. */
const vitest = (fixture: "fails" | "passes", databaseUrl: string | undefined) =>
  new Promise<Run>((resolve, reject) => {
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) {
      // The child is a fresh vitest: none of this run's own VITEST_* settings or database.
      if (value !== undefined && !key.startsWith("VITEST") && key !== "DATABASE_URL") env[key] = value
    }
    if (databaseUrl !== undefined) env.DATABASE_URL = databaseUrl
    const child = spawn(
      process.execPath,
      [path.join(root, "node_modules/vitest/vitest.mjs"), "run", "--config", "test/fixtures/exit-code/vitest.config.ts", fixture],
      { cwd: root, env: { ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

describe("the test command's exit code", () => {
  it("is 1 when a test fails, without DATABASE_URL (an embedded server in the global setup)", async () => {
    const run = await vitest("fails", undefined)
    expect(run.output).toMatch(/suite database on port (?!5432\b)\d+/)
    expect(run.output).toContain("fails on purpose")
    expect(run.output).toMatch(/Test Files\s+1 failed/)
    expect(run.code, run.output).toBe(1)
  }, 180_000)

  it("is 0 when every test passes, without DATABASE_URL", async () => {
    const run = await vitest("passes", undefined)
    expect(run.output).toMatch(/suite database on port (?!5432\b)\d+/)
    expect(run.output).toMatch(/Test Files\s+1 passed/)
    expect(run.code, run.output).toBe(0)
  }, 180_000)

  it("is 1 when a test fails, and 0 when every test passes, with DATABASE_URL", async () => {
    const url = inject("adminDatabaseUrl")
    const failed = await vitest("fails", url)
    expect(failed.output).toContain(`suite database on port ${new URL(url).port || "5432"}`)
    expect(failed.output).toMatch(/Test Files\s+1 failed/)
    expect(failed.code, failed.output).toBe(1)
    const passed = await vitest("passes", url)
    expect(passed.code, passed.output).toBe(0)
  }, 180_000)
})
