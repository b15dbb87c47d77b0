/**
 * `pronto-notify schedule`: the whole schedule, in words and cron form, with each job's next slot.
 */
import { Command } from "@effect/cli"
import { Console, DateTime, Duration, Effect } from "effect"
import { nextSlot, SCHEDULE } from "../scheduling/Schedule.ts"
import { businessTimeZone } from "./Common.ts"

export const command = Command.make("schedule", {}, () =>
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
      "a run that fails or leaves sends failed is tried again after 10s, 20s, 40s ... (at most 5m apart; after a circuit-breaker stop 5m, 10m ... at most 1h apart) while its slot is within that window, then given up (logged as an error); no message job's window passes 22:00"
    )
  })).pipe(Command.withDescription("the whole schedule, in words and cron form"))
