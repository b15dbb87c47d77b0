/**
 * How the simulated customers behave: one causal model for the whole simulation, the same in the
 * order history and in the weeks the messages run.
 *
 * - **Organic orders.** A client orders on their own, during opening hours, with a chance per half
 *   hour that depends only on how long ago they last ordered (any order, whatever brought it about):
 *   high just after an order, fading towards a low floor, so some clients lapse and some of those
 *   come back. Nothing else enters it, whether or not a message is open.
 * - **Organic accruals.** A client leaves a review (the app's `feedback` accrual) or fills in the
 *   birthday (the `profile` accrual) now and then without being asked, at a small constant rate.
 * - **Caused events.** Each kind and action adds a declared effect (`CAUSED`): with that chance the
 *   message makes its event happen at a uniform moment of its window, unless the client already did
 *   it since the message (the message has then nothing left to cause).
 *
 * So the chance that a message's window sees its event is known exactly (Truth.ts): one minus the
 * chance of no organic event, of no caused event of its own and of no caused event of the other
 * messages open at the time.
 */
import type { BuiltInKindName as KindName } from "../kinds/Kinds.ts"

export const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000
/** The simulation's step: half an hour. */
export const STEP_MS = 30 * MINUTE_MS
/** Orders and accruals happen between 10:00 and 23:00 local: 26 half hours a day. */
export const OPEN_HOUR = 10
export const CLOSE_HOUR = 23
export const OPEN_STEPS_PER_DAY = ((CLOSE_HOUR - OPEN_HOUR) * 60 * MINUTE_MS) / STEP_MS
/**
 * An event of a half hour happens at least this far into it, and a message's caused event at least
 * this long after the run that sent it: the runs of a step send within it (the simulation checks),
 * so every event comes after the messages of its step.
 */
export const EVENT_OFFSET_MS = 10 * MINUTE_MS
/** A reaction counts within 14 days of the message (C7). */
export const WINDOW_MS = 14 * DAY_MS
/** A caused event falls uniformly in [run + offset, run + offset + 13.5 days], the run being the one that sent it. */
export const CAUSED_SPAN_MS = 13.5 * DAY_MS

/** The organic order hazard, per day, at `ageDays` since the client's last order. */
const ORGANIC = { earlyPerDay: 0.1, latePerDay: 0.006, fadeDays: 25 }
export const orderHazardPerDay = (ageDays: number): number =>
  ORGANIC.latePerDay + (ORGANIC.earlyPerDay - ORGANIC.latePerDay) * Math.exp(-ageDays / ORGANIC.fadeDays)

/** The chance of an organic order in an open half hour starting `ageMs` after the last order. */
export const organicOrderChance = (ageMs: number): number => orderHazardPerDay(ageMs / DAY_MS) / OPEN_STEPS_PER_DAY

/** Reviews a client leaves unasked, and birthdays filled in unasked, per day. */
export const ORGANIC_REVIEWS_PER_DAY = 0.002
export const ORGANIC_PROFILE_FILLS_PER_DAY = 0.001
export const organicReviewChance = ORGANIC_REVIEWS_PER_DAY / OPEN_STEPS_PER_DAY
export const organicFillChance = ORGANIC_PROFILE_FILLS_PER_DAY / OPEN_STEPS_PER_DAY

/**
 * The declared causal effects: the chance that a message of a kind and performed action brings
 * about its event within the window (an order for invite and birthday, a review or a filled-in
 * birthday for feedback and profile) when the client would not have done it anyway.
 */
export const CAUSED: Readonly<Record<KindName, Readonly<Record<number, number>>>> = {
  feedback: { 1: 0.12, 2: 0.2 },
  invite: { 1: 0.12, 2: 0.2, 3: 0.06 },
  profile: { 1: 0.3 },
  birthday: { 1: 0.15, 2: 0.3 }
}

/** What answers a kind's message: two kinds share the order channel, so one order answers both. */
export type Channel = "order" | "review" | "profile"
export const CHANNEL: Readonly<Record<KindName, Channel>> = {
  feedback: "review",
  invite: "order",
  profile: "profile",
  birthday: "order"
}

/** Bonuses the app accrues for a review (per the feedback action's promise) and for the profile. */
export const REVIEW_BONUS: Readonly<Record<number, number>> = { 1: 50, 2: 100 }
export const ORGANIC_REVIEW_BONUS = 50
export const PROFILE_BONUS = 100

/** Order bonuses: the host accrues 5% of each closed order, reason `order`. */
export const ORDER_BONUS_SHARE = 0.05

/** Share of clients with a birthday on file from the start. */
export const BIRTHDAY_ON_FILE_SHARE = 0.5

/**
 * Days since the last order of a client at a random moment, drawn from the stationary
 * distribution of the organic process (density proportional to the chance of no order for that
 * long), so the history starts as if the chain had always run.
 */
export const stationaryAgeSampler = (): ((u: number) => number) => {
  const days = 3000
  const cumulative: Array<number> = []
  let survival = 1
  let total = 0
  for (let d = 0; d < days; d++) {
    total += survival
    cumulative.push(total)
    survival *= Math.exp(-orderHazardPerDay(d + 0.5))
  }
  return (u) => {
    const target = u * total
    let lo = 0
    let hi = days - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < target) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
