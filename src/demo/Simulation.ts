/**
 * A synthetic chain under one causal model (Behaviour.ts), simulated in steps of half an hour:
 * first a year and more of order history (written in bulk), then weeks in which every job runs on
 * its real schedule against a fake Site on 127.0.0.1, the host records closed orders
 * (`ordersClosed`) and the app its accruals, and every message sent adds its declared chance of
 * its event; then days with only the reaction job, until every window has closed. The clients
 * order on their own by the same process throughout, whether or not a message is open.
 *
 * The result holds every message with its truth (Truth.ts): the chance of its event within its
 * window, and the chance without any message.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { DateTime, Effect, Schema } from "effect"
import type { BuiltInKindName as KindName } from "../kinds/Kinds.ts"
import * as Rows from "../store/Rows.ts"
import { due, type JobName } from "../scheduling/Schedule.ts"
import { type JobSummary, runJob } from "../scheduling/Scheduler.ts"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import { withClockAt } from "../time/ShiftedClock.ts"
import {
  BIRTHDAY_ON_FILE_SHARE,
  CAUSED,
  CHANNEL,
  DAY_MS,
  EVENT_OFFSET_MS,
  REVIEW_BONUS,
  stationaryAgeSampler,
  STEP_MS,
  WINDOW_MS
} from "./Behaviour.ts"
import type { FakeSite, ReceivedSms } from "./FakeSite.ts"
import * as Random from "./Random.ts"
import { insertClients, recordHistory, recordStep, rowsOf } from "./Records.ts"
import { birthdayOf, phoneOf } from "./Synthetic.ts"
import { type MessageTruth, type SentMessage, truthOf } from "./Truth.ts"
import { type Cause, causeOf, type Happening, makeCalendar, makeWorld, type SimClient } from "./World.ts"

export interface SimulationOptions {
  readonly seed: number
  readonly clients: number
  /** First simulated day (its local midnight in the business zone). */
  readonly start: DateTime.Utc
  /** Days on which the message jobs run. */
  readonly days: number
  /** Days after those, with only the reaction job, so every message's 14-day window closes. */
  readonly windDownDays: number
  /** Days of order history before the start (the birthday's baseline looks a year back). */
  readonly historyDays: number
}

export interface SimulationResult {
  readonly runs: ReadonlyArray<{ readonly job: JobName; readonly summary: JobSummary }>
  /** Closed orders in the history and while the messages ran. */
  readonly orders: { readonly history: number; readonly period: number }
  readonly received: ReadonlyArray<ReceivedSms>
  /** Every message sent, with its truth. */
  readonly messages: ReadonlyArray<MessageTruth>
  /** Events the messages caused, per kind, band and action (`causedKey`). */
  readonly caused: Readonly<Record<string, number>>
  readonly end: DateTime.Utc
  /** The end of the days on which the message jobs ran: every message was sent before it. */
  readonly sendingEnd: DateTime.Utc
}

export const causedKey = (kind: string, band: string | null, action: number) => `${kind}|${band ?? ""}|${action}`

const Sent = Schema.Struct({
  id: Rows.Id,
  kind: Schema.String,
  actionSet: Schema.String,
  action: Rows.Int,
  clientId: Rows.Id,
  trigger: Schema.String,
  sentAt: Rows.Instant
})
const decodeSent = Rows.decodeRows(Sent)

const isKind = (kind: string): kind is KindName => kind in CAUSED

/** A sent notification as the simulation knows it; null for a kind it does not simulate. */
const messageOf = (n: typeof Sent.Type, stepMs: number): SentMessage | null =>
  isKind(n.kind)
    ? {
      id: n.id,
      kind: n.kind,
      band: n.actionSet.includes(":") ? n.actionSet.slice(n.actionSet.indexOf(":") + 1) : null,
      action: n.action,
      clientId: Number(n.clientId),
      trigger: n.trigger,
      stepMs,
      sentMs: n.sentAt.getTime()
    }
    : null

