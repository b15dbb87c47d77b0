/**
 * `pronto-notify schedule`: the whole schedule, in words and cron form, with each job's next slot.
 */
import { Command } from "@effect/cli"
import { Console, DateTime, Duration, Effect } from "effect"
import { nextSlot, SCHEDULE } from "../scheduling/Schedule.ts"
import { businessTimeZone } from "./Common.ts"

/** Rows as columns, each as wide as its widest cell and two spaces more: no cell runs into the next. */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)) + 2)
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join(""))
}

export const command = Command.make("schedule", {}, () =>
  Effect.gen(function*() {
    const zone = yield* businessTimeZone
    const now = yield* DateTime.now
    yield* Console.log(`the schedule, in the business time zone ${zone.name} (fixed: it changes only with a release)`)
    const rows = [
      ["job", "when", "cron", "a missed slot still runs", "next"],
      ...SCHEDULE.map((e) => [
        e.job,
        e.words,
        e.cron,
        e.catchUpWords,
        DateTime.formatIsoZoned(DateTime.setZone(nextSlot(e, now, zone.zone), zone.zone))
      ])
    ]
    for (const line of table(rows)) yield* Console.log(line)
    yield* Console.log(
      `a process that was down runs each job once, for its latest slot, if it is back within that window (${
        SCHEDULE.map((e) => `${e.job} ${Duration.format(e.catchUp)}`).join(", ")
      }); it never replays every missed slot`
    )
    yield* Console.log(
      "a run that fails or leaves sends failed is tried again after 10s, 20s, 40s ... (at most 5m apart; after a circuit-breaker stop 5m, 10m ... at most 1h apart) while its slot is within that window, then given up (logged as an error); no message job's window passes 22:00"
    )
  })).pipe(Command.withDescription("the whole schedule, in words and cron form"))
