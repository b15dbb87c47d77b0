/**
 * The effectiveness report against PostgreSQL: notifications, orders and clients written
 * directly, then every figure checked. Expected intervals and p-values were computed apart with
 * SciPy 1.17 (Wilson and Newcombe by formula; scipy.stats.chi2_contingency, correction=False).
 */
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Exit } from "effect"
import * as Migrator from "@effect/sql/Migrator"
import * as Report from "../src/report/Report.ts"
import { migrate, migrations } from "../src/migrations/Migrations.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

interface NotificationRow {
  readonly kind: string
  /** Default: the kind's name (its only action set). */
  readonly actionSet?: string
  readonly action: number
  readonly chosen?: number
  readonly clientId?: number
  readonly trigger?: string
  readonly status?: "sent" | "in_doubt"
  readonly sentAt: string
  readonly reaction?: "pending" | "reacted" | "none"
  readonly reactedAt?: string
  readonly ref?: string
  readonly bonus?: number
}

let triggers = 0

const notify = (n: NotificationRow) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const status = n.status ?? "sent"
    return sql`
      INSERT INTO pronto_notify.notifications
        (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at,
         sent_at, reaction, reaction_ref, reacted_at, bonus_granted)
      VALUES (${n.kind}, ${n.actionSet ?? n.kind}, ${n.trigger ?? `t${++triggers}`}, ${n.clientId ?? 1}, '89160000001', ${n.chosen ?? n.action},
              ${n.action}, 'text', ${status}, ${new Date(n.sentAt)}, ${status === "sent" ? new Date(n.sentAt) : null},
              ${n.reaction ?? "pending"}, ${n.ref ?? null}, ${n.reactedAt ? new Date(n.reactedAt) : null},
              ${n.bonus ?? null})
    `
  })

