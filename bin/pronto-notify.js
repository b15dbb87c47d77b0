#!/usr/bin/env node
/**
 * The `pronto-notify` command. It needs packages that a host embedding only the library does not
 * install (the optional peer dependencies: @effect/cli, @effect/platform-node, @effect/sql-pg, ...);
 * when one is missing it says which, and the one command that installs them all.
 */
import { createRequire } from "node:module"

const missingPackage = (error) => {
  if (error?.code !== "ERR_MODULE_NOT_FOUND") return undefined
  return /Cannot find (?:package|module) '((?:@[^/']+\/)?[^/']+)/.exec(String(error.message))?.[1]
}

import("../dist/bin.js").catch((error) => {
  const missing = missingPackage(error)
  if (missing === undefined) throw error
  const pkg = createRequire(import.meta.url)("../package.json")
  const optional = Object.keys(pkg.peerDependenciesMeta ?? {}).filter((name) => pkg.peerDependenciesMeta[name].optional)
  const install = optional.map((name) => `${name}@${pkg.peerDependencies[name]}`).join(" ")
  process.stderr.write(
    `pronto-notify: the command line needs ${missing}, which is not installed; install its packages beside ${pkg.name}: npm install ${install}\n`
  )
  process.exitCode = 1
})
