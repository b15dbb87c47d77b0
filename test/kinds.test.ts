import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { VERSION } from "../src/cli/Cli.ts"
import { KINDS } from "../src/kinds/Kinds.ts"

const root = path.resolve(import.meta.dirname, "..")
const sources = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []
  )

describe("the kinds", () => {
  it("are exactly the four of the specification", () => {
    expect(KINDS).toEqual(["feedback", "invite", "profile", "birthday"])
  })

  it("leave out the rejected kinds entirely, not even behind a switch (C11)", () => {
    const rejected = [/успей потратить/i, /сохрани ранг/i, /кэшбэк/i, /баланс обнулится/i]
    for (const file of sources(path.join(root, "src"))) {
      const text = fs.readFileSync(file, "utf8")
      for (const pattern of rejected) expect(text, `${path.relative(root, file)} ${pattern}`).not.toMatch(pattern)
    }
  })

  it("the command line reports the package's version", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }
    expect(VERSION).toBe(pkg.version)
  })
})
