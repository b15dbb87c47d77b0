/**
 * Writes deno.json (the JSR package) from package.json, the one source of the package's name,
 * version, licence, entries and dependency ranges: `npm version` runs it. With `--check` it only
 * says whether deno.json agrees, and exits 1 when it does not (test/package.test.ts runs that).
 *
 * JSR gets the built library: dist/'s JavaScript with its declarations (`@ts-self-types`, see
 * build.mjs), without the command line, the demo or the maps; `npm run jsr:check` builds and checks.
 */
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))

const exportsOf = Object.fromEntries(
  Object.entries(pkg.exports)
    .filter(([subpath]) => subpath !== "./package.json")
    .map(([subpath, target]) => [subpath, target.default])
)

// Every peer, so that each entry's imports resolve; a bare name and its subpaths.
const imports = Object.fromEntries(
  Object.entries(pkg.peerDependencies).flatMap(([name, range]) => [
    [name, `npm:${name}@${range}`],
    [`${name}/`, `npm:/${name}@${range}/`]
  ])
)

const denoJson = {
  name: pkg.name,
  version: pkg.version,
  license: pkg.license,
  exports: exportsOf,
  imports,
  // The repository's own Deno runs (test/deno.test.ts) use the packages npm installed.
  nodeModulesDir: "manual",
  compilerOptions: {
    strict: true,
    exactOptionalPropertyTypes: true,
    lib: ["deno.ns", "dom", "es2022"]
  },
  publish: {
    include: ["dist/**/*.js", "dist/**/*.d.ts", "README.md", "LICENSE"],
    // dist/ is git-ignored: "!dist" publishes it all the same.
    exclude: ["!dist", "dist/bin.*", "dist/cli/", "dist/demo/"]
  },
  tasks: {
    check: "deno check src/index.ts"
  }
}

const text = `${JSON.stringify(denoJson, null, 2)}\n`
const file = path.join(root, "deno.json")
if (process.argv.includes("--check")) {
  if (fs.readFileSync(file, "utf8") !== text) {
    console.error("deno.json does not agree with package.json: run `node scripts/deno-json.mjs`")
    process.exit(1)
  }
} else {
  fs.writeFileSync(file, text)
}
