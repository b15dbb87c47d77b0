import { describe, expect, it } from "@effect/vitest"
import { DateTime, Option } from "effect"
import { due, entryOf, JOB_NAMES, latestSlot, nextSlot, SCHEDULE, slotToRun, windowEnd } from "../src/scheduling/Schedule.ts"

const MOSCOW = DateTime.zoneUnsafeMakeNamed("Europe/Moscow")
const at = (iso: string) => DateTime.unsafeMake(iso)
const iso = (d: DateTime.DateTime) => DateTime.formatIso(d)
/** Moscow is UTC+3 all year: "2026-03-10 11:00" local is 08:00Z. */
const msk = (local: string) => at(`${local}:00+03:00`)

describe("the schedule (business time zone Europe/Moscow, process in America/Los_Angeles)", () => {
  it("runs in a process whose own zone is not the business zone", () => {
    expect(process.env.TZ).toBe("America/Los_Angeles")
    expect(new Date("2026-03-10T08:00:00Z").getHours()).not.toBe(11)
  })

  it("has one entry per job, and nothing can change it (C12)", () => {
    expect(SCHEDULE.map((e) => e.job)).toEqual([...JOB_NAMES])
    expect(Object.isFrozen(SCHEDULE)).toBe(true)
    expect(SCHEDULE.every(Object.isFrozen)).toBe(true)
    expect(() => (SCHEDULE as Array<unknown>).push({})).toThrow(TypeError)
    expect(() => {
      ;(SCHEDULE[0] as { cron: string }).cron = "* * * * *"
    }).toThrow(TypeError)
    expect(entryOf("feedback").cron).toBe("0 11-22 * * *")
  })

  it("feedback: every hour from 11:00 to 22:00, not at 10:00, 23:00 or 11:30", () => {
    for (let hour = 11; hour <= 22; hour++) {
      expect(due(msk(`2026-03-10T${String(hour).padStart(2, "0")}:00`), MOSCOW)).toContain("feedback")
    }
    for (const local of ["2026-03-10T10:00", "2026-03-10T23:00", "2026-03-10T11:30", "2026-03-10T00:00", "2026-03-10T10:59"]) {
      expect(due(msk(local), MOSCOW)).not.toContain("feedback")
    }
  })

  it("invite daily at 12:00, birthday daily at 13:00, reactions daily at 04:00", () => {
    expect(due(msk("2026-03-10T12:00"), MOSCOW)).toEqual(["feedback", "invite"])
    expect(due(msk("2026-03-10T13:00"), MOSCOW)).toEqual(["feedback", "birthday"])
    expect(due(msk("2026-03-10T04:00"), MOSCOW)).toEqual(["reactions"])
    expect(due(msk("2026-03-10T12:01"), MOSCOW)).toEqual([])
    expect(due(msk("2026-03-10T13:30"), MOSCOW)).toEqual([])
    expect(due(msk("2026-03-10T05:00"), MOSCOW)).toEqual([])
  })

  it("profile only on the 1st at 12:30: not on the 2nd, not at 12:00 on the 1st", () => {
    expect(due(msk("2026-04-01T12:30"), MOSCOW)).toEqual(["profile"])
    expect(due(msk("2026-04-02T12:30"), MOSCOW)).toEqual([])
    expect(due(msk("2026-04-01T12:00"), MOSCOW)).toEqual(["feedback", "invite"])
    expect(due(msk("2026-03-31T12:30"), MOSCOW)).toEqual([])
  })

  it("the reaction job never shares a time with a message job", () => {
    const messageHours = new Set<number>()
    for (let hour = 0; hour < 24; hour++) {
      for (const minute of [0, 30]) {
        const jobs = due(msk(`2026-04-01T${String(hour).padStart(2, "0")}:${minute === 0 ? "00" : "30"}`), MOSCOW)
        if (jobs.includes("reactions")) expect(jobs).toEqual(["reactions"])
        if (jobs.some((j) => j !== "reactions")) messageHours.add(hour)
      }
    }
    expect([...messageHours].sort((a, b) => a - b)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22])
  })

  it("matches the whole minute: a planner waking 40 seconds late still gets the jobs", () => {
    expect(due(at("2026-03-10T09:00:40.500Z"), MOSCOW)).toEqual(["feedback", "invite"])
    expect(due(at("2026-03-10T08:59:59.999Z"), MOSCOW)).toEqual([])
  })

  it("is read in the business zone across a day boundary: 2026-03-09T21:30Z is 00:30 on the 10th in Moscow", () => {
    // 21:00Z is midnight in Moscow; 19:00Z is 22:00 there (the last feedback), 20:00Z is 23:00 (none).
    expect(due(at("2026-03-09T19:00:00Z"), MOSCOW)).toEqual(["feedback"])
    expect(due(at("2026-03-09T20:00:00Z"), MOSCOW)).toEqual([])
    expect(due(at("2026-03-10T01:00:00Z"), MOSCOW)).toEqual(["reactions"])
    expect(iso(nextSlot(entryOf("feedback"), at("2026-03-09T21:30:00Z"), MOSCOW))).toBe("2026-03-10T08:00:00.000Z")
  })

  it("is read in the business zone across a month boundary: 2026-03-31T21:30Z is 1 April 00:30 in Moscow", () => {
    const aprilFirst = at("2026-03-31T21:30:00Z")
    expect(iso(nextSlot(entryOf("profile"), aprilFirst, MOSCOW))).toBe("2026-04-01T09:30:00.000Z")
    // Still 31 March in UTC and in Los Angeles, yet the 1st in Moscow: profile is due at 12:30 there.
    expect(due(at("2026-04-01T09:30:00Z"), MOSCOW)).toEqual(["profile"])
    // 31 March 21:30 in Moscow is 18:30Z: the 1st in no zone that matters, so no profile.
    expect(due(at("2026-03-31T09:30:00Z"), MOSCOW)).toEqual([])
    // From 1 April 13:00 Moscow the next profile is 1 May.
    expect(iso(nextSlot(entryOf("profile"), at("2026-04-01T10:00:00Z"), MOSCOW))).toBe("2026-05-01T09:30:00.000Z")
  })

  it("follows a different business zone when the deployment names one", () => {
    const vladivostok = DateTime.zoneUnsafeMakeNamed("Asia/Vladivostok") // UTC+10
    expect(due(at("2026-03-10T01:00:00Z"), vladivostok)).toEqual(["feedback"])
  })
})

