/**
 * Builds dist/ for npm and JSR: a clean `tsc -p tsconfig.build.json` (JavaScript, declarations, and
 * maps into src/, which the package ships), then two touches to what tsc emits:
 * - declarations import `./x.js`, not `./x.ts` (tsc rewrites the extensions in JavaScript only), so
 *   that Deno and every TypeScript resolver find them;
 * - each module names its declarations (`@ts-self-types`), so that JSR takes the types from them
 *   instead of inferring them from JavaScript; the module's map is moved down by that one line.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const dist = path.join(root, "dist")

fs.rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit"
})

const files = (dir) =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]
  )

// Same length (.ts -> .js), so the declaration maps stay exact.
const relativeTs = /((?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']*)\.ts\2/g

for (const file of files(dist)) {
  if (file.endsWith(".d.ts")) {
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(relativeTs, "$1$2$3.js$2"))
  } else if (file.endsWith(".js")) {
    const types = `./${path.basename(file, ".js")}.d.ts`
    fs.writeFileSync(file, `/* @ts-self-types="${types}" */\n${fs.readFileSync(file, "utf8")}`)
    const mapFile = `${file}.map`
    const map = JSON.parse(fs.readFileSync(mapFile, "utf8"))
    fs.writeFileSync(mapFile, JSON.stringify({ ...map, mappings: `;${map.mappings}` }))
  }
}
