/**
 * One PostgreSQL for the whole test run: `DATABASE_URL` when set (CI: the machine's server),
 * otherwise an embedded server. Each test file then creates its own database on it.
 */
import { Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import * as Embedded from "../../src/database/EmbeddedPostgres.ts"

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string
  }
}

export default async function setup(project: TestProject) {
  const fromEnv = process.env.DATABASE_URL?.trim()
  if (fromEnv) {
    project.provide("adminDatabaseUrl", fromEnv)
    return
  }
  const scope = Effect.runSync(Scope.make())
  const url = await Effect.runPromise(
    Effect.gen(function*() {
      const dataDir = yield* Embedded.temporaryDataDir
      return yield* Embedded.start({ dataDir, persistent: false })
    }).pipe(Scope.extend(scope))
  )
  project.provide("adminDatabaseUrl", url)
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
