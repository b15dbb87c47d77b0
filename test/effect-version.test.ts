/**
 * The command line on another major version of effect than it runs on (npm's latest is Effect 4)
 * names the cause and the fix in one line, before anything loads.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { peerDependencies: Record<string, string> }
const dirs: Array<string> = []

/** The command as installed beside an `effect` of this version, and what it prints. */
const commandWith = (effectVersion: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-notify-effect-"))
  dirs.push(dir)
  fs.mkdirSync(path.join(dir, "bin"))
  fs.copyFileSync(path.join(root, "package.json"), path.join(dir, "package.json"))
  fs.copyFileSync(path.join(root, "bin/pronto-notify.js"), path.join(dir, "bin/pronto-notify.js"))
  fs.mkdirSync(path.join(dir, "node_modules/effect"), { recursive: true })
  fs.writeFileSync(
    path.join(dir, "node_modules/effect/package.json"),
    JSON.stringify({ name: "effect", version: effectVersion, exports: { "./package.json": "./package.json" } })
  )
  try {
    execFileSync(process.execPath, [path.join(dir, "bin/pronto-notify.js"), "--help"], { stdio: "pipe", encoding: "utf8" })
    return { code: 0, stderr: "" }
  } catch (error) {
    const e = error as { status: number; stderr: string }
    return { code: e.status, stderr: e.stderr }
  }
}

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

describe("the command line's effect", () => {
  it("of the Effect 4 line: one line naming the installed version and the range to install, exit 1", () => {
    const { code, stderr } = commandWith("4.0.1")
    expect(code).toBe(1)
    expect(stderr.trim().split("\n")).toHaveLength(1)
    expect(stderr.trim()).toBe(
      `pronto-notify: effect 4.0.1 is installed, but @pronto/notify runs on effect ${pkg.peerDependencies.effect} ` +
        `(the Effect 3 line): npm install effect@${pkg.peerDependencies.effect}`
    )
  })

  it("of the Effect 3 line: passes the check (and goes on to load the command)", () => {
    const { stderr } = commandWith("3.22.4")
    expect(stderr).not.toContain("is installed, but")
  })
})