/** `count` sent notifications of one kind and action with the same reaction, in one statement. */
const notifyMany = (count: number, kind: string, action: number, reaction: "reacted" | "none", sentAt: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO pronto_notify.notifications
        (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at,
         sent_at, reaction, reacted_at)
      SELECT ${kind}, ${kind}, ${`${kind}-${action}-${reaction}-${++triggers}-`} || g, g, '89160000001', ${action}, ${action},
             'text', 'sent', ${new Date(sentAt)}, ${new Date(sentAt)}, ${reaction},
             CASE WHEN ${reaction} = 'reacted' THEN ${new Date(sentAt)}::timestamptz + interval '1 hour' END
      FROM generate_series(1, ${count}) g
    `)

const hoursAfter = (iso: string, h: number) => new Date(Date.parse(iso) + h * 3600_000).toISOString()
const group = (data: Report.ReportData, kind: string, band: string | null = null) =>
  data.groups.find((g) => g.kind === kind && g.band === band)!
const action = (data: Report.ReportData, kind: string, n: number, band: string | null = null) =>
  group(data, kind, band).actions.find((a) => a.action === n)!

const closeTo = (actual: number | null | undefined, expected: number) => expect(actual).toBeCloseTo(expected, 10)

const SENT = "2026-03-10T09:00:00Z" // 12:00 in Moscow

layer(Harness.layer, { timeout: "120 seconds" })("report", (it) => {
  it.effect("counts, rates, Wilson bounds, median time, bonuses and reacting orders per kind and action", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 1 })
      // feedback 1: 3 reacted (after 1 h, 3 h, 10 h), 5 none, 2 pending; feedback 2: 1 reacted, 3 none.
      for (const h of [1, 3, 10]) {
        yield* notify({ kind: "feedback", action: 1, sentAt: SENT, reaction: "reacted", reactedAt: hoursAfter(SENT, h), ref: `temporary:${h}` })
      }
      for (let i = 0; i < 5; i++) yield* notify({ kind: "feedback", action: 1, sentAt: SENT, reaction: "none" })
      for (let i = 0; i < 2; i++) yield* notify({ kind: "feedback", action: 1, sentAt: SENT })
      yield* notify({ kind: "feedback", action: 2, sentAt: SENT, reaction: "reacted", reactedAt: hoursAfter(SENT, 30), ref: "permanent:7" })
      for (let i = 0; i < 3; i++) yield* notify({ kind: "feedback", action: 2, sentAt: SENT, reaction: "none" })

      // birthday 2: 500 bonuses each; reacted by orders of 1200.50 (after 2 h) and 800.00 (after 5 h).
      const big = yield* insertOrder({ clientId: 1, closedAt: hoursAfter(SENT, 2), total: 1200.5 })
      const small = yield* insertOrder({ clientId: 1, closedAt: hoursAfter(SENT, 5), total: 800 })
      yield* notify({ kind: "birthday", action: 2, sentAt: SENT, reaction: "reacted", reactedAt: hoursAfter(SENT, 2), ref: big, bonus: 500 })
      yield* notify({ kind: "birthday", action: 2, sentAt: SENT, reaction: "reacted", reactedAt: hoursAfter(SENT, 5), ref: small, bonus: 500 })
      yield* notify({ kind: "birthday", action: 2, sentAt: SENT, reaction: "none", bonus: 500 })
      yield* notify({ kind: "birthday", action: 2, sentAt: SENT, bonus: 500 })
      const other = yield* insertOrder({ clientId: 1, closedAt: hoursAfter(SENT, 24), total: 300 })
      yield* notify({ kind: "birthday", action: 1, sentAt: SENT, reaction: "reacted", reactedAt: hoursAfter(SENT, 24), ref: other })
      // invite band B (28 days since the last order): the fallback 1 -> 2 counts under action 2.
      yield* notify({ kind: "invite", action: 2, chosen: 1, actionSet: "invite:B", trigger: "9@2026-02-10T09:00:00.000Z", sentAt: SENT, reaction: "none", bonus: 100 })
      yield* notify({ kind: "profile", action: 1, sentAt: SENT })
      // Not counted: a message left in doubt.
      yield* notify({ kind: "feedback", action: 2, sentAt: SENT, status: "in_doubt" })

      const data = yield* Report.compute()

      expect(data.groups.map((g) => [g.kind, g.band, g.actions.map((a) => a.action)])).toEqual([
        ["feedback", null, [1, 2]],
        ["invite", "A", [1, 2, 3]],
        ["invite", "B", [1, 2]],
        ["profile", null, [1]],
        ["birthday", null, [1, 2]]
      ])
      const f1 = action(data, "feedback", 1)
      expect(f1).toMatchObject({ sent: 10, reacted: 3, none: 5, pending: 2, bonusGranted: 0, reactingOrders: null, uplift: null })
      closeTo(f1.rate, 3 / 8)
      closeTo(f1.interval!.low, 0.13684428582359737)
      closeTo(f1.interval!.high, 0.6942576053973728)
      expect(f1.medianSecondsToReaction).toBe(3 * 3600)
      const f2 = action(data, "feedback", 2)
      expect(f2).toMatchObject({ sent: 4, reacted: 1, none: 3, pending: 0, medianSecondsToReaction: 30 * 3600 })
      closeTo(f2.interval!.low, 0.04558726080970055)
      closeTo(f2.interval!.high, 0.6993581574175981)

      const b2 = action(data, "birthday", 2)
      expect(b2).toMatchObject({
        sent: 4,
        reacted: 2,
        none: 1,
        pending: 1,
        bonusGranted: 2000,
        reactingOrders: { count: 2, total: 2000.5 },
        medianSecondsToReaction: 3.5 * 3600
      })
      closeTo(b2.rate, 2 / 3)
      closeTo(b2.interval!.low, 0.20765960080204765)
      closeTo(b2.interval!.high, 0.9385080552796037)
      expect(action(data, "birthday", 1)).toMatchObject({
        sent: 1,
        reacted: 1,
        rate: 1,
        interval: { high: 1 },
        reactingOrders: { count: 1, total: 300 },
        bonusGranted: 0
      })
      expect(action(data, "invite", 2, "B")).toMatchObject({ sent: 1, none: 1, bonusGranted: 100, reactingOrders: { count: 0, total: 0 } })
      expect(action(data, "invite", 1, "B")).toMatchObject({ sent: 0, rate: null, interval: null, medianSecondsToReaction: null })
      expect(action(data, "profile", 1)).toMatchObject({ sent: 1, pending: 1, rate: null, reactingOrders: null })
      expect(data.inDoubt).toEqual({ feedback: 1 })
      expect(group(data, "feedback").baseline).toBeNull()
      expect(group(data, "profile").baseline).toBeNull()
      expect(group(data, "profile").comparison.outcome).toBe("nothing-to-compare")
      expect(group(data, "feedback").comparison.outcome).toBe("too-few")
      expect(group(data, "feedback").comparison.verdict).toMatch(/^Too few decided notifications/)

      // The renderers carry the same figures.
      const json = Report.toJson(data)
      expect(JSON.parse(JSON.stringify(json))).toEqual(json)
      const jsonF1 = json.groups[0]!.actions[0]!
      expect(jsonF1).toMatchObject({ action: 1, sent: 10, reacted: 3, none: 5, pending: 2, medianSecondsToReaction: 10800 })
      expect(typeof jsonF1.interval!.low).toBe("number")
      expect(json.groups[1]!.actions[0]!).toMatchObject({ rate: null, interval: null, uplift: null })
      const text = Report.renderText(data)
      expect(text).toContain("feedback\n--------\naction  sent  reacted  none  pending   rate")
      // Client 1 had every message: one cluster, whose variance cannot be told, so 8 decided count as 8 (effective n).
      expect(text).toMatch(/\n1\s+10\s+3\s+5\s+2\s+37\.5%\s+13\.7% \.\. 69\.4%\s+8\s+3\.0 h\s+0\.00\n/)
      expect(text).toMatch(/\n2\s+4\s+2\s+1\s+1\s+66\.7%\s+20\.8% \.\. 93\.9%\s+3\s+3\.5 h\s+2000\.00\s+2\s+2000\.50/)
      expect(text).toContain("Left in doubt and not counted above: feedback 1.")
      expect(text).toContain("Observational estimate: The baselines and uplifts are observational estimates")
    }))

  it.effect("names the better action only when the difference is significant at 5%", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // feedback: 60/100 against 30/100, chi-square 18.18, p = 2.0e-5.
      yield* notifyMany(60, "feedback", 1, "reacted", SENT)
      yield* notifyMany(40, "feedback", 1, "none", SENT)
      yield* notifyMany(30, "feedback", 2, "reacted", SENT)
      yield* notifyMany(70, "feedback", 2, "none", SENT)
      // birthday: 32/100 against 30/100, chi-square 0.0935, p = 0.760.
      yield* notifyMany(32, "birthday", 1, "reacted", SENT)
      yield* notifyMany(68, "birthday", 1, "none", SENT)
      yield* notifyMany(30, "birthday", 2, "reacted", SENT)
      yield* notifyMany(70, "birthday", 2, "none", SENT)

      const data = yield* Report.compute()
      const significant = group(data, "feedback").comparison
      expect(significant.outcome).toBe("significant")
      closeTo(significant.test!.statistic, 18.18181818181818)
      expect(significant.test!.df).toBe(1)
      expect(significant.test!.pValue / 2.0078656124264854e-05).toBeCloseTo(1, 6)
      expect(significant.verdict).toBe(
        "Action 1 gets reactions more often than action 2: 60.0% against 30.0% (p < 0.001)."
      )
      const notSignificant = group(data, "birthday").comparison
      expect(notSignificant.outcome).toBe("not-significant")
      closeTo(notSignificant.test!.pValue, 0.759771873523611)
      expect(notSignificant.verdict).toBe(
        "The data cannot tell yet whether the actions differ (action 1 32.0%, action 2 30.0%; p = 0.760)."
      )
      expect(notSignificant.verdict).not.toMatch(/more often/)
      const text = Report.renderText(data)
      expect(text.match(/gets reactions more often/g)).toHaveLength(1)
      expect(text).toContain("The data cannot tell yet whether the actions differ")
    }))

  it.effect("three actions of invite band A: df 2, and the verdict names the highest and the lowest", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      // 40/100, 20/100, 38/100: chi-square 11.03, p = 0.0040.
      yield* notifyMany(40, "invite", 1, "reacted", SENT)
      yield* notifyMany(60, "invite", 1, "none", SENT)
      yield* notifyMany(20, "invite", 2, "reacted", SENT)
      yield* notifyMany(80, "invite", 2, "none", SENT)
      yield* notifyMany(38, "invite", 3, "reacted", SENT)
      yield* notifyMany(62, "invite", 3, "none", SENT)
      // Lapses of 68 days: band A.
      yield* sql`UPDATE pronto_notify.notifications SET trigger_key = id || '@2026-01-01T09:00:00.000Z', action_set = 'invite:A'`
      const a = group(yield* Report.compute(), "invite", "A")
      expect(a.actions.map((x) => [x.action, x.sent])).toEqual([[1, 100], [2, 100], [3, 100]])
      expect(a.comparison.outcome).toBe("significant")
      expect(a.comparison.test!.df).toBe(2)
      closeTo(a.comparison.test!.statistic, 11.032531824611032)
      closeTo(a.comparison.test!.pValue, 0.004020834091982736)
      expect(a.comparison.verdict).toBe(
        "Action 1 gets reactions more often than action 2: 40.0% against 20.0% (the 3 actions differ, p = 0.004)."
      )
    }))

  it.effect("with too few decided notifications it says so instead of testing", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // 4/6 against 1/5: expected counts below 5.
      yield* notifyMany(4, "feedback", 1, "reacted", SENT)
      yield* notifyMany(2, "feedback", 1, "none", SENT)
      yield* notifyMany(1, "feedback", 2, "reacted", SENT)
      yield* notifyMany(4, "feedback", 2, "none", SENT)
      // Everyone reacted: nothing to tell apart either.
      yield* notifyMany(9, "birthday", 1, "reacted", SENT)
      yield* notifyMany(9, "birthday", 2, "reacted", SENT)
      const data = yield* Report.compute()
      expect(group(data, "feedback").comparison).toMatchObject({ outcome: "too-few" })
      expect(group(data, "feedback").comparison.verdict).toContain("action 1 66.7%, action 2 20.0%")
      expect(group(data, "birthday").comparison).toMatchObject({ outcome: "too-few", test: null })
      expect(group(data, "invite", "A").comparison.outcome).toBe("nothing-to-compare")
    }))

  it.effect("invites stored before action sets get their band back from the trigger, by business-zone dates", () =>
    Effect.gen(function*() {
      // A database as version 0.1 left it: the first three migrations, invites without an action set.
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP SCHEMA pronto_notify CASCADE`
      yield* sql`CREATE SCHEMA pronto_notify`
      yield* sql`CREATE TABLE pronto_notify.migrations (migration_id integer PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), name text NOT NULL)`
      yield* Migrator.make({})({
        loader: Migrator.fromRecord(Object.fromEntries(Object.entries(migrations).filter(([name]) => Number.parseInt(name) <= 3))),
        table: "pronto_notify.migrations"
      })
      const old = (clientAndLapse: string, action: number) =>
        sql`
          INSERT INTO pronto_notify.notifications
            (kind, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at, sent_at)
          VALUES ('invite', ${clientAndLapse}, 1, '89160000001', ${action}, ${action}, 'text', 'sent',
                  '2026-03-02T09:00:00Z', '2026-03-02T09:00:00Z')
        `
      // Last order 00:30 on 2 February in Moscow (still 1 February in UTC), sent 2 March: 28 days, band B.
      yield* old("5@2026-02-01T21:30:00.000Z", 1)
      // 29 days: band A.
      yield* old("6@2026-02-01T20:30:00.000Z", 1)
      // A trigger without a readable date: reported apart, not guessed.
      yield* old("7@garbage", 3)
      yield* old("8@2026-02-01T20:30:00.000Z#2", 3)
      yield* migrate
      const data = yield* Report.compute()
      expect(action(data, "invite", 1, "B").sent).toBe(1)
      expect(action(data, "invite", 1, "A").sent).toBe(1)
      const unknown = group(data, "invite", null)
      expect(unknown.title).toBe("invite (band unknown)")
      expect(unknown.actions.map((a) => [a.action, a.sent])).toEqual([[3, 2]])
      expect(unknown.baseline).toBeNull()
    }))

  it.effect("invite baseline: once per lapse, on its first day in a band, at the first invite's time of day, in the 8 weeks ending 14 days before it, weighted to the invited lapses' ages", () =>
    Effect.gen(function*() {
      yield* truncateAll
      for (const id of [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]) yield* insertClient({ id })
      const closed = (clientId: number, closedAt: string) => insertOrder({ clientId, closedAt })
      // The first invite: 10 March 12:00 (Moscow); reference days 31 December .. 24 February, each
      // observed at 12:00 Moscow, so that every observation's 14 days end before the first invite.
      // 1: lapse from 10 January, never ends: B on 25 January, not ordered; never again in A (the
      //    invite too goes once per lapse).
      yield* closed(1, "2026-01-10T09:00:00Z")
      // 2: 21 days lapsed when the weeks begin: B on 31 December, ordered 5 January; the next lapse
      //    B on 20 January, not ordered.
      yield* closed(2, "2025-12-10T09:00:00Z")
      yield* closed(2, "2026-01-05T09:00:00Z")
      // 3: 46 days lapsed when the weeks begin (past band B before them): A on 31 December, ordered
      //    10 January; then B on 25 January, not ordered.
      yield* closed(3, "2025-11-15T09:00:00Z")
      yield* closed(3, "2026-01-10T09:00:00Z")
      // 4: more than 3 months lapsed throughout: in no band.
      yield* closed(4, "2025-09-01T09:00:00Z")
      // 5: its first band day (2 March) comes after the weeks.
      yield* closed(5, "2026-02-15T09:00:00Z")
      // 7: B from 4 February, but orders at 10:00 that day, before the invite's hour: that lapse is
      //    never observed; the next one is, B on 19 February, not ordered.
      yield* closed(7, "2026-01-20T09:00:00Z")
      yield* closed(7, "2026-02-04T07:00:00Z")
      // 8: B on 10 February, observed at 12:00; next order exactly 14 days later: ordered.
      yield* closed(8, "2026-01-26T09:00:00Z")
      yield* closed(8, "2026-02-24T09:00:00Z")
      // 9: the same a second later: not ordered.
      yield* closed(9, "2026-01-26T09:00:00Z")
      yield* closed(9, "2026-02-24T09:00:01Z")
      // 10: 28 days lapsed when the weeks begin: in neither band (B ends at 27), A the next day, not ordered.
      yield* closed(10, "2025-12-03T09:00:00Z")
      // 11: last order 00:30 on 26 January in Moscow: B on 10 February, and the next order 11:30 on
      //    24 February Moscow is within 14 days of its 12:00 (in UTC dates it would be B on 9 February, not).
      yield* closed(11, "2026-01-25T21:30:00Z")
      yield* closed(11, "2026-02-24T08:30:00Z")
      // Not closed orders and orders without a client do not count.
      yield* insertOrder({ clientId: 1, status: "cancelled", closedAt: "2026-02-10T09:00:00Z" })
      yield* insertOrder({ clientId: null, closedAt: "2026-02-10T09:00:00Z" })

      // Invites of band B: action 1 4/10 on lapses of 15 days, action 2 1/4 on lapses of 21 days; the
      // later one (still pending) does not move the weeks.
      yield* notifyMany(4, "invite", 1, "reacted", SENT)
      yield* notifyMany(6, "invite", 1, "none", SENT)
      yield* notifyMany(1, "invite", 2, "reacted", SENT)
      yield* notifyMany(3, "invite", 2, "none", SENT)
      const sql = yield* SqlClient.SqlClient
      yield* sql`
        UPDATE pronto_notify.notifications
        SET trigger_key = id || CASE WHEN performed_action = 1 THEN '@2026-02-23T09:00:00.000Z' ELSE '@2026-02-17T09:00:00.000Z' END,
            action_set = 'invite:B'
      `
      yield* notify({ kind: "invite", action: 1, actionSet: "invite:B", trigger: "9@2026-03-01T09:00:00.000Z", sentAt: "2026-03-20T09:00:00Z" })

      const data = yield* Report.compute()
      const b = group(data, "invite", "B").baseline!
      // Clients 1, 2 (twice), 3, 7, 8, 9 and 11; ordered: 2, 8 and 11. Of them, lapses of 15 days:
      // 2 of 7 ordered (8 and 11); of 16 to 21 days: 1 of 1 (client 2's first, 21 days when the weeks begin).
      expect(b).toMatchObject({ days: { from: "2025-12-31", to: "2026-02-24" }, observations: 8, ordered: 3, unavailable: null })
      expect(b.standardizedBy).toBe("the lapse's age in days")
      // Weighted to the invites' lapses, 10 of 15 days and 4 of 21: 10/14 × 2/7 + 4/14 × 1 = 24/49,
      // its interval Wilson's at the 8 observations (the effective size would claim more).
      closeTo(b.rate, 24 / 49)
      closeTo(b.interval!.low, 0.20836233087056955)
      closeTo(b.interval!.high, 0.7778500684127749)
      // Clients 3 (ordered) and 10; no invite in band A to weigh them by: the plain rate.
      const a = group(data, "invite", "A").baseline!
      expect(a).toMatchObject({ days: { from: "2025-12-31", to: "2026-02-24" }, observations: 2, ordered: 1, standardizedBy: null })
      closeTo(a.rate, 1 / 2)
      expect(a.method).toContain("band A")

      // Uplift of band B action 1 (4/10) over 24/49: Newcombe's interval from the two intervals.
      const uplift = action(data, "invite", 1, "B").uplift!
      closeTo(uplift.difference, -0.0897959183673469)
      closeTo(uplift.low, -0.4595465815087446)
      closeTo(uplift.high, 0.3123995897756121)
      // Band A action 3 has nothing decided: no uplift.
      expect(action(data, "invite", 3, "A").uplift).toBeNull()
      expect(Report.renderText(data)).toContain(
        "Baseline: 49.0%: 3 of 8 comparable clients ordered within 14 days, weighted to the messaged clients' mix of the " +
          "lapse's age in days (95% interval 20.8% .. 77.8%); reference days 2025-12-31 to 2026-02-24."
      )
      expect(Report.renderText(data)).toMatch(/-9\.0 pp \(-46\.0 \.\. \+31\.2\)/)
      expect(Report.renderText(data)).toContain(
        "Baseline: 50.0% of 2 comparable clients ordered within 14 days (95% interval 9.5% .. 90.5%); reference days 2025-12-31 to 2026-02-24."
      )
    }))

  it.effect("birthday baseline: the same days before a birthday a year earlier, clients with an order before", () =>
    Effect.gen(function*() {
      yield* truncateAll
      for (const id of [1, 2, 3, 4, 5, 6, 7]) {
        yield* insertClient({
          id,
          birthday: { 1: "1990-06-15", 2: "1985-06-30", 3: "1980-06-05", 4: "1980-07-10", 5: "1980-06-12", 6: "1980-06-25", 7: null }[id]!
        })
      }
      // Greetings on 10 and 20 June 2026 (Moscow); reference days 10 .. 20 June 2025.
      const greeted = ["2026-06-10T10:00:00Z", "2026-06-20T10:00:00Z"]
      yield* notify({ kind: "birthday", action: 1, sentAt: greeted[0]!, reaction: "reacted", reactedAt: hoursAfter(greeted[0]!, 5) })
      yield* notify({ kind: "birthday", action: 2, sentAt: greeted[1]!, reaction: "none", bonus: 500 })
      const closed = (clientId: number, closedAt: string) => insertOrder({ clientId, closedAt })
      for (const id of [1, 2, 3, 4, 6, 7]) yield* closed(id, "2025-03-01T09:00:00Z")
      // 1: from 10 June (birthday 15 June), orders 12 June: ordered.
      yield* closed(1, "2025-06-12T09:00:00Z")
      // 2: from 16 June (birthday 30 June), no order: not.
      // 3: birthday 5 June, before the days; 4: 10 July, 0..14 days ahead of none of them.
      yield* closed(3, "2025-06-06T09:00:00Z")
      yield* closed(4, "2025-06-27T09:00:00Z")
      // 5: no order before: not a client yet, left out.
      yield* closed(5, "2025-06-11T09:00:00Z")
      // 6: from 11 June 00:00 Moscow (birthday 25 June); orders 00:30 on 11 June Moscow: ordered.
      yield* closed(6, "2025-06-10T21:30:00Z")
      // 7: no birthday.
      yield* closed(7, "2025-06-12T09:00:00Z")

      const data = yield* Report.compute()
      const baseline = group(data, "birthday").baseline!
      expect(baseline).toMatchObject({ days: { from: "2025-06-10", to: "2025-06-20" }, observations: 3, ordered: 2 })
      expect(action(data, "birthday", 1).uplift).toMatchObject({ difference: expect.closeTo(1 - 2 / 3, 10) })
      const u2 = action(data, "birthday", 2).uplift!
      closeTo(u2.difference, -2 / 3)

      // The period decides the days: only the 20 June greeting gives the day 20 June 2025, when
      // clients 2 and 6 had birthdays 10 and 5 days ahead and did not order within 14 days.
      const late = yield* Report.compute({ from: DateTime.unsafeMake("2026-06-15T00:00:00Z") })
      expect(group(late, "birthday").baseline).toMatchObject({
        days: { from: "2025-06-20", to: "2025-06-20" },
        observations: 2,
        ordered: 0
      })
    }))

  it.effect("birthday baseline: weighted to the greeted clients' time since their last order", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // A year earlier (reference days 10 .. 20 June 2025): two clients who had just ordered (0 to 6
      // days before), one of whom ordered again; four who last ordered 101 days before, one of whom did.
      const birthdays: Record<number, string> = { 1: "1990-06-20", 2: "1991-06-22", 3: "1980-06-18", 4: "1981-06-19", 5: "1982-06-21", 6: "1983-06-23" }
      for (const [id, birthday] of Object.entries(birthdays)) yield* insertClient({ id: Number(id), birthday })
      const closed = (clientId: number, closedAt: string) => insertOrder({ clientId, closedAt })
      yield* closed(1, "2025-06-07T09:00:00Z")
      yield* closed(1, "2025-06-12T09:00:00Z")
      yield* closed(2, "2025-06-05T09:00:00Z")
      for (const id of [3, 4, 5, 6]) yield* closed(id, "2025-03-01T09:00:00Z")
      yield* closed(3, "2025-06-13T09:00:00Z")
      // Greeted in June 2026: two who ordered 5 days before, one 101 days before, and one 900 days
      // before (no comparable client so long lapsed: it counts with the nearest stratum observed).
      for (const [id, last] of [[11, "2026-06-05T09:00:00Z"], [12, "2026-06-15T09:00:00Z"], [13, "2026-03-01T09:00:00Z"], [14, "2024-01-01T09:00:00Z"]] as const) {
        yield* insertClient({ id, birthday: "1990-12-01" })
        yield* closed(id, last)
      }
      yield* notify({ kind: "birthday", action: 1, clientId: 11, sentAt: "2026-06-10T10:00:00Z", reaction: "reacted", reactedAt: "2026-06-11T10:00:00Z" })
      yield* notify({ kind: "birthday", action: 1, clientId: 12, sentAt: "2026-06-20T10:00:00Z", reaction: "none" })
      yield* notify({ kind: "birthday", action: 1, clientId: 13, sentAt: "2026-06-10T10:00:00Z", reaction: "none" })
      yield* notify({ kind: "birthday", action: 1, clientId: 14, sentAt: "2026-06-20T10:00:00Z", reaction: "none" })

      const data = yield* Report.compute()
      const baseline = group(data, "birthday").baseline!
      // Pooled it would be 2 of 6; weighted half and half: 1/2 × 1/2 + 1/2 × 1/4.
      expect(baseline).toMatchObject({
        days: { from: "2025-06-10", to: "2025-06-20" },
        observations: 6,
        ordered: 2,
        standardizedBy: "the time since the client's last closed order"
      })
      closeTo(baseline.rate, 0.375)
      // Wilson at the effective sample size 0.375 × 0.625 / (1/4 × 1/8 + 1/4 × 3/64) = 5.45.
      closeTo(baseline.interval!.low, 0.11118556298415427)
      closeTo(baseline.interval!.high, 0.742123845740142)
      const uplift = action(data, "birthday", 1).uplift!
      closeTo(uplift.difference, -0.125)
      closeTo(uplift.low, -0.545195771104747)
      closeTo(uplift.high, 0.3960765882437307)
      expect(Report.renderText(data)).toContain(
        "Baseline: 37.5%: 2 of 6 comparable clients ordered within 14 days, weighted to the messaged clients' mix of the " +
          "time since the client's last closed order (95% interval 11.1% .. 74.2%); reference days 2025-06-10 to 2025-06-20."
      )
      expect(Report.toJson(data).groups.find((g) => g.kind === "birthday")!.baseline!.standardizedBy).toBe(
        "the time since the client's last closed order"
      )
    }))

  it.effect("counts the reactions credited to more than one message: an order after an invite and a greeting, a review after two requests", () =>
    Effect.gen(function*() {
      yield* truncateAll
      for (const id of [1, 2]) yield* insertClient({ id })
      const order = yield* insertOrder({ clientId: 1, closedAt: hoursAfter(SENT, 30) })
      const other = yield* insertOrder({ clientId: 2, closedAt: hoursAfter(SENT, 30) })
      const reacted = (kind: string, act: number, clientId: number, ref: string, actionSet = kind) =>
        notify({ kind, action: act, actionSet, clientId, sentAt: SENT, reaction: "reacted", reactedAt: hoursAfter(SENT, 30), ref })
      yield* reacted("invite", 2, 1, order, "invite:B")
      yield* reacted("birthday", 1, 1, order)
      yield* reacted("birthday", 1, 2, other)
      // One review answers three requests of client 1, across both actions; another answers one.
      yield* reacted("feedback", 1, 1, "permanent:5")
      yield* reacted("feedback", 1, 1, "permanent:5")
      yield* reacted("feedback", 2, 1, "permanent:5")
      yield* reacted("feedback", 1, 1, "permanent:6")

      const data = yield* Report.compute()
      expect(action(data, "invite", 2, "B")).toMatchObject({ reacted: 1, sharedReactions: 1 })
      expect(action(data, "birthday", 1)).toMatchObject({ reacted: 2, sharedReactions: 1 })
      expect(action(data, "feedback", 1)).toMatchObject({ reacted: 3, sharedReactions: 2 })
      expect(action(data, "feedback", 2)).toMatchObject({ reacted: 1, sharedReactions: 1 })
      const text = Report.renderText(data)
      expect(text).toContain(
        "Shared reactions: 1 of 2 were also credited to another message (one event after two messages open at once " +
          "counts for each: the first event after a message is its reaction)."
      )
      expect(text).toContain("Shared reactions: 3 of 4 were also credited")
      const json = Report.toJson(data)
      expect(json.groups.find((g) => g.kind === "feedback")).toMatchObject({ sharedReactions: 3 })
      expect(json.groups.find((g) => g.kind === "feedback")!.actions[0]).toMatchObject({ reacted: 3, sharedReactions: 2 })
      // A group without reactions says nothing of them.
      expect(text).not.toMatch(/invite, band A\n[^]*?Shared reactions[^]*?invite, band B/)
    }))

  it.effect("a rate whose messages move together per client gets the interval of its effective count", () =>
    Effect.gen(function*() {
      yield* truncateAll
      // Ten clients with four review requests each: three had all four answered (one review each),
      // seven none. Forty messages, but ten independent outcomes: the interval of 3 of 10.
      const sql = yield* SqlClient.SqlClient
      yield* sql`
        INSERT INTO pronto_notify.notifications
          (kind, action_set, trigger_key, client_id, phone, chosen_action, performed_action, text, status, attempted_at,
           sent_at, reaction, reaction_ref, reacted_at)
        SELECT 'feedback', 'feedback', 'c' || c || '-' || k, c, '89160000001', 1, 1, 'text', 'sent', ${new Date(SENT)},
               ${new Date(SENT)}, CASE WHEN c <= 3 THEN 'reacted' ELSE 'none' END,
               CASE WHEN c <= 3 THEN 'permanent:' || c END,
               CASE WHEN c <= 3 THEN ${new Date(SENT)}::timestamptz + interval '1 hour' END
        FROM generate_series(1, 10) c CROSS JOIN generate_series(1, 4) k
      `
      const a = action(yield* Report.compute(), "feedback", 1)
      expect(a).toMatchObject({ reacted: 12, none: 28, sharedReactions: 12 })
      closeTo(a.rate, 0.3)
      closeTo(a.interval!.low, 0.10779126740630108)
      closeTo(a.interval!.high, 0.6032218525388546)
    }))

  it.effect("no baseline when nothing was sent, or when a year earlier the greetings already ran", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const empty = yield* Report.compute()
      expect(group(empty, "invite", "B").baseline).toMatchObject({ days: null, observations: 0, rate: null })
      expect(group(empty, "invite", "B").baseline!.unavailable).toContain("No invite has been sent yet")
      expect(group(empty, "birthday").baseline!.unavailable).toContain("No comparable days")
      expect(action(empty, "birthday", 1).uplift).toBeNull()

      yield* notify({ kind: "birthday", action: 1, sentAt: "2026-06-10T10:00:00Z" })
      yield* notify({ kind: "birthday", action: 1, sentAt: "2027-06-10T10:00:00Z" })
      const later = yield* Report.compute({ from: DateTime.unsafeMake("2027-01-01T00:00:00Z") })
      expect(group(later, "birthday").baseline).toMatchObject({ days: null, observations: 0 })
      expect(Report.renderText(later)).toContain("Baseline: none. No comparable days")
    }))

  it.effect("from and to select by the instant sent, end exclusive", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* notify({ kind: "feedback", action: 1, sentAt: "2026-03-01T00:00:00Z", reaction: "none" })
      yield* notify({ kind: "feedback", action: 1, sentAt: "2026-03-15T12:00:00Z", reaction: "reacted", reactedAt: "2026-03-15T13:00:00Z" })
      yield* notify({ kind: "feedback", action: 1, sentAt: "2026-04-01T00:00:00Z", reaction: "none" })
      yield* notify({ kind: "feedback", action: 1, sentAt: "2026-03-15T12:00:00Z", status: "in_doubt" })
      yield* notify({ kind: "feedback", action: 1, sentAt: "2026-04-15T12:00:00Z", status: "in_doubt" })
      const period = { from: DateTime.unsafeMake("2026-03-01T00:00:00Z"), to: DateTime.unsafeMake("2026-04-01T00:00:00Z") }
      const data = yield* Report.compute(period)
      expect(action(data, "feedback", 1)).toMatchObject({ sent: 2, reacted: 1, none: 1 })
      expect(data.inDoubt).toEqual({ feedback: 1 })
      expect(Report.toJson(data)).toMatchObject({ from: "2026-03-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z", timeZone: "Europe/Moscow" })
      expect(action(yield* Report.compute({ to: period.to }), "feedback", 1).sent).toBe(2)
      expect(action(yield* Report.compute({ from: DateTime.unsafeMake("2026-03-01T00:00:00.001Z") }), "feedback", 1).sent).toBe(2)
      expect(action(yield* Report.compute(), "feedback", 1).sent).toBe(3)
    }))

  it.effect("a date bound is the start of that day in the business zone; bad bounds say what to write", () =>
    Effect.gen(function*() {
      expect(DateTime.formatIso(yield* Report.parseBound("from", "2026-03-01"))).toBe("2026-02-28T21:00:00.000Z")
      expect(DateTime.formatIso(yield* Report.parseBound("to", "2026-03-01T09:00:00+03:00"))).toBe("2026-03-01T06:00:00.000Z")
      expect(DateTime.formatIso(yield* Report.parseBound("to", "2026-03-01T09:00:00Z"))).toBe("2026-03-01T09:00:00.000Z")
      for (const bad of ["2026-02-30", "2026-03-01T09:00:00", "yesterday", ""]) {
        const exit = yield* Effect.exit(Report.parseBound("from", bad))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(String(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error.message : "")).toBe(
          `--from "${bad}" is neither a date (2026-03-01) nor an ISO-8601 instant with an offset (2026-03-01T09:00:00Z)`
        )
      }
    }))
})
