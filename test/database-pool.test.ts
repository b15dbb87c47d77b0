/**
 * The command line's pool closes within a bound, whatever its connections were doing: a process
 * stopped by SIGTERM while a connection was being handed out must still exit.
 *
 * @effect/sql-pg's `reserve` cannot be cancelled while it waits for the pool: interrupted then, the
 * connection it later receives is never given back, and `pg.Pool#end` waits for it forever. The
 * pool's release must give up on that wait rather than hold the process (serve on SIGTERM, during
 * its start, hung so).
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Exit, Fiber, Layer, Scope } from "effect"
import * as Database from "../src/database/Database.ts"
import { makeDatabase } from "./support/TestDatabase.ts"

describe("the command line's pool", () => {
  it.live("closes within its bound after a reserve interrupted while it waited for a connection", () =>
    Effect.gen(function*() {
      const { url } = yield* makeDatabase
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(Database.layerUrl(url, { maxConnections: 1 }), scope)
      const sql = Effect.runSync(Effect.provide(SqlClient.SqlClient, context))

      // The only connection is taken; a second reserve waits in the pool's queue and is interrupted.
      const holder = yield* Scope.make()
      yield* Scope.extend(sql.reserve, holder)
      const waiting = yield* Effect.fork(Effect.scoped(sql.reserve))
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(waiting)
      // Given back, the connection goes to the interrupted waiter, which no longer exists.
      yield* Scope.close(holder, Exit.void)
      yield* Effect.sleep("100 millis")

      const [took, closed] = yield* Effect.timed(
        Scope.close(scope, Exit.void).pipe(Effect.timeoutOption("20 seconds"))
      )
      expect(closed._tag).toBe("Some")
      expect(Duration.toMillis(took)).toBeLessThan(10_000)
    }).pipe(Effect.scoped), { timeout: 40_000 })
})
