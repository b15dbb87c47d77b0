#!/usr/bin/env node
/**
 * The `pronto-notify` command. It needs packages that a host embedding only the library does not
 * install (the optional peer dependencies: @effect/cli, @effect/platform-node, @effect/sql-pg, ...);
 * when one is missing it says which, and the one command that installs them all. It runs on the
 * Effect 3 line only: an `effect` of another major version (npm's latest is Effect 4) is named as
 * the cause before anything loads, instead of a missing module deep inside it.
 */
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const pkg = require("../package.json")

const missingPackage = (error) => {
  if (error?.code !== "ERR_MODULE_NOT_FOUND") return undefined
  return /Cannot find (?:package|module) '((?:@[^/']+\/)?[^/']+)/.exec(String(error.message))?.[1]
}

/** The installed effect's version when it is not of the major version package.json asks for. */
const wrongEffect = () => {
  let version
  try {
    version = require("effect/package.json").version
  } catch {
    return undefined
  }
  const wanted = /^\^(\d+)\./.exec(pkg.peerDependencies.effect)?.[1]
  return version.split(".")[0] === wanted ? undefined : version
}

const effectVersion = wrongEffect()
if (effectVersion !== undefined) {
  process.stderr.write(
    `pronto-notify: effect ${effectVersion} is installed, but ${pkg.name} runs on effect ${pkg.peerDependencies.effect} ` +
      `(the Effect 3 line): npm install effect@${pkg.peerDependencies.effect}\n`
  )
  process.exitCode = 1
} else {
  import("../dist/bin.js").catch((error) => {
    const missing = missingPackage(error)
    if (missing === undefined) throw error
    const optional = Object.keys(pkg.peerDependenciesMeta ?? {}).filter((name) => pkg.peerDependenciesMeta[name].optional)
    const install = optional.map((name) => `${name}@${pkg.peerDependencies[name]}`).join(" ")
    process.stderr.write(
      `pronto-notify: the command line needs ${missing}, which is not installed; install its packages beside ${pkg.name}: npm install ${install}\n`
    )
    process.exitCode = 1
  })
}
