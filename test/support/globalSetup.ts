/**
 * One PostgreSQL for the whole test run: `DATABASE_URL` when set (CI: the machine's server),
 * otherwise an embedded server. Each test file then creates its own database on it.
 */
import { Cause, Effect, Exit, Option, Scope } from "effect"
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
  const started = await Effect.runPromiseExit(
    Effect.gen(function*() {
      const dataDir = yield* Embedded.temporaryDataDir
      return yield* Embedded.start({ dataDir, persistent: false })
    }).pipe(Scope.extend(scope))
  )
  if (Exit.isFailure(started)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    // One line saying why and what to do, and no test run: every test needs the database.
    const why = Option.match(Cause.failureOption(started.cause), {
      onNone: () => Cause.pretty(started.cause),
      onSome: (error) => error.message
    })
    process.stderr.write(`\npronto-notify tests: ${why}\n`)
    process.exit(1)
  }
  project.provide("adminDatabaseUrl", started.value)
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
