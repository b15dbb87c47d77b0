/**
 * The page tests' browser on a machine with only Node and npm: the system's Chromium when
 * /usr/bin/chromium (here: any given path) exists, otherwise the one inside @sparticuz/chromium,
 * inflated from the installed package (no download), and it renders a page headless.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Chromium from "./support/Browser.ts"

describe("the page tests' browser", () => {
  let root: string

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pronto-browser-"))
  })

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  it("is the system's Chromium when it exists", async () => {
    const system = path.join(root, "system-chromium")
    fs.writeFileSync(system, "")
    expect(await Chromium.find({ system, cacheRoot: root })).toEqual({ executablePath: system, source: "system" })
    expect(fs.readdirSync(root)).toEqual(["system-chromium"])
  })

  it("otherwise the package's, inflated once into a folder of its version (two runs at once: one folder), and it renders a page", async () => {
    const cacheRoot = fs.mkdtempSync(path.join(root, "cache-"))
    const options = { system: path.join(root, "no-such-chromium"), cacheRoot }
    const [a, b] = await Promise.all([Chromium.find(options), Chromium.find(options)])
    expect(a).toEqual(b)
    expect(a.source).toBe("@sparticuz/chromium")
    expect(a.executablePath).toMatch(new RegExp(`^${cacheRoot}/pronto-notify-chromium-\\d+\\.\\d+\\.\\d+/chromium$`))
    // Only the finished folder is left: no staging folder, nothing half-written.
    expect(fs.readdirSync(cacheRoot)).toEqual([path.basename(path.dirname(a.executablePath))])
    const again = await Chromium.find(options)
    expect(again).toEqual(a)

    const started = Date.now()
    const browser = await chromium.launch({ executablePath: a.executablePath, args: Chromium.ARGS })
    const launchedIn = Date.now() - started
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } })
      await page.setContent(`<p id="t" style="font: 16px sans-serif">Дарим 100 бонусов</p>`)
      const box = await page.locator("#t").boundingBox()
      expect(box?.height).toBeGreaterThan(10)
      expect(await page.locator("#t").textContent()).toBe("Дарим 100 бонусов")
      console.log(`@sparticuz/chromium ${browser.version()} launched in ${launchedIn} ms`)
    } finally {
      await browser.close()
    }
  }, 120_000)
})
