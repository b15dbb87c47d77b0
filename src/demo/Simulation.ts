/**
 * A synthetic chain, simulated in steps of half an hour: clients order (and some stop ordering),
 * the host records closed orders, the jobs run on their schedule against a fake Site on
 * 127.0.0.1, and customers react to what they receive with known probabilities.
 */
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Option } from "effect"
import { BusinessTimeZone, localParts, withClockAt } from "../BusinessTime.ts"
import type { RunSummary } from "../Job.ts"
import * as Jobs from "../Jobs.ts"
import type { KindName } from "../Kind.ts"
import * as Feedback from "../kinds/Feedback.ts"
import type { FakeSite, ReceivedSms } from "./FakeSite.ts"
import * as Random from "./Random.ts"

export interface SimulationOptions {
  readonly seed: number
  readonly clients: number
  /** First simulated day (local midnight in the business zone is taken from it). */
  readonly start: DateTime.Utc
  readonly days: number
  /** Days of order history before the start. */
  readonly historyDays: number
}

const STEP_MINUTES = 30
const STEP_MS = STEP_MINUTES * 60_000
/** Orders close between 10:00 and 23:00 local. */
const OPEN_HOUR = 10
const CLOSE_HOUR = 23
const SOURCES = [
  ["site", 0.3],
  ["app", 0.3],
  ["new_app", 0.15],
  ["jupiter", 0.15],
  ["aggregator", 0.1]
] as const

interface SimClient {
  readonly id: number
  readonly phone: string
  /** Mean closed orders per day while active. */
  readonly rate: number
  /** The day index after which the client stops ordering on its own (lapses). */
  readonly lapsesAfterDay: number
}

export interface KindActionCount {
  readonly kind: KindName
  readonly action: number
  readonly sent: number
}

export interface SimulationResult {
  readonly runs: ReadonlyArray<RunSummary>
  readonly orders: number
  readonly received: ReadonlyArray<ReceivedSms>
  readonly sentByKindAction: ReadonlyArray<KindActionCount>
}

const uuidFrom = (random: Random.Random) => {
  const hex = Array.from({ length: 32 }, () => random.int(0, 16).toString(16)).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const phoneOf = (random: Random.Random, id: number) => {
  const local = `9${String(random.int(0, 1_000_000_000)).padStart(9, "0")}`
  const style = id % 100
  if (style === 0) return `12-${local.slice(0, 4)}` // unusable: the Site cannot take it
  if (style < 40) return `+7 (${local.slice(0, 3)}) ${local.slice(3, 6)}-${local.slice(6, 8)}-${local.slice(8)}`
  if (style < 70) return `8${local}`
  return local
}

const pickSource = (random: Random.Random) => {
  let r = random.next()
  for (const [source, weight] of SOURCES) {
    if (r < weight) return source
    r -= weight
  }
  return "site"
}

/** Which kind and action a received text is, by the kinds' own texts. */
export const classify = (text: string): Option.Option<{ readonly kind: KindName; readonly action: number }> => {
  for (const [action, t] of Object.entries(Feedback.TEXTS)) {
    if (t === text) return Option.some({ kind: "feedback", action: Number(action) })
  }
  return Option.none()
}

/** The jobs due at a local wall-clock time (the schedule of SPEC). */
const dueAt = (hour: number, minute: number): ReadonlyArray<KindName> =>
  minute === 0 && hour >= 11 && hour <= 22 ? ["feedback"] : []

export const simulate = (options: SimulationOptions, site: FakeSite) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { zone } = yield* BusinessTimeZone
    const random = Random.make(options.seed)
    const dayMs = 86_400_000
    const startMs = DateTime.toEpochMillis(DateTime.startOf(DateTime.setZone(options.start, zone), "day"))

    const clients: Array<SimClient> = Array.from({ length: options.clients }, (_, i) => {
      const id = i + 1
      return {
        id,
        phone: phoneOf(random, id),
        rate: 0.02 + random.next() * 0.12,
        // A third of the clients stop ordering at some point in the history or the simulation.
        lapsesAfterDay: random.next() < 0.35
          ? random.int(-options.historyDays, options.days)
          : Number.POSITIVE_INFINITY
      }
    })
    yield* sql`INSERT INTO jupiter.clients ${sql.insert(clients.map((c) => ({ id: c.id, phone: c.phone })))}`

    let orders = 0
    /** Orders closing in [from, from + span), as rows, for the active clients. */
    const ordersIn = (fromMs: number, spanMs: number) => {
      const rows: Array<{ uid: string; client_id: number; source: string; is_delivery: boolean; status: string; closed_at: Date; total: number }> = []
      const hour = localParts(DateTime.unsafeMake(fromMs), zone).hours
      if (hour < OPEN_HOUR || hour >= CLOSE_HOUR) return rows
      const day = Math.floor((fromMs - startMs) / dayMs)
      const slotsPerDay = ((CLOSE_HOUR - OPEN_HOUR) * 60) / STEP_MINUTES
      for (const c of clients) {
        if (day > c.lapsesAfterDay) continue
        if (random.next() < c.rate / slotsPerDay * (spanMs / STEP_MS)) {
          rows.push({
            uid: uuidFrom(random),
            client_id: c.id,
            source: pickSource(random),
            is_delivery: random.next() < 0.8,
            status: "closed",
            closed_at: new Date(fromMs + random.int(0, spanMs)),
            total: random.int(500, 4000)
          })
        }
      }
      return rows
    }
    const recordOrders = (rows: ReturnType<typeof ordersIn>) =>
      rows.length === 0 ? Effect.void : Effect.gen(function*() {
        orders += rows.length
        yield* sql`INSERT INTO jupiter.orders ${sql.insert(rows)}`
        // What the host does when orders close: the client's last order time moves forward.
        yield* sql`
          UPDATE jupiter.clients c SET last_order_at = GREATEST(c.last_order_at, o.closed_at)
          FROM (SELECT client_id, max(closed_at) AS closed_at FROM jupiter.orders
                WHERE uid IN ${sql.in(rows.map((r) => r.uid))} GROUP BY client_id) o
          WHERE c.id = o.client_id
        `
      })

    // History: whole days before the start, each day in one batch.
    for (let day = -options.historyDays; day < 0; day++) {
      const dayStart = startMs + day * dayMs
      const rows: Array<ReturnType<typeof ordersIn>[number]> = []
      for (let t = dayStart; t < dayStart + dayMs; t += STEP_MS) rows.push(...ordersIn(t, STEP_MS))
      yield* recordOrders(rows)
    }

    const runs: Array<RunSummary> = []
    const endMs = startMs + options.days * dayMs
    for (let t = startMs; t < endMs; t += STEP_MS) {
      yield* recordOrders(ordersIn(t - STEP_MS, STEP_MS))
      const { hours, minutes } = localParts(DateTime.unsafeMake(t), zone)
      for (const kind of dueAt(hours, minutes)) {
        runs.push(yield* Jobs.run(kind).pipe(withClockAt(DateTime.unsafeMake(t))))
      }
    }

    const received = yield* site.received
    const counts = new Map<string, KindActionCount>()
    for (const sms of received) {
      const c = classify(sms.text)
      if (Option.isNone(c)) continue
      const key = `${c.value.kind}/${c.value.action}`
      const prev = counts.get(key)
      counts.set(key, { ...c.value, sent: (prev?.sent ?? 0) + 1 })
    }
    return {
      runs,
      orders,
      received,
      sentByKindAction: [...counts.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.action - b.action)
    } satisfies SimulationResult
  })
