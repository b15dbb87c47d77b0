/**
 * `pronto-notify migrate [--reference-host]`: creates or updates the library's tables.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import * as Database from "../database/Database.ts"
import { installReferenceHostSchema } from "../host/HostSchema.ts"
import { migrate } from "../migrations/Migrations.ts"

export const command = Command.make(
  "migrate",
  {
    referenceHost: Options.boolean("reference-host").pipe(
      Options.withDescription("also create the reference Jupiter tables (for a database without Jupiter)")
    )
  },
  ({ referenceHost }) =>
    Effect.gen(function*() {
      if (referenceHost) yield* installReferenceHostSchema
      const applied = yield* migrate
      yield* Console.log(
        applied.length === 0
          ? "pronto_notify schema is up to date"
          : `applied: ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`
      )
    }).pipe(Effect.provide(Database.layer()))
).pipe(Command.withDescription("create or update the library's tables"))
