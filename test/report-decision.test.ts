/**
 * The report's decision, trend and pace against PostgreSQL: notifications written directly, then
 * the always-valid comparison, the client-clustered figures (set against a computation one client
 * at a time, here), the weekly series (by business-zone weeks) and the last four weeks' pace
 * checked as `Report.compute` returns them and as the JSON and the text carry them.
 */
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect } from "effect"
import * as Report from "../src/report/Report.ts"
import { wilson } from "../src/report/Statistics.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

interface Message {
  readonly kind?: string
  readonly action: number
  readonly clientId: number
  readonly sentAt: string
  readonly reaction: "reacted" | "none" | "pending"
  readonly status?: "sent" | "in_doubt"
}

let triggers = 0

/** Writes the messages in one statement. */
const insert = (messages: ReadonlyArray<Message>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO pronto_notify.notifications ${
      sql.insert(messages.map((m) => {
        const status = m.status ?? "sent"
        const kind = m.kind ?? "feedback"
        return {
          kind,
          action_set: kind,
          trigger_key: `t${++triggers}`,
          client_id: m.clientId,
          phone: "89160000001",
          chosen_action: m.action,
          performed_action: m.action,
          text: "text",
          status,
          attempted_at: new Date(m.sentAt),
          sent_at: status === "sent" ? new Date(m.sentAt) : null,
          reaction: m.reaction,
          reacted_at: m.reaction === "reacted" ? new Date(Date.parse(m.sentAt) + 3600_000) : null
        }
      }))
    }`)

/** `reacted` and `none` messages of an action, each to a client of its own from `firstClient` on. */
const ownClients = (action: number, reacted: number, none: number, firstClient: number, sentAt = SENT): ReadonlyArray<Message> =>
  Array.from({ length: reacted + none }, (_, i) => ({
    action,
    clientId: firstClient + i,
    sentAt,
    reaction: i < reacted ? "reacted" : "none"
  }))

const SENT = "2026-03-10T09:00:00Z"
const group = (data: Report.ReportData, kind: string) => data.groups.find((g) => g.kind === kind && g.band === null)!
const closeTo = (actual: number | null | undefined, expected: number, digits = 10) => expect(actual).toBeCloseTo(expected, digits)

layer(Harness.layer, { timeout: "120 seconds" })("report: the decision", (it) => {
  it.effect("the always-valid test of two actions: undecided at 12% against 16% of 1 000 each, decided at 10% against 20%", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insert([...ownClients(1, 120, 880, 1), ...ownClients(2, 160, 840, 1001)])
      const data = yield* Report.compute()
      const d = group(data, "feedback").decision
      const pair = d.pairs[0]!
      // The worked example of test/statistics-decision.test.ts: Λ = 6.1955, p = 1/Λ.
      expect(pair).toMatchObject({ actions: [1, 2], outcome: "undecided" })
      closeTo(pair.difference, 0.04)
      closeTo(pair.alwaysValid!.pValue, 0.16140712286065734, 9)
      closeTo(pair.designEffect, 1)
      expect(d.outcome).toBe("undecided")
      expect(d.actions.map((a) => [a.action, a.decided, a.effectiveDecided])).toEqual([[1, 1000, 1000], [2, 1000, 1000]])
      // The fixed-sample chi-square stays, and would have named a winner (p = 0.0098).
      expect(group(data, "feedback").comparison.outcome).toBe("significant")

      const json = Report.toJson(data).groups.find((g) => g.kind === "feedback")!
      expect(JSON.parse(JSON.stringify(json))).toEqual(json)
      expect(json.comparison.outcome).toBe("significant")
      expect(json.decision).toMatchObject({ outcome: "undecided", detectable: 0.03, power: 0.8, windowDays: 14 })
      expect(json.decision.method).toContain("mixture sequential probability ratio test")
      closeTo(json.decision.pairs[0]!.alwaysValid!.pValue, 0.16140712286065734, 9)
      expect(json.decision.pairs[0]!.alwaysValid!.low).toBeLessThan(0)
      expect(json.decision.pairs[0]!.fixedSample!.low).toBeGreaterThan(0)
      expect(json.decision.pairs[0]!.neededInWords).toMatch(/^Actions 1 and 2: to tell a difference of 3 points with 80% power: /)
      const text = Report.renderText(data)
      expect(text).toContain(
        "The data cannot tell yet whether the actions differ (action 1 12.0%, action 2 16.0%; always-valid p = 0.161)."
      )
      expect(text).toContain("Fixed-sample chi-square test, for reference (valid only when the report is read once")
      expect(text).not.toContain("gets reactions more often")

      // 100 more reactions to action 2 (20%), as many fewer none: told apart, every way of reading it.
      yield* truncateAll
      yield* insert([...ownClients(1, 100, 900, 1), ...ownClients(2, 200, 800, 1001)])
      const decided = group(yield* Report.compute(), "feedback").decision
      expect(decided.outcome).toBe("different")
      expect(decided.pairs[0]!.alwaysValid!.pValue).toBeLessThan(1e-6)
      expect(decided.pairs[0]!.needed).toBeNull()
      expect(decided.verdict).toMatch(/^Action 2 gets reactions more often than action 1: 20\.0% against 10\.0%, \+10\.0 pp /)
    }))

  it.effect("clients with several messages answer alike: each client counted once, as computed one client at a time", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // [reacted, none] of action 1 and of action 2, per client: five who answer all their messages alike,
      // then thirty with one message each.
      const designed: Array<{ readonly id: number; readonly a: readonly [number, number]; readonly b: readonly [number, number] }> = [
        { id: 1, a: [3, 0], b: [2, 0] },
        { id: 2, a: [4, 0], b: [0, 3] },
        { id: 3, a: [0, 3], b: [0, 4] },
        { id: 4, a: [0, 2], b: [3, 0] },
        { id: 5, a: [1, 1], b: [1, 1] },
        ...Array.from({ length: 30 }, (_, i) => ({
          id: 6 + i,
          a: (i % 2 === 0 ? (i % 4 === 0 ? [1, 0] : [0, 1]) : [0, 0]) as readonly [number, number],
          b: (i % 2 === 1 ? (i % 4 === 1 ? [1, 0] : [0, 1]) : [0, 0]) as readonly [number, number]
        }))
      ]
      const messages = designed.flatMap((c) =>
        ([[1, c.a], [2, c.b]] as const).flatMap(([action, [reacted, none]]) => [
          ...Array.from({ length: reacted }, (): Message => ({ action, clientId: c.id, sentAt: SENT, reaction: "reacted" })),
          ...Array.from({ length: none }, (): Message => ({ action, clientId: c.id, sentAt: SENT, reaction: "none" }))
        ])
      )
      yield* insert([
        ...messages,
        // Not counted in the sums: pending, in doubt, before the period, another kind.
        { action: 1, clientId: 1, sentAt: SENT, reaction: "pending" },
        { action: 2, clientId: 3, sentAt: SENT, reaction: "none", status: "in_doubt" },
        { action: 1, clientId: 2, sentAt: "2026-02-01T09:00:00Z", reaction: "none" },
        { kind: "birthday", action: 1, clientId: 1, sentAt: SENT, reaction: "none" }
      ])
      const data = yield* Report.compute({ from: DateTime.unsafeMake("2026-03-01T00:00:00Z") })
      const d = group(data, "feedback").decision

      // One client at a time: u = reacted − rate × decided, for each action.
      const sum = (f: (c: (typeof designed)[number]) => number) => designed.reduce((s, c) => s + f(c), 0)
      const [na, nb] = [sum((c) => c.a[0] + c.a[1]), sum((c) => c.b[0] + c.b[1])]
      const [pa, pb] = [sum((c) => c.a[0]) / na, sum((c) => c.b[0]) / nb]
      const squaresA = sum((c) => (c.a[0] - pa * (c.a[0] + c.a[1])) ** 2)
      const squaresB = sum((c) => (c.b[0] - pb * (c.b[0] + c.b[1])) ** 2)
      const independent = (pa * (1 - pa)) / na + (pb * (1 - pb)) / nb
      const clustered = squaresA / na ** 2 + squaresB / nb ** 2
      expect(squaresA / na ** 2).toBeGreaterThan((pa * (1 - pa)) / na)
      expect(squaresB / nb ** 2).toBeGreaterThan((pb * (1 - pb)) / nb)

      expect(d.actions.map((a) => [a.action, a.decided])).toEqual([[1, na], [2, nb]])
      closeTo(d.actions[0]!.effectiveDecided, (pa * (1 - pa) * na * na) / squaresA, 9)
      closeTo(d.actions[1]!.effectiveDecided, (pb * (1 - pb) * nb * nb) / squaresB, 9)
      const pair = d.pairs[0]!
      closeTo(pair.difference, pb - pa, 12)
      closeTo(pair.designEffect, clustered / independent, 9)
      const half = (pair.fixedSample!.interval.high - pair.fixedSample!.interval.low) / 2
      closeTo(half, 1.959963984540054 * Math.sqrt(clustered), 9)
      closeTo(pair.alwaysValid!.pValue, Math.min(1, Math.sqrt((clustered + 0.0025) / clustered) *
        Math.exp((-0.0025 * (pb - pa) ** 2) / (2 * clustered * (clustered + 0.0025)))), 9)
      // The rate's interval is Wilson's at the same effective count.
      const a1 = group(data, "feedback").actions[0]!
      const atEffective = wilson(pa * d.actions[0]!.effectiveDecided, d.actions[0]!.effectiveDecided)!
      closeTo(a1.interval!.low, atEffective.low, 9)
      closeTo(a1.interval!.high, atEffective.high, 9)
      // The text and the JSON show the effective count beside each action.
      expect(Report.renderText(data)).toMatch(
        new RegExp(`\\n1\\s+${na + 1}\\s+\\d+\\s+\\d+\\s+1\\s+\\S+\\s+\\S+ \\.\\. \\S+\\s+${Math.round(d.actions[0]!.effectiveDecided)}\\s`)
      )
      expect(Report.toJson(data).groups.find((g) => g.kind === "feedback")!.decision.actions[0]).toMatchObject({ decided: na })
    }))

  it.effect("the trend: each action's rate per business-zone week, empty weeks kept, pending counted apart", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insert([
        // Sunday 8 March 23:30 in Moscow: the week of 2 March.
        { action: 1, clientId: 1, sentAt: "2026-03-08T20:30:00Z", reaction: "reacted" },
        { action: 1, clientId: 2, sentAt: "2026-03-02T09:00:00Z", reaction: "none" },
        { action: 2, clientId: 3, sentAt: "2026-03-03T09:00:00Z", reaction: "none" },
        // Monday 9 March 01:30 in Moscow (Sunday in UTC): the week of 9 March.
        { action: 1, clientId: 4, sentAt: "2026-03-08T22:30:00Z", reaction: "reacted" },
        // Nothing in the week of 16 March; the week of 23 March with one pending.
        { action: 2, clientId: 5, sentAt: "2026-03-24T09:00:00Z", reaction: "reacted" },
        { action: 2, clientId: 6, sentAt: "2026-03-25T09:00:00Z", reaction: "pending" },
        // Not counted: in doubt, and after the period.
        { action: 2, clientId: 7, sentAt: "2026-03-24T09:00:00Z", reaction: "none", status: "in_doubt" },
        { action: 1, clientId: 8, sentAt: "2026-04-10T09:00:00Z", reaction: "reacted" }
      ])
      const data = yield* Report.compute({ to: DateTime.unsafeMake("2026-04-01T00:00:00Z") })
      const trend = group(data, "feedback").trend
      expect(trend.weeks).toEqual(["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"])
      const series = (action: number) =>
        trend.actions.find((a) => a.action === action)!.points.map((p) => [p.week, p.sent, p.reacted, p.none, p.pending, p.rate])
      expect(series(1)).toEqual([
        ["2026-03-02", 2, 1, 1, 0, 0.5],
        ["2026-03-09", 1, 1, 0, 0, 1],
        ["2026-03-16", 0, 0, 0, 0, null],
        ["2026-03-23", 0, 0, 0, 0, null]
      ])
      expect(series(2)).toEqual([
        ["2026-03-02", 1, 0, 1, 0, 0],
        ["2026-03-09", 0, 0, 0, 0, null],
        ["2026-03-16", 0, 0, 0, 0, null],
        ["2026-03-23", 2, 1, 0, 1, 1]
      ])
      expect(trend.actions[0]!.points[0]!.interval).toEqual({ low: expect.closeTo(0.09453, 4), high: expect.closeTo(0.90547, 4) })
      // A group without messages has no weeks; the JSON carries the same series.
      expect(group(data, "profile").trend).toEqual({ weeks: [], actions: [{ action: 1, points: [] }] })
      const json = Report.toJson(data).groups.find((g) => g.kind === "feedback")!.trend
      expect(json.weeks).toEqual(trend.weeks)
      expect(json.actions[1]!.points[3]).toMatchObject({ week: "2026-03-23", sent: 2, reacted: 1, pending: 1, rate: 1 })
      const text = Report.renderText(data)
      expect(text).toContain("Trend: the rate of each week's decided messages (* some still pending: the rate may move)")
      expect(text).toMatch(/\n2026-03-02\s+50\.0% of 2\s+0\.0% of 1\n2026-03-09\s+100\.0% of 1\s+-\n2026-03-16\s+-\s+-\n2026-03-23\s+-\s+100\.0% of 1\*\n/)
    }))

  it.effect("the pace: messages of the last four weeks before the period's end (or now), whatever its start", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const end = "2026-04-01T00:00:00Z"
      const daysBefore = (days: number) => new Date(Date.parse(end) - days * 86_400_000).toISOString()
      yield* insert([
        ...ownClients(1, 20, 30, 1, daysBefore(40)),
        ...ownClients(2, 20, 30, 101, daysBefore(40)),
        // In the four weeks: 56 of action 1 (one just inside), 28 of action 2; one just outside, one at the end.
        ...Array.from({ length: 56 }, (_, i): Message => ({ action: 1, clientId: 200 + i, sentAt: i === 0 ? daysBefore(28) : daysBefore(1), reaction: "pending" })),
        ...Array.from({ length: 28 }, (_, i): Message => ({ action: 2, clientId: 300 + i, sentAt: daysBefore(10), reaction: "pending" })),
        { action: 1, clientId: 400, sentAt: new Date(Date.parse(daysBefore(28)) - 1).toISOString(), reaction: "none" },
        { action: 2, clientId: 401, sentAt: end, reaction: "none" }
      ])
      yield* Harness.at("2026-05-01T00:00:00Z")
      // The period starts after most of the four weeks: the pace is still theirs.
      const data = yield* Report.compute({ from: DateTime.unsafeMake(daysBefore(3)), to: DateTime.unsafeMake(end) })
      expect(group(data, "feedback").decision.actions.map((a) => [a.action, a.sentPerDay])).toEqual([[1, 2], [2, 1]])
      // Without an end, the four weeks before now (the clock's 20 April, from 23 March on).
      yield* Harness.at("2026-04-20T00:00:00Z")
      const now = yield* Report.compute()
      expect(group(now, "feedback").decision.actions.map((a) => [a.action, a.sentPerDay])).toEqual([[1, 55 / 28], [2, 1 / 28]])
      // An end after now is now: the four weeks before 30 March.
      yield* Harness.at("2026-03-30T00:00:00Z")
      const early = yield* Report.compute({ to: DateTime.unsafeMake("2026-06-01T00:00:00Z") })
      expect(group(early, "feedback").decision.actions.map((a) => [a.action, a.sentPerDay])).toEqual([[1, 2 / 28], [2, 1]])

      // How long until we know, at that pace: the messages still to send over both actions' 3 a day.
      yield* Harness.at("2026-05-01T00:00:00Z")
      const all = yield* Report.compute({ to: DateTime.unsafeMake(end) })
      const needed = group(all, "feedback").decision.pairs[0]!.needed!
      expect(needed).toMatchObject({ decided: 101, pending: 84, perDay: 3 })
      expect(needed.moreMessages).toBe(needed.decidedNeeded! - 185)
      expect(needed.days).toBe(Math.ceil(needed.moreMessages! / 3))
      expect(needed.fixedSampleDecidedNeeded).toBeLessThan(needed.decidedNeeded!)
    }))
})
