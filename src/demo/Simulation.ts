/**
 * A synthetic chain, simulated in steps of half an hour: clients order (and some stop ordering),
 * the host records closed orders (`ordersClosed`) and order bonuses, the jobs run on their real
 * schedule against a fake Site on 127.0.0.1, and customers react to what they receive with known
 * probabilities per kind and action: the simulated truth the report must recover.
 *
 * The report credits a message with the first event of its kind within 14 days of it, so two
 * messages of one reaction type open at once for one client would credit each other. The chain is
 * shaped so that this never happens and the truth stays exact: the clients with a birthday on file
 * are dormant (they order only when a message moves them, so no invite overlaps their greeting),
 * a client inside an invite's or a greeting's window orders only if they react to it, and a client
 * inside a review window orders for pickup (no second review request).
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Option } from "effect"
import { BonusServer } from "../bonus/BonusServer.ts"
import { BusinessTimeZone, localParts } from "../time/BusinessTime.ts"
import { withClockAt } from "../time/Clock.ts"
import type { BuiltInKindName as KindName } from "../kinds/Registry.ts"
import { Birthday } from "../kinds/Birthday.ts"
import { Feedback } from "../kinds/Feedback.ts"
import { Invite } from "../kinds/Invite.ts"
import { Profile } from "../kinds/Profile.ts"
import { ordersClosed } from "../host/Orders.ts"
import { normalizePhone } from "../delivery/Phone.ts"
import { due, type JobName } from "../scheduling/Schedule.ts"
import { type JobSummary, runJob } from "../scheduling/Scheduler.ts"
import type { FakeSite, ReceivedSms } from "./FakeSite.ts"
import * as Random from "./Random.ts"
import { birthdayOf, laterBirthdayOf, phoneOf, pickSource, uuidFrom } from "./Synthetic.ts"

/**
 * The simulated truth: the probability that a customer reacts within 14 days to each kind and
 * action (an order for invite and birthday; the review or profile bonus for feedback and profile).
 */
export const TRUE_RATES: Readonly<Record<string, Readonly<Record<number, number>>>> = {
  feedback: { 1: 0.15, 2: 0.25 },
  invite: { 1: 0.22, 2: 0.32, 3: 0.12 },
  profile: { 1: 0.35 },
  birthday: { 1: 0.25, 2: 0.45 }
}

export interface SimulationOptions {
  readonly seed: number
  readonly clients: number
  /** First simulated day (its local midnight in the business zone). */
  readonly start: DateTime.Utc
  /** Days on which the message jobs run. */
  readonly days: number
  /** Days after those, with only the reaction job, so every message's 14-day window closes. */
  readonly windDownDays: number
  /** Days of order history before the start. */
  readonly historyDays: number
}

const STEP_MINUTES = 30
const STEP_MS = STEP_MINUTES * 60_000
const DAY_MS = 86_400_000
/** Orders close between 10:00 and 23:00 local. */
const OPEN_HOUR = 10
const CLOSE_HOUR = 23
const SLOTS_PER_DAY = ((CLOSE_HOUR - OPEN_HOUR) * 60) / STEP_MINUTES
/** Order bonuses: the host accrues 5% of each closed order, reason `order`. */
const ORDER_BONUS_SHARE = 0.05
/** Bonuses the app accrues when a customer reacts to feedback (per action's promise) and to profile. */
const REACTION_BONUS: Readonly<Record<string, number>> = { "feedback/1": 50, "feedback/2": 100, "profile/1": 100 }

interface SimClient {
  readonly id: number
  readonly phone: string
  /** Dormant clients have a birthday on file and order only in reaction to a message. */
  readonly dormant: boolean
  /** Mean closed orders per day while active. */
  readonly rate: number
  /** The day index after which the client stops ordering on their own (lapses). */
  readonly lapsesAfterDay: number
  /** No organic order before this instant: the client is inside an order reaction's window. */
  quietUntil: number
  /** Orders before this instant are for pickup: a review request's window is open. */
  pickupUntil: number
}

/** Share of clients that are dormant with a birthday on file. */
const DORMANT_SHARE = 0.5
/** A review request's window as the chain sees it: the request comes within a day of the order. */
const REVIEW_WINDOW_MS = 15 * DAY_MS

type OrderRow = {
  readonly uid: string
  readonly client_id: number
  readonly source: string
  readonly is_delivery: boolean
  readonly status: "closed"
  readonly created_at: Date
  readonly closed_at: Date
  readonly total: number
}

type Reaction =
  | { readonly type: "order"; readonly at: number; readonly clientId: number }
  | { readonly type: "accrual"; readonly at: number; readonly clientId: number; readonly reason: string; readonly amount: number; readonly fillsBirthday: boolean }

export interface KindActionCount {
  readonly kind: KindName
  readonly action: number
  readonly sent: number
}

