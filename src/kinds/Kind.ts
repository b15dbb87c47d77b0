/**
 * What a notification kind is: one definition that holds everything about it, and the words the
 * whole library uses for its parts.
 *
 * Glossary
 * - **kind**: one sort of message (`feedback`, `invite`, `profile`, `birthday`): who gets it, what
 *   it says, what is done with it, when it runs and what counts as the customer's reaction.
 * - **action**: one variant of a kind's message with what comes with it (a gift, a discount),
 *   numbered from 1. The notification records the action chosen and the action performed (they
 *   differ only when an action falls back to another).
 * - **action set**: the actions that rotate under one counter (C2): a kind, or one band of a kind
 *   (`invite:A`, `invite:B`). The rotation gives the set's turns 0, 1, 2, … the actions 1 … n, 1 ….
 * - **band**: the part of a kind's candidates that has an action set of its own (invite's A and B);
 *   the report measures each band apart.
 * - **trigger**: what one message answers: the order, the lapse, the month, the birthday's year.
 *   A kind sends at most one message per trigger, ever (C10).
 * - **candidate**: a client who should get a message now, with its trigger and action set.
 * - **slot**: a scheduled instant of a job; a job runs once per slot (scheduling).
 * - **mark**: what records that a trigger was notified, so the selector leaves it out: the order's
 *   mark, the client's invite lapse, profile month and birthday year.
 * - **attempt**: a notification recorded (`in_doubt`) and committed before its message is posted;
 *   the transaction that performs its actions flips it to `sent`.
 * - **in doubt**: an attempt whose delivery nobody knows (a timeout, a dropped connection, a
 *   crash): never sent again automatically; an operator settles it.
 * - **reaction**: what the customer did in answer: a closed order, or an accrual with the kind's
 *   reason (a review, a filled-in birthday), within the window.
 * - **window**: the 14 days after sending in which a reaction counts (C7). (A slot's *catch-up
 *   window* is the scheduling's, and always named in full.)
 */
import type { SqlClient, SqlError, Statement } from "@effect/sql"
import { Context, Data, type DateTime, type Duration, type Effect, Layer, Schema, type Stream } from "effect"
import type { BonusServer } from "../bonus/BonusServer.ts"
import type { Notifications } from "../store/Notifications.ts"
import * as KeysetPages from "../store/KeysetPages.ts"
import * as Rows from "../store/Rows.ts"
import type { BusinessTimeZone } from "../time/BusinessTime.ts"

/** A client id as the host stores it (`jupiter.clients.id`, bigint): digits, exact past 2^53. */
export type ClientId = string

/** A notification id (`pronto_notify.notifications.id`, bigint): digits. */
export type NotificationId = string

/** Someone who should get a message now, and the trigger it answers. */
export const Candidate = Schema.Struct({
  /** Selected as `id::text`. */
  clientId: Rows.Id,
  /** As stored by the host; normalised before sending. */
  phone: Schema.String,
  orderUid: Schema.NullOr(Schema.String),
  /** The action set (rotation counter) this candidate draws from: the kind, or the kind and band. */
  actionSet: Schema.String,
  /** What the message is for: the order, the lapse, the month or the birthday year. */
  trigger: Schema.String
})
export type Candidate = typeof Candidate.Type

/** Rows per page of a selector's keyset paging. */
export const PAGE_SIZE = 1_000

/**
 * Rows per page of the selectors that pick clients. No index yields their candidates in page
 * order (band then id; clients with an order in a month, by id), so each page reads the whole
 * range again (the lapsed clients, sorted by band) and costs about the same whatever its length:
 * they read fewer, larger pages, one for a typical run. A page of 50,000 candidates holds about
 * 12 MB, twice that while it is decoded (README, "Selection at scale").
 */
export const CLIENT_PAGE_SIZE = 50_000

/**
 * A selector's candidates, read in keyset pages (`store/KeysetPages`): `page(after, limit)` is one
 * statement that selects, in the kind's fixed order, the first `limit` rows satisfying `after`
 * (`true`, then `resume(key)` of the last row read); every row carries its key's columns, which
 * `key` decodes. A run holds no cursor, and rows it has handled are never read twice.
 */
export const keysetPages = <K, I>(
  sql: SqlClient.SqlClient,
  key: Schema.Schema<K, I>,
  resume: (key: K) => Statement.Fragment,
  page: (after: Statement.Fragment, limit: number) => Effect.Effect<ReadonlyArray<unknown>, SqlError.SqlError>,
  size: number = PAGE_SIZE
): Stream.Stream<Candidate, SqlError.SqlError> =>
  KeysetPages.stream({ sql, row: Candidate, key, size, resume, page })

/** What an action will do and send, decided before the attempt is recorded. */
export interface ActionPlan {
  readonly performedAction: number
  readonly text: string
}

/** An action could not be carried out (the bonus server refused, say); nothing was sent. */
export class ActionFailed extends Schema.TaggedError<ActionFailed>()("ActionFailed", {
  kind: Schema.String,
  action: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return `${this.kind} action ${this.action} failed: ${this.reason}`
  }
}

export type ActionError = SqlError.SqlError | ActionFailed

/** Who gets a message: candidates at an instant, in the kind's fixed order (C2), streamed (`keysetPages`). */
export class Selector extends Context.Tag("pronto-notify/Selector")<Selector, {
  readonly candidates: (at: DateTime.Utc) => Stream.Stream<Candidate, SqlError.SqlError>
}>() {}

