/**
 * The simulated truth of every message, from the causal model (Behaviour.ts): the chance that its
 * 14-day window sees its event (what the report's rate estimates) and the chance it would have
 * without any message (the organic part); their difference is what the messages caused.
 *
 * A message's window sees no event when there is no organic one, no caused one of its own and none
 * caused by another message of the same channel: P(none) = P(no organic) × (1 − c) × Π over the
 * client's other messages (1 − the chance their caused event falls in this window, given what was
 * known at the send). So the truth includes the overlap: an invite and a greeting open at once are
 * both credited with one order by the "first event after the message" rule (C7), and each one's
 * true rate counts the other's caused order too. The messages are taken as they were sent.
 */
import type { BuiltInKindName as KindName } from "../kinds/Kinds.ts"
import {
  CAUSED,
  CAUSED_SPAN_MS,
  type Channel,
  CHANNEL,
  EVENT_OFFSET_MS,
  organicFillChance,
  organicOrderChance,
  organicReviewChance,
  STEP_MS,
  WINDOW_MS
} from "./Behaviour.ts"
import type { Calendar, SimClient } from "./World.ts"

export interface SentMessage {
  readonly id: string
  readonly kind: KindName
  readonly band: string | null
  readonly action: number
  readonly clientId: number
  /** What the message answers (the notification's trigger): its caused event is drawn from it. */
  readonly trigger: string
  /** The instant of the run that sent it; its caused event falls from there plus the offset. */
  readonly stepMs: number
  readonly sentMs: number
}

export interface MessageTruth extends SentMessage {
  /** The chance of the event within the window: what the report's rate estimates. */
  readonly rate: number
  /** The chance of it without any message: the organic part. */
  readonly organic: number
  /** Whether the window saw the event: what the reaction job must find. */
  readonly reacted: boolean
}

const eventsOf = (client: SimClient, channel: Channel): ReadonlyArray<number> =>
  channel === "order" ? client.orders : channel === "review" ? client.reviews : client.filledAt === null ? [] : [client.filledAt]

const anyIn = (events: ReadonlyArray<number>, after: number, until: number) => events.some((t) => t > after && t <= until)

/** Length of [a1, a2) ∩ (b1, b2]. */
const overlap = (a1: number, a2: number, b1: number, b2: number) => Math.max(0, Math.min(a2, b2) - Math.max(a1, b1))

/** P(no organic event of the channel in (sent, sent + 14 days]), given the client's state at the send. */
const organicNone = (calendar: Calendar, client: SimClient, channel: Channel, sentMs: number): number => {
  const end = sentMs + WINDOW_MS
  // A half hour's chance is drawn from the last order before it starts; after the send, with no
  // event in the window, that is the last order up to the send.
  const lastBefore = (t: number) => client.orders.filter((o) => o < t).at(-1)!
  let none = 1
  for (let slot = calendar.slotOf(sentMs); slot <= end; slot += STEP_MS) {
    if (!calendar.isOpen(slot)) continue
    const share = overlap(slot + EVENT_OFFSET_MS, slot + STEP_MS, sentMs, end) / (STEP_MS - EVENT_OFFSET_MS)
    if (share <= 0) continue
    const chance = channel === "order"
      ? organicOrderChance(slot - lastBefore(Math.min(slot, sentMs + 1)))
      : channel === "review"
      ? organicReviewChance
      : organicFillChance
    none *= 1 - chance * share
  }
  return none
}

/**
 * The chance that another message's caused event lands in (from, until], given what was known at
 * `from`: nothing yet if an event of the channel came since it (it has nothing left to cause), and
 * otherwise conditioned on its caused event not having come before `from`.
 */
const otherCauses = (other: SentMessage, events: ReadonlyArray<number>, from: number, until: number): number => {
  const chance = CAUSED[other.kind][other.action] ?? 0
  const start = other.stepMs + EVENT_OFFSET_MS
  const inWindow = overlap(start, start + CAUSED_SPAN_MS, from, until) / CAUSED_SPAN_MS
  if (inWindow === 0 || chance === 0) return 0
  if (other.sentMs >= from) return chance * inWindow
  if (anyIn(events, other.sentMs, from)) return 0
  const before = overlap(start, start + CAUSED_SPAN_MS, -Infinity, from) / CAUSED_SPAN_MS
  return (chance * inWindow) / (1 - chance * before)
}

/** The truth of every message. */
export const truthOf = (
  calendar: Calendar,
  byId: (id: number) => SimClient,
  messages: ReadonlyArray<SentMessage>
): ReadonlyArray<MessageTruth> => {
  const byClient = new Map<string, Array<SentMessage>>()
  for (const m of messages) {
    const key = `${m.clientId}|${CHANNEL[m.kind]}`
    byClient.set(key, [...(byClient.get(key) ?? []), m])
  }
  return messages.map((m) => {
    const channel = CHANNEL[m.kind]
    const client = byId(m.clientId)
    const events = eventsOf(client, channel)
    const end = m.sentMs + WINDOW_MS
    const organic = organicNone(calendar, client, channel, m.sentMs)
    let none = organic * (1 - (CAUSED[m.kind][m.action] ?? 0))
    for (const other of byClient.get(`${m.clientId}|${channel}`)!) {
      if (other.id !== m.id) none *= 1 - otherCauses(other, events, m.sentMs, end)
    }
    return { ...m, rate: 1 - none, organic: 1 - organic, reacted: anyIn(events, m.sentMs, end) }
  })
}

export interface GroupTruth {
  readonly kind: KindName
  readonly band: string | null
  readonly action: number
  readonly messages: number
  /** The mean true rate of the group's messages. */
  readonly rate: number
  /** The mean true uplift: rate minus the organic chance. */
  readonly uplift: number
  /** Reactions the simulated world produced (the reaction job must find exactly these). */
  readonly reacted: number
}

/** The truth per kind, band and performed action: means over the messages. */
export const byGroup = (truths: ReadonlyArray<MessageTruth>): ReadonlyArray<GroupTruth> => {
  const groups = new Map<string, Array<MessageTruth>>()
  for (const t of truths) {
    const key = `${t.kind}|${t.band ?? ""}|${t.action}`
    groups.set(key, [...(groups.get(key) ?? []), t])
  }
  return [...groups.values()].map((ts) => ({
    kind: ts[0]!.kind,
    band: ts[0]!.band,
    action: ts[0]!.action,
    messages: ts.length,
    rate: ts.reduce((s, t) => s + t.rate, 0) / ts.length,
    uplift: ts.reduce((s, t) => s + t.rate - t.organic, 0) / ts.length,
    reacted: ts.filter((t) => t.reacted).length
  }))
}