/** The notifications the Site accepted since `afterId`: what reached the customers. */
const sentSince = (afterId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      SELECT id::text AS id, kind, action_set AS "actionSet", performed_action AS action,
             client_id::text AS "clientId", trigger_key AS trigger, sent_at AS "sentAt"
      FROM pronto_notify.notifications
      WHERE status = 'sent' AND id > ${afterId}::bigint
      ORDER BY notifications.id
    `.pipe(Effect.flatMap(decodeSent)))

export const simulate = (options: SimulationOptions, site: FakeSite) =>
  Effect.gen(function*() {
    const { zone } = yield* BusinessTimeZone
    const startMs = DateTime.toEpochMillis(DateTime.startOf(DateTime.setZone(options.start, zone), "day"))
    const originMs = startMs - options.historyDays * DAY_MS
    const sendingEndMs = startMs + options.days * DAY_MS
    const endMs = sendingEndMs + options.windDownDays * DAY_MS
    const calendar = makeCalendar(originMs - DAY_MS, endMs + WINDOW_MS + DAY_MS, zone)
    const random = Random.make(options.seed)
    const details = Random.make(options.seed ^ 0x68e31da4)

    // Every client has ordered before the history starts (that made them a client), as long ago
    // as the organic process puts a random client's last order.
    const ageOf = stationaryAgeSampler()
    const clients: Array<SimClient> = Array.from({ length: options.clients }, (_, i) => {
      const first = originMs - ageOf(random.next()) * DAY_MS - random.int(2, 11) * 3_600_000
      return {
        id: i + 1,
        phone: phoneOf(random, i + 1),
        birthday: random.next() < BIRTHDAY_ON_FILE_SHARE ? birthdayOf(random) : null,
        orders: [first],
        reviews: [],
        filledAt: null,
        nextReview: 0,
        nextFill: 0
      }
    })
    yield* insertClients(clients)
    const world = makeWorld(options.seed, clients, calendar)

    // The history: the same process, written at once (the first orders, already in the clients'
    // lists, with it).
    const history: Array<Happening> = clients.map((c) => ({ type: "order", client: c, at: c.orders[0]!, cause: null }))
    for (let t = originMs; t < startMs; t += STEP_MS) history.push(...world.step(t, []))
    const historyRows = rowsOf(details, history)
    yield* recordHistory(historyRows)

    let causes: Array<Cause> = []
    const caused: Record<string, number> = {}
    const messages: Array<SentMessage> = []
    let lastId = "0"
    let periodOrders = 0
    const runs: Array<{ job: JobName; summary: JobSummary }> = []
    // Events wait to be written until a job is due: the library sees what the host recorded by then.
    let unrecorded: Array<Happening> = []
    const record = Effect.suspend(() => {
      const rows = rowsOf(details, unrecorded)
      unrecorded = []
      periodOrders += rows.orders.length
      return recordStep(rows)
    })
    for (let t = startMs; t < endMs; t += STEP_MS) {
      // The half hour before t: the events of the world.
      const dueNow = causes.filter((c) => c.at < t)
      causes = causes.filter((c) => c.at >= t)
      const happenings = world.step(t - STEP_MS, dueNow)
      for (const { cause } of happenings) {
        if (cause === null) continue
        const key = causedKey(cause.kind, cause.band, cause.action)
        caused[key] = (caused[key] ?? 0) + 1
      }
      unrecorded.push(...happenings)

      const now = DateTime.unsafeMake(t)
      const jobs = due(now, zone).filter((job) => t < sendingEndMs || job === "reactions")
      if (jobs.length > 0) yield* record
      for (const job of jobs) runs.push({ job, summary: yield* runJob(job, now).pipe(withClockAt(now)) })
      if (jobs.every((job) => job === "reactions")) continue
      // What reached the customers: each message draws its caused event.
      for (const n of yield* sentSince(lastId)) {
        lastId = n.id
        const message = messageOf(n, t)
        if (message === null) continue
        if (message.sentMs >= t + EVENT_OFFSET_MS) {
          return yield* Effect.dieMessage(
            `a run at ${DateTime.formatIso(now)} sent a message only at ${n.sentAt.toISOString()}: the simulation's events ` +
              "assume the runs of a step send within its first ten minutes"
          )
        }
        messages.push(message)
        const channel = CHANNEL[message.kind]
        const bonus = channel === "review" ? REVIEW_BONUS[message.action] ?? 0 : 0
        const cause = causeOf(options.seed, message, CAUSED[message.kind][message.action] ?? 0, channel, bonus)
        if (cause !== null) causes.push(cause)
      }
    }
    yield* record

    return {
      runs,
      orders: { history: historyRows.orders.length, period: periodOrders },
      received: yield* site.received,
      messages: truthOf(calendar, world.byId, messages),
      caused,
      end: DateTime.unsafeMake(endMs),
      sendingEnd: DateTime.unsafeMake(sendingEndMs)
    } satisfies SimulationResult
  })