describe("slots and the missed-slot policy", () => {
  it("a slot is the latest scheduled instant at or before the moment", () => {
    const feedback = entryOf("feedback")
    expect(iso(latestSlot(feedback, msk("2026-03-10T11:00"), MOSCOW))).toBe("2026-03-10T08:00:00.000Z")
    expect(iso(latestSlot(feedback, at("2026-03-10T08:59:59.999Z"), MOSCOW))).toBe("2026-03-10T08:00:00.000Z")
    expect(iso(latestSlot(feedback, msk("2026-03-10T10:30"), MOSCOW))).toBe("2026-03-09T19:00:00.000Z")
    expect(iso(latestSlot(entryOf("profile"), msk("2026-03-20T12:00"), MOSCOW))).toBe("2026-03-01T09:30:00.000Z")
  })

  it("feedback missed by less than an hour runs for that slot; missed by an hour, only the next slot runs", () => {
    const feedback = entryOf("feedback")
    // Down from 10:50 to 11:40: the 11:00 slot runs at 11:40.
    expect(slotToRun(feedback, msk("2026-03-10T11:40"), MOSCOW).pipe(Option.map(iso))).toEqual(
      Option.some("2026-03-10T08:00:00.000Z")
    )
    // Down from 10:50 to 14:10: 11:00, 12:00 and 13:00 are not replayed; 14:00 runs.
    expect(slotToRun(feedback, msk("2026-03-10T14:10"), MOSCOW).pipe(Option.map(iso))).toEqual(
      Option.some("2026-03-10T11:00:00.000Z")
    )
    // Back at 23:30: the 22:00 slot is past its hour; nothing runs at night (11:00 looks back 24 h).
    expect(slotToRun(feedback, msk("2026-03-10T23:30"), MOSCOW)).toEqual(Option.none())
    expect(slotToRun(feedback, msk("2026-03-11T09:00"), MOSCOW)).toEqual(Option.none())
    // The 22:00 slot keeps only its own minute: no message after it, however late the process is back.
    expect(slotToRun(feedback, at("2026-03-10T19:00:59.999Z"), MOSCOW).pipe(Option.map(iso))).toEqual(
      Option.some("2026-03-10T19:00:00.000Z")
    )
    expect(slotToRun(feedback, at("2026-03-10T19:01:00Z"), MOSCOW)).toEqual(Option.none())
    expect(slotToRun(feedback, at("2026-03-10T19:59:59Z"), MOSCOW)).toEqual(Option.none())
    // The 21:00 slot's hour ends at 22:00, as every other slot's.
    expect(slotToRun(feedback, at("2026-03-10T18:59:59.999Z"), MOSCOW).pipe(Option.map(iso))).toEqual(
      Option.some("2026-03-10T18:00:00.000Z")
    )
  })

  it("a message job's window never passes 22:00 business time; the reaction job sends nothing and is not bound", () => {
    const ends = (job: string, slot: string) => iso(windowEnd(entryOf(job), msk(slot), MOSCOW))
    expect(ends("feedback", "2026-03-10T11:00")).toBe(iso(msk("2026-03-10T12:00")))
    expect(ends("feedback", "2026-03-10T21:00")).toBe(iso(msk("2026-03-10T22:00")))
    expect(ends("feedback", "2026-03-10T22:00")).toBe(iso(msk("2026-03-10T22:01")))
    expect(ends("invite", "2026-03-10T12:00")).toBe(iso(msk("2026-03-10T22:00")))
    expect(ends("profile", "2026-04-01T12:30")).toBe(iso(msk("2026-04-01T22:00")))
    expect(ends("birthday", "2026-03-10T13:00")).toBe(iso(msk("2026-03-10T22:00")))
    expect(ends("reactions", "2026-03-10T04:00")).toBe(iso(msk("2026-03-11T04:00")))
    expect(SCHEDULE.map((e) => [e.job, e.sends])).toEqual([
      ["feedback", true],
      ["invite", true],
      ["profile", true],
      ["birthday", true],
      ["reactions", false]
    ])
  })

  it("invite missed at 12:00 runs later the same day until 22:00, and a day late it waits for the next 12:00", () => {
    const invite = entryOf("invite")
    expect(slotToRun(invite, at("2026-03-10T18:59:59.999Z"), MOSCOW).pipe(Option.map(iso))).toEqual(
      Option.some("2026-03-10T09:00:00.000Z")
    )
    expect(slotToRun(invite, msk("2026-03-10T22:00"), MOSCOW)).toEqual(Option.none())
    // Back the next morning: yesterday's slot is not replayed at 08:00; today's 12:00 does the work.
    expect(slotToRun(invite, msk("2026-03-11T08:00"), MOSCOW)).toEqual(Option.none())
    expect(slotToRun(invite, msk("2026-03-11T12:05"), MOSCOW).pipe(Option.map(iso))).toEqual(
      Option.some("2026-03-11T09:00:00.000Z")
    )
  })

  it("birthday catches up until 22:00; profile only on the same 1st", () => {
    expect(slotToRun(entryOf("birthday"), msk("2026-03-10T21:30"), MOSCOW).pipe(Option.map(iso))).toEqual(Option.some(iso(msk("2026-03-10T13:00"))))
    expect(slotToRun(entryOf("birthday"), msk("2026-03-10T22:00"), MOSCOW)).toEqual(Option.none())
    const profile = entryOf("profile")
    expect(slotToRun(profile, msk("2026-04-01T21:59"), MOSCOW).pipe(Option.map(iso))).toEqual(Option.some(iso(msk("2026-04-01T12:30"))))
    expect(slotToRun(profile, msk("2026-04-01T22:00"), MOSCOW)).toEqual(Option.none())
    expect(slotToRun(profile, msk("2026-04-02T12:30"), MOSCOW)).toEqual(Option.none())
  })

  it("reactions always catch up their latest slot", () => {
    const reactions = entryOf("reactions")
    expect(slotToRun(reactions, msk("2026-03-10T03:59"), MOSCOW).pipe(Option.map(iso))).toEqual(Option.some(iso(msk("2026-03-09T04:00"))))
    expect(slotToRun(reactions, msk("2026-03-10T04:00"), MOSCOW).pipe(Option.map(iso))).toEqual(Option.some(iso(msk("2026-03-10T04:00"))))
  })
})
