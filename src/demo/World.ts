/**
 * The simulated clients and what they do, half hour by half hour (Behaviour.ts): their organic
 * orders and accruals, and the events the messages cause. The same `step` runs the order history
 * and the weeks the messages run; only what is done with its events differs (Simulation.ts).
 */
import { DateTime } from "effect"
import { localParts } from "../time/BusinessTime.ts"
import {
  CAUSED_SPAN_MS,
  type Channel,
  CLOSE_HOUR,
  EVENT_OFFSET_MS,
  OPEN_HOUR,
  organicFillChance,
  organicOrderChance,
  organicReviewChance,
  STEP_MS
} from "./Behaviour.ts"
import * as Random from "./Random.ts"

export interface SimClient {
  readonly id: number
  readonly phone: string
  birthday: string | null
  /** Close instants of every order (organic and caused), ascending; the first is before the history. */
  readonly orders: Array<number>
  /** Instants of every review accrual, ascending. */
  readonly reviews: Array<number>
  /** When the birthday was filled in (an accrual with reason `profile`), if it was. */
  filledAt: number | null
  /** The open half hour (counted from the origin) of the next organic review, and of the next fill. */
  nextReview: number
  nextFill: number
}

export const lastOrder = (c: SimClient): number => c.orders[c.orders.length - 1]!

/** A message's caused event, waiting for its moment. */
export interface Cause {
  readonly kind: string
  readonly band: string | null
  readonly action: number
  readonly channel: Channel
  readonly clientId: number
  readonly sentMs: number
  readonly at: number
  /** For a review: the bonus the app accrues. */
  readonly amount: number
}

/** An event of the world: an order, a review, a birthday filled in; `cause` is the message's, or null for an organic one. */
export interface Happening {
  readonly type: "order" | "review" | "fill"
  readonly client: SimClient
  readonly at: number
  readonly cause: Cause | null
}

/** Which half hours are opening hours, from the origin (a local midnight) on: the business zone's clock. */
export interface Calendar {
  readonly originMs: number
  readonly isOpen: (slotStartMs: number) => boolean
  /** The start of the half hour holding an instant. */
  readonly slotOf: (ms: number) => number
}

export const makeCalendar = (originMs: number, endMs: number, zone: DateTime.TimeZone): Calendar => {
  const slots = Math.ceil((endMs - originMs) / STEP_MS) + 1
  const open = new Uint8Array(slots)
  for (let i = 0; i < slots; i++) {
    const hour = localParts(DateTime.unsafeMake(originMs + i * STEP_MS), zone).hours
    open[i] = hour >= OPEN_HOUR && hour < CLOSE_HOUR ? 1 : 0
  }
  const slotOf = (ms: number) => originMs + Math.floor((ms - originMs) / STEP_MS) * STEP_MS
  return { originMs, slotOf, isOpen: (start) => open[Math.round((start - originMs) / STEP_MS)] === 1 }
}

/** Open half hours until the next event of a constant chance per open half hour (at least 1). */
const geometric = (random: Random.Random, chance: number) =>
  1 + Math.floor(Math.log(1 - random.next()) / Math.log(1 - chance))

export interface World {
  readonly clients: ReadonlyArray<SimClient>
  readonly byId: (id: number) => SimClient
  /**
   * The events of the half hour starting at `slotStart`: the organic ones (orders drawn from each
   * client's time since the last order at its start) and the caused ones falling in it, in time
   * order; a caused event happens only if nothing of its channel happened since its message.
   */
  readonly step: (slotStart: number, causes: ReadonlyArray<Cause>) => ReadonlyArray<Happening>
}

export const makeWorld = (
  seed: number,
  clients: ReadonlyArray<SimClient>,
  calendar: Calendar
): World => {
  const random = Random.make(seed ^ 0x2545f491)
  const byId = new Map(clients.map((c) => [c.id, c]))
  for (const c of clients) {
    c.nextReview = geometric(random, organicReviewChance)
    c.nextFill = geometric(random, organicFillChance)
  }
  let openSlots = 0
  const within = (slotStart: number) => slotStart + EVENT_OFFSET_MS + random.int(0, STEP_MS - EVENT_OFFSET_MS)

  const happened = (h: Happening): boolean => {
    const c = h.client
    if (h.type === "order") c.orders.push(h.at)
    else if (h.type === "review") c.reviews.push(h.at)
    else if (c.birthday === null && c.filledAt === null) c.filledAt = h.at
    else return false
    return true
  }
  const since = (c: SimClient, channel: Channel, sentMs: number): boolean =>
    channel === "order"
      ? lastOrder(c) > sentMs
      : channel === "review"
      ? (c.reviews[c.reviews.length - 1] ?? -Infinity) > sentMs
      : c.birthday !== null || c.filledAt !== null

  return {
    clients,
    byId: (id) => byId.get(id)!,
    step: (slotStart, causes) => {
      const candidates: Array<Happening> = []
      if (calendar.isOpen(slotStart)) {
        openSlots++
        for (const c of clients) {
          const draw = random.next()
          if (draw < organicOrderChance(slotStart - lastOrder(c))) {
            candidates.push({ type: "order", client: c, at: within(slotStart), cause: null })
          }
          if (c.nextReview === openSlots) {
            candidates.push({ type: "review", client: c, at: within(slotStart), cause: null })
            c.nextReview += geometric(random, organicReviewChance)
          }
          if (c.nextFill === openSlots) {
            candidates.push({ type: "fill", client: c, at: within(slotStart), cause: null })
            c.nextFill += geometric(random, organicFillChance)
          }
        }
      }
      const caused = causes.map((cause): Happening => ({
        type: cause.channel === "profile" ? "fill" : cause.channel,
        client: byId.get(cause.clientId)!,
        at: cause.at,
        cause
      }))
      return [...candidates, ...caused]
        .sort((a, b) => a.at - b.at || a.client.id - b.client.id)
        .filter((h) => !(h.cause !== null && since(h.client, h.cause.channel, h.cause.sentMs)) && happened(h))
    }
  }
}

/**
 * A message's caused event, if its chance comes up: drawn from the message's trigger and timed from
 * the run that sent it, so it is the same on every run of the simulation, whatever the wall clock.
 */
export const causeOf = (
  seed: number,
  message: {
    readonly kind: string
    readonly band: string | null
    readonly action: number
    readonly clientId: number
    readonly trigger: string
    readonly stepMs: number
    readonly sentMs: number
  },
  chance: number,
  channel: Channel,
  amount: number
): Cause | null => {
  const key = `${message.kind}|${message.trigger}`
  if (Random.uniform(seed, key) >= chance) return null
  const at = message.stepMs + EVENT_OFFSET_MS + Math.floor(Random.uniform(seed, `${key}|when`) * CAUSED_SPAN_MS)
  const { action, band, clientId, kind, sentMs } = message
  return { kind, band, action, channel, clientId, sentMs, at, amount }
}
