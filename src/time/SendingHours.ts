/**
 * The hours in which a customer may be texted: from 11:00 to 22:00 business time (C1), the hours
 * of the specification's schedule, the 22:00 slot keeping its own minute. Every path that sends
 * keeps to them: a run, a retry, a catch-up, a resend after settling, a run the host asks for at
 * any hour. A message in flight when they end completes.
 */
import { DateTime, Duration } from "effect"
import { localParts } from "./BusinessTime.ts"

export const SENDING_HOURS = { from: 11, until: 22 } as const

/** The last sending minute starts at `until`:00 and lasts this long. */
const LAST_MINUTE = Duration.minutes(1)

export interface Hours {
  readonly start: DateTime.Utc
  /** 22:00: where the day's last slot starts. */
  readonly lastMinute: DateTime.Utc
  /** 22:01: nothing is sent from here on. */
  readonly end: DateTime.Utc
}

/** The sending hours of the business day of `at`: [start, end). */
export const of = (at: DateTime.DateTime, zone: DateTime.TimeZone): Hours => {
  const { day, month, year } = localParts(at, zone)
  const hour = (hours: number) =>
    DateTime.toUtc(DateTime.unsafeMakeZoned({ year, month, day, hours }, { timeZone: zone, adjustForTimeZone: true }))
  const lastMinute = hour(SENDING_HOURS.until)
  return { start: hour(SENDING_HOURS.from), lastMinute, end: DateTime.addDuration(lastMinute, LAST_MINUTE) }
}

/** Whether a text may go out at `at`. */
export const within = (at: DateTime.DateTime, zone: DateTime.TimeZone): boolean => {
  const { end, start } = of(at, zone)
  return !DateTime.lessThan(at, start) && DateTime.lessThan(at, end)
}

/** The hours in words, for logs and messages. */
export const WORDS = `${SENDING_HOURS.from}:00 to ${SENDING_HOURS.until}:00 business time`