export interface SimulationResult {
  readonly runs: ReadonlyArray<{ readonly job: JobName; readonly summary: JobSummary }>
  readonly orders: number
  readonly received: ReadonlyArray<ReceivedSms>
  readonly sentByKindAction: ReadonlyArray<KindActionCount>
  /** Reactions the simulation decided, per kind and action. */
  readonly simulatedReactions: ReadonlyArray<KindActionCount>
  readonly end: DateTime.Utc
}

const INVITE_BALANCE = /^На счету \d+ бонусов! Потрать их в новом заказе$/

/** Which kind and performed action a received text is, by the kinds' own texts. */
export const classify = (text: string): Option.Option<{ readonly kind: KindName; readonly action: number }> => {
  const byTexts = (kind: KindName, texts: Readonly<Record<number, string>>) => {
    for (const [action, t] of Object.entries(texts)) if (t === text) return Option.some({ kind, action: Number(action) })
    return Option.none()
  }
  if (INVITE_BALANCE.test(text)) return Option.some({ kind: "invite", action: 1 })
  if (text === Profile.rules.text) return Option.some({ kind: "profile", action: 1 })
  return byTexts("feedback", Feedback.rules.texts).pipe(
    Option.orElse(() => byTexts("invite", Invite.rules.texts)),
    Option.orElse(() => byTexts("birthday", Birthday.rules.texts))
  )
}

const tally = (items: ReadonlyArray<{ readonly kind: KindName; readonly action: number }>): ReadonlyArray<KindActionCount> => {
  const counts = new Map<string, KindActionCount>()
  for (const { action, kind } of items) {
    const key = `${kind}/${action}`
    counts.set(key, { kind, action, sent: (counts.get(key)?.sent ?? 0) + 1 })
  }
  return [...counts.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.action - b.action)
}

