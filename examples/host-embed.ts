/**
 * What a Jupiter developer copies: the host's own PostgreSQL client, the library's services over
 * it, the Site sender, and one feedback run as of an instant, its summary printed as one JSON line.
 *
 *   DATABASE_URL=postgres://... SITE_URL=https://www.pronto24.ru SITE_KEY=... \
 *     node --import tsx host-embed.ts 2026-03-01T12:00:00+03:00
 *   deno run --allow-env --allow-net --allow-read --allow-sys host-embed.ts 2026-03-01T12:00:00+03:00
 *
 * It needs @pronto/notify and the host's own effect, @effect/sql, @effect/sql-pg and
 * @effect/platform, one copy of each. The database has the library's tables (`migrate`, or
 * `pronto-notify migrate`). A planner runs the job at the current instant instead: without
 * `ShiftedClock.withClockAt` a run takes the Clock's now (C1).
 */
import { PgClient } from "@effect/sql-pg"
import { Instant, Jobs, Kinds, ProntoNotify, ShiftedClock, SiteSender } from "@pronto/notify"
import { Cause, Config, Console, Effect, Exit, Layer, Logger, Option } from "effect"
import process from "node:process"

// The host's client as it comes: the library decodes its rows itself and needs no type parsers.
const Database = PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") })

// The Site's key stays Redacted: the library never prints, logs or stores it.
const Site = Layer.unwrapEffect(
  Effect.map(Config.all({ url: Config.string("SITE_URL"), key: Config.redacted("SITE_KEY") }), SiteSender.layer)
)

const Notify = Layer.mergeAll(ProntoNotify.layer({ timeZone: "Europe/Moscow" }), Site).pipe(
  Layer.provideMerge(Database)
)

const program = Effect.gen(function*() {
  const at = yield* Option.match(Instant.parseIsoInstant(process.argv[2] ?? ""), {
    onNone: () => Effect.fail(new Error("give the run's instant, ISO-8601 with an offset, e.g. 2026-03-01T12:00:00+03:00")),
    onSome: Effect.succeed
  })
  const summary = yield* ShiftedClock.withClockAt(at)(Jobs.run(Kinds.Feedback))
  yield* Console.log(JSON.stringify(summary))
}).pipe(
  Effect.provide(Notify),
  // The library logs through Effect's Logger; here to stderr, so that stdout is the summary alone.
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)))
)

Effect.runPromiseExit(program).then((exit) => {
  if (Exit.isFailure(exit)) {
    const error = Cause.squash(exit.cause)
    console.error(`host-embed: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  }
})
