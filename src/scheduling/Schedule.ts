/**
 * When each job runs: one entry per kind (its `schedule`, from the kind's definition) and the
 * reaction job's, each a cron in the business time zone (C1). No option, setting or argument can
 * change it (C12). The host's own planner asks `due(at)`; the Effect Cluster layer (`ClusterJobs`)
 * and `pronto-notify serve` register one cron per entry.
 *
 * Missed slots: a process that was down at a scheduled time runs a job, when it comes back, only
 * for the job's latest slot, and only within that slot's catch-up window; it never replays every
 * missed slot. A message job's window also ends with its sending hours, 22:00 business time (the
 * 22:00 slot keeps its own minute), and a run of its slot stops taking candidates there, so that no
 * catch-up or retry ever texts a customer at an hour the specification would not.
 */
import { Cron, DateTime, Duration, Option } from "effect"
import * as SendingHours from "../time/SendingHours.ts"
import type { Timing } from "../kinds/Kind.ts"
import { BUILT_IN, type Registry } from "../kinds/Kinds.ts"

/** The job that decides reactions (C7); every other job is a kind's. */
export const REACTIONS_JOB = "reactions"

/** A job's name: a kind's, or `reactions`. */
export type JobName = string

export interface ScheduleEntry extends Timing {
  readonly job: JobName
  /** Whether the job texts customers (a kind's), so that its runs keep to the sending hours. */
  readonly sends: boolean
}


/**
 * Why the reaction job runs at 04:00: it sends nothing, so the night suits it; it is clear of every
 * message job (11:00 to 22:00), so it never competes with them for the database; and it decides,
 * once a day, every notification whose 14-day window (C7) closed since the day before, with the
 * whole previous day's orders and accruals already in.
 */
const reactionsTiming: Timing = {
  cron: "0 4 * * *",
  words: "every day at 04:00",
  // It sends nothing and decides by state (C7), so any time of day will do.
  catchUp: Duration.hours(24),
  catchUpWords: "at any time until the next slot"
}

/** The schedule of a registry's kinds, in their order, then the reaction job. */
export const scheduleOf = (kinds: Pick<Registry, "kinds">): ReadonlyArray<ScheduleEntry> =>
  Object.freeze([
    ...kinds.kinds.map((kind) => Object.freeze({ job: kind.name, sends: true, ...kind.schedule })),
    Object.freeze({ job: REACTIONS_JOB, sends: false, ...reactionsTiming })
  ])

/** The schedule of the built-in kinds, the only one a deployment has. */
export const SCHEDULE: ReadonlyArray<ScheduleEntry> = scheduleOf({ kinds: BUILT_IN })

export const JOB_NAMES: ReadonlyArray<JobName> = SCHEDULE.map((e) => e.job)

/** A job's entry; for names known to be in the schedule (an unknown one is a bug). */
export const entryOf = (job: JobName, schedule: ReadonlyArray<ScheduleEntry> = SCHEDULE): ScheduleEntry => {
  const entry = schedule.find((e) => e.job === job)
  if (entry === undefined) throw new Error(`no job "${job}" in the schedule: ${schedule.map((e) => e.job).join(", ")}`)
  return entry
}

/** The entry's cron in the business time zone. The expressions are constants, checked by the tests. */
export const cronOf = (e: Timing, zone: DateTime.TimeZone): Cron.Cron => Cron.unsafeParse(e.cron, zone)

const startOfMinute = (at: DateTime.DateTime): DateTime.Utc => {
  const ms = DateTime.toEpochMillis(at)
  return DateTime.unsafeMake(ms - (((ms % 60_000) + 60_000) % 60_000))
}

/**
 * The jobs due at an instant, in schedule order: those with a slot in that instant's minute (a
 * planner that wakes a few seconds late still gets them). For a host's own planner, once a minute.
 */
export const due = (
  at: DateTime.DateTime,
  zone: DateTime.TimeZone,
  schedule: ReadonlyArray<ScheduleEntry> = SCHEDULE
): ReadonlyArray<JobName> => {
  const minute = DateTime.toDate(startOfMinute(at))
  return schedule.filter((e) => Cron.match(cronOf(e, zone), minute)).map((e) => e.job)
}

/** The slot an instant belongs to for a job: its latest scheduled instant at or before `at`. */
export const latestSlot = (e: Timing, at: DateTime.DateTime, zone: DateTime.TimeZone): DateTime.Utc =>
  // prev() is strictly before its start, and works in whole seconds.
  DateTime.unsafeMake(Cron.prev(cronOf(e, zone), DateTime.toEpochMillis(at) + 1000))

/** The next scheduled instant strictly after `at`. */
export const nextSlot = (e: Timing, at: DateTime.DateTime, zone: DateTime.TimeZone): DateTime.Utc =>
  DateTime.unsafeMake(Cron.next(cronOf(e, zone), DateTime.toEpochMillis(at)))

/**
 * When a slot's window closes: its catch-up window's end, and for a message job no later than the
 * end of the slot's sending day (22:00 business time; the 22:00 slot keeps its own minute). A run of
 * the slot stops taking candidates there, and a retry is due only before it.
 */
export const windowEnd = (e: ScheduleEntry, slot: DateTime.Utc, zone: DateTime.TimeZone): DateTime.Utc => {
  const catchUpEnd = DateTime.addDuration(slot, e.catchUp)
  if (!e.sends) return catchUpEnd
  // A slot of 22:00 keeps its own minute; an earlier slot's retries end at 22:00.
  const sendingEnd = DateTime.max(SendingHours.of(slot, zone).lastMinute, DateTime.addDuration(slot, Duration.minutes(1)))
  return DateTime.min(catchUpEnd, sendingEnd)
}

/**
 * The slot a run at `at` should do under the missed-slot policy: the latest slot, if `at` is still
 * within its window (`windowEnd`); none otherwise.
 */
export const slotToRun = (e: ScheduleEntry, at: DateTime.DateTime, zone: DateTime.TimeZone): Option.Option<DateTime.Utc> => {
  const slot = latestSlot(e, at, zone)
  return DateTime.lessThan(at, windowEnd(e, slot, zone)) ? Option.some(slot) : Option.none()
}