export const simulate = (options: SimulationOptions, site: FakeSite) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const bonus = yield* BonusServer
    const { zone } = yield* BusinessTimeZone
    const random = Random.make(options.seed)
    const startMs = DateTime.toEpochMillis(DateTime.startOf(DateTime.setZone(options.start, zone), "day"))

    const clients: Array<SimClient> = Array.from({ length: options.clients }, (_, i) => ({
      id: i + 1,
      phone: phoneOf(random, i + 1),
      dormant: random.next() < DORMANT_SHARE,
      rate: 0.03 + random.next() * 0.12,
      // Two in five active clients stop ordering at some point in the history or the simulation.
      lapsesAfterDay: random.next() < 0.4 ? random.int(-options.historyDays, options.days) : Number.POSITIVE_INFINITY,
      quietUntil: 0,
      pickupUntil: 0
    }))
    const byPhone = new Map<string, SimClient>()
    const byId = new Map<number, SimClient>()
    for (const c of clients) {
      byId.set(c.id, c)
      Option.map(normalizePhone(c.phone), (p) => byPhone.set(p, c))
    }
    // Profile reactions fill in the active clients' birthdays over time.
    const rows = clients.map((c) => ({ id: c.id, phone: c.phone, birthday: c.dormant ? birthdayOf(random) : null }))
    for (let i = 0; i < rows.length; i += 5000) {
      yield* sql`INSERT INTO jupiter.clients ${sql.insert(rows.slice(i, i + 5000))}`
    }

    let orders = 0
    const ordersIn = (fromMs: number): Array<OrderRow> => {
      const hour = localParts(DateTime.unsafeMake(fromMs), zone).hours
      if (hour < OPEN_HOUR || hour >= CLOSE_HOUR) return []
      const day = Math.floor((fromMs - startMs) / DAY_MS)
      const out: Array<OrderRow> = []
      for (const c of clients) {
        const draw = random.next()
        if (c.dormant || day > c.lapsesAfterDay || fromMs < c.quietUntil) continue
        if (draw < c.rate / SLOTS_PER_DAY) out.push(orderFor(c, fromMs + random.int(0, STEP_MS)))
      }
      return out
    }
    const orderFor = (client: SimClient, closedAt: number): OrderRow => {
      const source = pickSource(random)
      const delivery = random.next() < 0.8 && closedAt >= client.pickupUntil
      if (delivery && (Feedback.rules.sources).includes(source)) client.pickupUntil = closedAt + REVIEW_WINDOW_MS
      return {
        uid: uuidFrom(random),
        client_id: client.id,
        source,
        is_delivery: delivery,
        status: "closed",
        created_at: new Date(closedAt - random.int(20, 90) * 60_000),
        closed_at: new Date(closedAt),
        total: random.int(500, 4000)
      }
    }

    /** What the host does when orders close: the rows, the order bonuses, and `ordersClosed`. */
    const recordOrders = (batch: ReadonlyArray<OrderRow>, viaOrdersClosed: boolean) =>
      batch.length === 0 ? Effect.void : Effect.gen(function*() {
        orders += batch.length
        yield* sql`INSERT INTO jupiter.orders ${sql.insert([...batch])}`
        yield* sql`
          INSERT INTO jupiter.bonus_permanent (client_id, amount, reason, created_at, order_uid)
          SELECT client_id, round(total * ${ORDER_BONUS_SHARE}, 2), 'order', closed_at, uid
          FROM jupiter.orders WHERE uid IN ${sql.in(batch.map((o) => o.uid))}
        `
        if (viaOrdersClosed) {
          yield* ordersClosed(batch.map((o) => o.uid))
        } else {
          // History: the backfill's single statement, as a host does once when installing.
          yield* sql`
            UPDATE jupiter.clients c SET last_order_at = o.closed_at
            FROM (SELECT client_id, max(closed_at) AS closed_at FROM jupiter.orders
                  WHERE status = 'closed' GROUP BY client_id) o
            WHERE c.id = o.client_id AND c.last_order_at IS DISTINCT FROM o.closed_at
          `
        }
      })

    // History: whole days before the start, recorded at once.
    const history: Array<OrderRow> = []
    for (let t = startMs - options.historyDays * DAY_MS; t < startMs; t += STEP_MS) history.push(...ordersIn(t))
    for (let i = 0; i < history.length; i += 5000) {
      yield* recordOrders(history.slice(i, i + 5000), false)
    }

    // Reactions decided from what the Site delivered, waiting for their moment.
    let reactions: Array<Reaction> = []
    const decided: Array<{ kind: KindName; action: number }> = []
    let seen = 0
    const react = (sms: ReceivedSms, sentMs: number) => {
      const client = byPhone.get(sms.phones)
      const what = classify(sms.text)
      if (client === undefined || Option.isNone(what)) return
      const { action, kind } = what.value
      const key = `${kind}|${client.id}|${sentMs}`
      const reacts = Random.uniform(options.seed, key) < TRUE_RATES[kind]![action]!
      // Inside the reaction window the client orders only if they react: the truth stays exact.
      if (kind === "invite" || kind === "birthday") client.quietUntil = Math.max(client.quietUntil, sentMs + 14 * DAY_MS)
      if (!reacts) return
      decided.push({ kind, action })
      // Somewhere within the window, never at its very edges.
      const at = sentMs + 60_000 + Math.floor(Random.uniform(options.seed, `${key}|when`) * (13.5 * DAY_MS))
      if (kind === "invite" || kind === "birthday") reactions.push({ type: "order", at, clientId: client.id })
      else {
        reactions.push({
          type: "accrual",
          at,
          clientId: client.id,
          reason: kind === "feedback" ? Feedback.rules.reactionReason : Profile.rules.reactionReason,
          amount: REACTION_BONUS[`${kind}/${action}`] ?? 100,
          fillsBirthday: kind === "profile"
        })
      }
    }

    const runs: Array<{ job: JobName; summary: JobSummary }> = []
    const sendingEndMs = startMs + options.days * DAY_MS
    const endMs = sendingEndMs + options.windDownDays * DAY_MS
    for (let t = startMs; t < endMs; t += STEP_MS) {
      // What happened in the half hour before t: organic orders, and reactions falling due.
      const dueNow = reactions.filter((r) => r.at < t)
      reactions = reactions.filter((r) => r.at >= t)
      const step = ordersIn(t - STEP_MS)
      for (const r of dueNow) {
        if (r.type === "order") step.push(orderFor(byId.get(r.clientId)!, r.at))
      }
      yield* recordOrders(step, true)
      for (const r of dueNow) {
        if (r.type !== "accrual") continue
        yield* bonus.accrue({ type: "permanent", clientId: String(r.clientId), amount: r.amount, reason: r.reason, at: DateTime.unsafeMake(r.at) })
        if (r.fillsBirthday) {
          yield* sql`UPDATE jupiter.clients SET birthday = ${laterBirthdayOf(random, r.at)} WHERE id = ${r.clientId}`
        }
      }

      const now = DateTime.unsafeMake(t)
      for (const job of due(now, zone)) {
        if (t >= sendingEndMs && job !== "reactions") continue
        runs.push({ job, summary: yield* runJob(job).pipe(withClockAt(now)) })
      }
      const received = yield* site.received
      // Concurrent sends arrive in any order; reacting in a fixed order keeps the run repeatable.
      const fresh = received.slice(seen).sort((a, b) => a.phones.localeCompare(b.phones) || a.text.localeCompare(b.text))
      for (const sms of fresh) react(sms, t)
      seen = received.length
    }

    const received = yield* site.received
    return {
      runs,
      orders,
      received,
      sentByKindAction: tally(received.flatMap((sms) => Option.toArray(classify(sms.text)))),
      simulatedReactions: tally(decided),
      end: DateTime.unsafeMake(endMs)
    } satisfies SimulationResult
  })
