/**
 * The browser of the page tests, found without a system package or a download: Debian's Chromium
 * at /usr/bin/chromium when the machine has it, otherwise the Chromium that ships inside the npm
 * package `@sparticuz/chromium` (a dev dependency, so `npm install` brings it). That package keeps
 * its binary Brotli-compressed; it is inflated once into a folder under the system tmpdir named
 * for the package's version, and reused from there.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { type Browser, chromium } from "playwright-core"

export const SYSTEM_CHROMIUM = "/usr/bin/chromium"

/** Headless, and quiet on a machine whose only network is the package registries. */
export const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

export interface Found {
  readonly executablePath: string
  readonly source: "system" | "@sparticuz/chromium"
}

const PACKAGE = "@sparticuz/chromium"
const root = path.resolve(import.meta.dirname, "../..")

const packageEntry = () => createRequire(import.meta.url).resolve(PACKAGE)

const packageVersion = (entry: string): string => {
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json")
    if (fs.existsSync(manifest)) {
      const parsed: { readonly name?: string; readonly version?: string } = JSON.parse(fs.readFileSync(manifest, "utf8"))
      if (parsed.name === PACKAGE && parsed.version) return parsed.version
    }
  }
  throw new Error(`${PACKAGE}: no package.json above ${entry}`)
}

/**
 * The package inflates into the system tmpdir (`os.tmpdir()`, shared by every checkout and every
 * version), and takes a half-written file for a finished one. So it runs in a child process whose
 * TMPDIR is a fresh staging folder, never given a URL (no download), and the folder is renamed into
 * place in one step: a concurrent run either wins the rename or finds the finished folder.
 */
const inflate = async (target: string): Promise<void> => {
  const staging = fs.mkdtempSync(`${target}.staging-`)
  try {
    const script = `const { default: c } = await import(${JSON.stringify(PACKAGE)}); await c.executablePath()`
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script],
        { cwd: root, env: { ...process.env, TMPDIR: staging } },
        (error, _stdout, stderr) => (error ? reject(new Error(`${PACKAGE} could not inflate its Chromium: ${stderr || error.message}`)) : resolve())
      )
    )
    if (!fs.existsSync(path.join(staging, "chromium"))) throw new Error(`${PACKAGE} left no chromium in ${staging}`)
    try {
      fs.renameSync(staging, target)
    } catch (e) {
      // Another run put its own in place first: that one is as good.
      if (!fs.existsSync(path.join(target, "chromium"))) throw e
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
}

/** Where the browser is: the system's when it exists, else the package's (inflated on first use). */
export const find = async (options: { readonly system?: string; readonly cacheRoot?: string } = {}): Promise<Found> => {
  const system = options.system ?? SYSTEM_CHROMIUM
  if (fs.existsSync(system)) return { executablePath: system, source: "system" }
  const target = path.join(options.cacheRoot ?? os.tmpdir(), `pronto-notify-chromium-${packageVersion(packageEntry())}`)
  if (!fs.existsSync(path.join(target, "chromium"))) await inflate(target)
  return { executablePath: path.join(target, "chromium"), source: PACKAGE }
}

/** Headless Chromium, found as `find` says. */
export const launch = async (options: Parameters<typeof find>[0] = {}): Promise<Browser> =>
  chromium.launch({ executablePath: (await find(options)).executablePath, args: ARGS })
