/**
 * When each job runs: the schedule of SPEC as data, one entry per job, with its cron expression in
 * the business time zone (C1). It is a frozen constant: no option, setting or argument anywhere can
 * change it (C12). The host's own planner asks `due(at)`; the Effect Cluster layer (`ClusterJobs`)
 * and `pronto-notify serve` register one cron per entry.
 *
 * Missed slots: a process that was down at a scheduled time runs a job, when it comes back, only
 * for the job's latest slot, and only within that slot's catch-up window; it never replays every
 * missed slot. The windows end by 23:00 so that a late start never texts customers at night.
 */
import { Cron, DateTime, Duration, Option } from "effect"

export const JOB_NAMES = ["feedback", "invite", "profile", "birthday", "reactions"] as const
export type JobName = typeof JOB_NAMES[number]

export interface ScheduleEntry {
  readonly job: JobName
  /** Five fields (minute hour day-of-month month day-of-week), read in the business time zone. */
  readonly cron: string
  /** The same, in words. */
  readonly words: string
  /**
   * How long after a slot a process that missed it (down, restarting) still runs it. Past the
   * window the slot is skipped and the next one does the work.
   */
  readonly catchUp: Duration.Duration
  readonly catchUpWords: string
}

const entry = (e: ScheduleEntry): ScheduleEntry => Object.freeze(e)

/**
 * The schedule, the only one. Why the reaction job runs at 04:00: it sends nothing, so the night
 * suits it; it is clear of every message job (11:00 to 22:00), so it never competes with them for
 * the database; and it decides, once a day, every notification whose 14-day window (C7) closed since
 * the day before, with the whole previous day's orders and accruals already in.
 */
export const SCHEDULE: ReadonlyArray<ScheduleEntry> = Object.freeze([
  entry({
    job: "feedback",
    cron: "0 11-22 * * *",
    words: "every hour from 11:00 to 22:00",
    // Shorter than the step to the next slot; the 24-hour look-back (C3) covers a skipped hour.
    catchUp: Duration.hours(1),
    catchUpWords: "within the hour"
  }),
  entry({
    job: "invite",
    cron: "0 12 * * *",
    words: "every day at 12:00",
    // Until 22:00 the same day: the bands select by state, so tomorrow's run finds the rest.
    catchUp: Duration.hours(10),
    catchUpWords: "until 22:00 the same day"
  }),
  entry({
    job: "profile",
    cron: "30 12 1 * *",
    words: "on the 1st of every month at 12:30",
    catchUp: Duration.sum(Duration.hours(9), Duration.minutes(30)),
    catchUpWords: "until 22:00 on the same 1st"
  }),
  entry({
    job: "birthday",
    cron: "0 13 * * *",
    words: "every day at 13:00",
    // The 0-to-14-day window (C6) lets tomorrow's run greet whoever today's would have.
    catchUp: Duration.hours(9),
    catchUpWords: "until 22:00 the same day"
  }),
  entry({
    job: "reactions",
    cron: "0 4 * * *",
    words: "every day at 04:00",
    // It sends nothing and decides by state (C7), so any time of day will do.
    catchUp: Duration.hours(24),
    catchUpWords: "at any time until the next slot"
  })
])

export const entryOf = (job: JobName): ScheduleEntry => SCHEDULE.find((e) => e.job === job)!

/** The entry's cron in the business time zone. The expressions are constants, checked by the tests. */
export const cronOf = (e: ScheduleEntry, zone: DateTime.TimeZone): Cron.Cron => Cron.unsafeParse(e.cron, zone)

const startOfMinute = (at: DateTime.DateTime): DateTime.Utc => {
  const ms = DateTime.toEpochMillis(at)
  return DateTime.unsafeMake(ms - (((ms % 60_000) + 60_000) % 60_000))
}

/**
 * The jobs due at an instant, in schedule order: those with a slot in that instant's minute (a
 * planner that wakes a few seconds late still gets them). For a host's own planner, once a minute.
 */
export const due = (at: DateTime.DateTime, zone: DateTime.TimeZone): ReadonlyArray<JobName> => {
  const minute = DateTime.toDate(startOfMinute(at))
  return SCHEDULE.filter((e) => Cron.match(cronOf(e, zone), minute)).map((e) => e.job)
}

/** The slot an instant belongs to for a job: its latest scheduled instant at or before `at`. */
export const latestSlot = (e: ScheduleEntry, at: DateTime.DateTime, zone: DateTime.TimeZone): DateTime.Utc =>
  // prev() is strictly before its start, and works in whole seconds.
  DateTime.unsafeMake(Cron.prev(cronOf(e, zone), DateTime.toEpochMillis(at) + 1000))

/** The next scheduled instant strictly after `at`. */
export const nextSlot = (e: ScheduleEntry, at: DateTime.DateTime, zone: DateTime.TimeZone): DateTime.Utc =>
  DateTime.unsafeMake(Cron.next(cronOf(e, zone), DateTime.toEpochMillis(at)))

/**
 * The slot a run at `at` should do under the missed-slot policy: the latest slot, if `at` is still
 * within its catch-up window; none otherwise.
 */
export const slotToRun = (e: ScheduleEntry, at: DateTime.DateTime, zone: DateTime.TimeZone): Option.Option<DateTime.Utc> => {
  const slot = latestSlot(e, at, zone)
  return DateTime.toEpochMillis(at) < DateTime.toEpochMillis(slot) + Duration.toMillis(e.catchUp)
    ? Option.some(slot)
    : Option.none()
}
