/**
 * `pronto-notify due --at <instant> [--json]`: the jobs due at an instant, for a host that runs
 * them from its own planner.
 */
import { Command, Options } from "@effect/cli"
import { Console, DateTime, Effect } from "effect"
import { due } from "../scheduling/Schedule.ts"
import { businessTimeZone, parseInstant, printJson } from "./Common.ts"

export const command = Command.make(
  "due",
  {
    at: Options.text("at").pipe(
      Options.withPseudoName("instant"),
      Options.withDescription("an ISO-8601 instant with an offset, e.g. 2026-03-01T12:00:00+03:00")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print a JSON array of job names"))
  },
  (args) =>
    Effect.gen(function*() {
      const at = yield* parseInstant("--at", args.at)
      const zone = yield* businessTimeZone
      const jobs = due(at, zone.zone)
      if (args.json) return yield* printJson(jobs)
      const local = DateTime.formatIsoZoned(DateTime.setZone(at, zone.zone))
      yield* Console.log(jobs.length === 0 ? `nothing is due at ${local}` : `due at ${local}: ${jobs.join(", ")}`)
    })
).pipe(Command.withDescription("the jobs due at an instant (for a host's own planner, once a minute)"))