/** What is done and sent for a candidate whose action the rotation chose. */
export class ActionStrategy extends Context.Tag("pronto-notify/ActionStrategy")<ActionStrategy, {
  /** Decides what will be done and sent (may read, never writes). */
  readonly plan: (candidate: Candidate, chosenAction: number, at: DateTime.Utc) => Effect.Effect<ActionPlan, ActionError>
  /** Does it, inside the notification's transaction: accruals and marks. */
  readonly perform: (
    candidate: Candidate,
    plan: ActionPlan,
    notificationId: NotificationId,
    at: DateTime.Utc
  ) => Effect.Effect<void, ActionError>
}>() {}

/** What a kind's Selector and ActionStrategy may use. */
export type KindRequirements = SqlClient.SqlClient | BusinessTimeZone | BonusServer | Notifications

/** An action set of a kind: its rotation counter, the band it stands for, how many actions rotate. */
export interface ActionSet {
  readonly name: string
  /** The band in the report; null when the kind has a single action set. */
  readonly band: string | null
  readonly actions: number
}

/** What counts as the customer's reaction to a kind's message (C7). */
export type ReactionRule = Data.TaggedEnum<{
  /** The client's first closed order after the message. */
  ClosedOrder: {}
  /** The client's first bonus accrual with this reason after the message (the app accrues it). */
  Accrual: { readonly reason: string }
}>
export const ReactionRule = Data.taggedEnum<ReactionRule>()

/** When a kind's job runs: a cron in the business time zone, and how late a missed slot may still run. */
export interface Timing {
  /** Five fields (minute hour day-of-month month day-of-week), read in the business time zone. */
  readonly cron: string
  /** The same, in words. */
  readonly words: string
  /** How long after a slot a process that missed it still runs it. */
  readonly catchUp: Duration.Duration
  readonly catchUpWords: string
}

/** What a baseline query gets from the report. */
export interface BaselineContext {
  /** The business time zone's IANA name. */
  readonly tz: string
  /** The report's period as a condition on an instant column. */
  readonly inPeriod: (column: string) => Statement.Fragment
  /** The reaction window (C7) as an SQL interval. */
  readonly window: Statement.Fragment
}

/**
 * What a baseline query found for one action set: its reference days and what was observed on
 * them, in one row per stratum when the method stratifies (each with how many of the action set's
 * decided messages of the report's period fall in it, the weights of the standardization).
 */
export const BaselineObservations = Schema.Struct({
  actionSet: Schema.String,
  /** Business-zone dates (selected as text), inclusive; null when there are no reference days. */
  fromDay: Schema.NullOr(Schema.String),
  toDay: Schema.NullOr(Schema.String),
  /** The stratum, ordered so that neighbours are alike; 0 for a method without strata. */
  stratum: Rows.Int,
  observations: Rows.Int,
  /** Of those, how many reacted (closed an order) within the window. */
  ordered: Rows.Int,
  /** The action set's decided messages in the period in this stratum; 0 for a method without strata. */
  messaged: Rows.Int
})
export type BaselineObservations = typeof BaselineObservations.Type

/**
 * How the report estimates a kind's reaction rate without its message, from times no message was
 * sent (there is no holdout): the same selection rule applied to earlier days, observing the
 * population the messages reach. A method may stratify its observations by something that moves
 * the rate (how recently the client ordered, say) and weight them to the messaged clients' mix.
 */
export interface BaselineMethod {
  /** How it is computed, in words, for one action set. */
  readonly describe: (actionSet: ActionSet) => string
  /** What the strata are, in words ("the time since the client's last closed order"); none without strata. */
  readonly stratifiedBy?: string | undefined
  /** Why there is no baseline when there are no reference days. */
  readonly unavailable: string
  readonly observe: (
    context: BaselineContext
  ) => Effect.Effect<ReadonlyArray<BaselineObservations>, SqlError.SqlError, SqlClient.SqlClient>
}

/** Strata given by their lower bounds, in words: "0 to 6, 7 to 13, 14 days and more". */
export const strataInWords = (lowerBounds: ReadonlyArray<number>): string =>
  lowerBounds.map((low, i) => {
    const next = lowerBounds[i + 1]
    return next === undefined ? `${low} days and more` : next - 1 === low ? `${low}` : `${low} to ${next - 1}`
  }).join(", ")

/** The definition of a kind: everything it is, in one value. */
export interface Kind<Name extends string = string, Rules = unknown> {
  readonly name: Name
  readonly schedule: Timing
  /** In the order the selector yields them (invite: band A before band B). */
  readonly actionSets: ReadonlyArray<ActionSet>
  /** Texts, amounts, reasons and thresholds: constants (C12). */
  readonly rules: Rules
  readonly reaction: ReactionRule
  readonly selector: Layer.Layer<Selector, never, KindRequirements>
  readonly actions: Layer.Layer<ActionStrategy, never, KindRequirements>
  /** How the report estimates its rate without the message; none when it has no such estimate. */
  readonly baseline?: BaselineMethod | undefined
  /** What the report says under the kind's figures, if anything. */
  readonly reportNote?: string | undefined
  /** The selector and the action strategy together, as the engine runs them. */
  readonly layer: Layer.Layer<Selector | ActionStrategy, never, KindRequirements>
}

/** A kind of any name and rules. */
export type AnyKind = Kind<string, unknown>

/** Defines a kind. */
export const make = <const Name extends string, const Rules>(
  definition: Omit<Kind<Name, Rules>, "layer">
): Kind<Name, Rules> =>
  Object.freeze({ ...definition, layer: Layer.merge(definition.selector, definition.actions) })
