/**
 * The scheduling commands: `due` and `schedule`.
 */
import { Command, Options } from "@effect/cli"
import { Console, DateTime, Duration, Effect } from "effect"
import { due, nextSlot, SCHEDULE } from "../scheduling/Schedule.ts"
import { businessTimeZone, parseInstant, printJson } from "./Common.ts"

export const dueCommand = Command.make(
  "due",
  {
    at: Options.text("at").pipe(Options.withDescription("an ISO-8601 instant with an offset, e.g. 2026-03-01T12:00:00+03:00")),
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

export const scheduleCommand = Command.make("schedule", {}, () =>
  Effect.gen(function*() {
    const zone = yield* businessTimeZone
    const now = yield* DateTime.now
    yield* Console.log(`the schedule, in the business time zone ${zone.name} (fixed: it changes only with a release)`)
    yield* Console.log(`${"job".padEnd(10)}${"when".padEnd(36)}${"cron".padEnd(16)}${"a missed slot still runs".padEnd(32)}next`)
    for (const e of SCHEDULE) {
      const next = DateTime.formatIsoZoned(DateTime.setZone(nextSlot(e, now, zone.zone), zone.zone))
      yield* Console.log(`${e.job.padEnd(10)}${e.words.padEnd(36)}${e.cron.padEnd(16)}${e.catchUpWords.padEnd(32)}${next}`)
    }
    yield* Console.log(
      `a process that was down runs each job once, for its latest slot, if it is back within that window (${
        SCHEDULE.map((e) => `${e.job} ${Duration.format(e.catchUp)}`).join(", ")
      }); it never replays every missed slot`
    )
    yield* Console.log(
      "a run that fails is tried again after 10s, 20s, 40s ... (at most 5m apart) while its slot is within that window, then given up (logged as an error)"
    )
  })).pipe(Command.withDescription("the whole schedule, in words and cron form"))
