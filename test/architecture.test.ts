/**
 * The source tree keeps its shape: the library never imports the command line or the demo, no
 * migration pulls in an HTTP server, no module grows much past 300 lines, and only the kinds'
 * own folder names the kinds.
 */
import { build } from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const src = path.join(root, "src")
const sources = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []
  )
const relative = (file: string) => path.relative(root, file)
const folderOf = (file: string) => path.relative(src, file).split(path.sep)[0]!
const importsOf = (file: string) =>
  [...fs.readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!)

/** The application's folders and entry: everything else is the library. */
const APPLICATION = new Set(["cli", "demo", "bin.ts"])

describe("the source tree", () => {
  // The command (bin.ts) and the package's entries (package.json exports; test/package.test.ts).
  it("has only entry points at the top of src/", () => {
    const top = fs.readdirSync(src, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort()
    expect(top).toEqual(["bin.ts", "bonus-api.ts", "cluster.ts", "index.ts", "observability.ts", "postgres.ts"])
  })

  it("never imports the command line or the demo from the library", () => {
    const offenders = sources(src)
      .filter((file) => !APPLICATION.has(folderOf(file)))
      .flatMap((file) =>
        importsOf(file)
          .filter((spec) => spec.startsWith("."))
          .map((spec) => path.resolve(path.dirname(file), spec))
          .filter((target) => target.startsWith(src) && APPLICATION.has(folderOf(target)))
          .map((target) => `${relative(file)} imports ${relative(target)}`)
      )
    expect(offenders).toEqual([])
  })

  it("applies its migrations without loading an HTTP server or client", async () => {
    const result = await build({
      entryPoints: [path.join(src, "migrations/Migrations.ts")],
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      packages: "external",
      logLevel: "silent"
    })
    const imported = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path))
    const http = imported.filter((p) =>
      /^(node:)?https?$|^@effect\/platform-node|^@effect\/platform\/(HttpServer|HttpApiBuilder|HttpRouter|HttpClient|FetchHttpClient|HttpApiClient)/
        .test(p) || p === "@effect/platform"
    )
    expect(http).toEqual([])
    expect(Object.keys(result.metafile.inputs).filter((p) => /\/(cli|demo)\//.test(p))).toEqual([])
  })

  it("keeps every module to one concern: none much over 300 lines", () => {
    const long = sources(src)
      .map((file) => [relative(file), fs.readFileSync(file, "utf8").split("\n").length] as const)
      .filter(([, lines]) => lines > 330)
    expect(long).toEqual([])
  })

  it("has no import cycle", () => {
    const graph = new Map(sources(src).map((file) => [
      file,
      importsOf(file).filter((spec) => spec.startsWith(".")).map((spec) => path.resolve(path.dirname(file), spec))
    ]))
    const cycles: Array<string> = []
    const state = new Map<string, "visiting" | "done">()
    const visit = (file: string, trail: ReadonlyArray<string>) => {
      if (state.get(file) === "done") return
      if (state.get(file) === "visiting") {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map(relative).join(" -> "))
        return
      }
      state.set(file, "visiting")
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file])
      state.set(file, "done")
    }
    for (const file of graph.keys()) visit(file, [])
    expect(cycles).toEqual([])
  })

  it("defines each kind as data and functions: no tag or layer in a kind's files", () => {
    // The registry (Kinds.ts) is the one service of the folder: which kinds a deployment runs.
    const offenders = sources(path.join(src, "kinds"))
      .filter((file) => path.basename(file) !== "Kinds.ts")
      .filter((file) => /Context\.(Tag|Reference)\(|\bLayer\./.test(fs.readFileSync(file, "utf8")))
      .map(relative)
    expect(offenders).toEqual([])
  })

  it("writes the literals that travel with a COMMIT in one module only", () => {
    const users = sources(src).filter((file) => importsOf(file).some((spec) => spec.endsWith("/Literals.ts"))).map(relative)
    expect(users).toEqual(["src/store/MessageConnection.ts"])
  })

  it("names the kinds only in their own folder (the registry derives the rest)", () => {
    // Migrations are history: one of them rewrote the invites stored before action sets existed.
    const named = sources(src)
      .filter((file) => !["kinds", "demo"].includes(folderOf(file)) && !relative(file).startsWith("src/migrations/"))
      .flatMap((file) =>
        fs.readFileSync(file, "utf8").split("\n").flatMap((line, i) =>
          // Comments may speak of the kinds; code may not list them.
          !/^\s*(\*|\/\/|\/\*)/.test(line) && /["'`](feedback|invite|profile|birthday)(:[AB])?["'`]/.test(line)
            ? [`${relative(file)}:${i + 1}: ${line.trim()}`]
            : []
        )
      )
    expect(named).toEqual([])
  })
})
