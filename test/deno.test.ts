import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const deno = path.join(root, "node_modules/.bin/deno")
const env = { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }

describe("Deno compatibility", { timeout: 120_000 }, () => {
  it("the library type-checks under Deno", () => {
    const out = execFileSync(deno, ["check", "src/index.ts"], { cwd: root, env, encoding: "utf8", stdio: "pipe" })
    expect(out).not.toMatch(/error/i)
  })

  it("the library loads and runs under Deno, asking no permission at import", () => {
    const out = execFileSync(deno, ["run", "test/fixtures/deno-smoke.ts"], {
      cwd: root,
      env,
      encoding: "utf8",
      stdio: "pipe"
    })
    expect(JSON.parse(out)).toEqual({
      kinds: ["feedback", "invite", "profile", "birthday"],
      phone: "89091582149",
      feedback: "Все понравилось? Оцени заказ и получи 50 баллов!"
    })
  })
})
