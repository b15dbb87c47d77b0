/**
 * What a notification kind is: one value that holds everything about it (its texts and amounts,
 * its schedule, who gets it, what is done for it and what counts as the customer's reaction), and
 * the words the whole library uses for its parts. A kind is data and functions: the engine calls
 * `select`, `plan` and `perform`, whose requirements are in their types.
 *
 * Glossary
 * - **kind**: one sort of message (`feedback`, `invite`, `profile`, `birthday`).
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
 *   mark, the client's invite lapse, profile month and birthday year (kinds/Marks).
 * - **attempt**: a notification recorded (`in_doubt`) and committed before its message is posted;
 *   the message's transaction performs its actions and flips it to `sent` (engine/Message).
 * - **in doubt**: an attempt whose delivery nobody knows (a timeout, a dropped connection, a
 *   crash): never sent again automatically; an operator settles it.
 * - **reaction**: what the customer did in answer: a closed order, or an accrual with the kind's
 *   reason (a review, a filled-in birthday), within the window.
 * - **window**: the 14 days after sending in which a reaction counts (C7). (A slot's *catch-up
 *   window* is the scheduling's, and always named in full.)
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Data, type DateTime, type Duration, type Effect, Schema, type Stream } from "effect"
import type { BonusServer, OperationId } from "../bonus/BonusServer.ts"
import type { BaselineMethod } from "../report/BaselineMethod.ts"
import type { NotificationId } from "../store/Ids.ts"
import * as Rows from "../store/Rows.ts"
import type { BusinessTimeZone } from "../time/BusinessTime.ts"

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

/** What an action will do and send, decided before the attempt is recorded. */
export interface ActionPlan {
  readonly performedAction: number
  readonly text: string
}

/** A bonus an action granted: written on the notification with its `sent` status, for the report. */
export interface GrantedBonus {
  readonly amount: number
  readonly operation: OperationId
}

/** What an action did inside the message's transaction. */
export interface Performed {
  readonly bonus: GrantedBonus | null
}

/** An action that granted nothing (a mark alone). */
export const nothingGranted: Performed = Object.freeze({ bonus: null })

/** Where an action is performed: the message's notification, and the instant (a gift's 14 days start there). */
export interface PerformContext {
  readonly notificationId: NotificationId
  readonly at: DateTime.Utc
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

/** What the built-in kinds' functions use: the host's SQL, the business time zone, the bonus server. */
export type KindRequirements = SqlClient.SqlClient | BusinessTimeZone | BonusServer

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

/** The definition of a kind: everything it is, in one value. `R` is what its functions need. */
export interface Kind<Name extends string = string, Rules = unknown, R = KindRequirements> {
  readonly name: Name
  readonly schedule: Timing
  /** In the order the selector yields them (invite: band A before band B). */
  readonly actionSets: ReadonlyArray<ActionSet>
  /** Texts, amounts, reasons and thresholds: constants (C12). */
  readonly rules: Rules
  readonly reaction: ReactionRule
  /** Who gets a message at an instant, in the kind's fixed order (C2), streamed (kinds/Selection). */
  readonly select: (at: DateTime.Utc) => Stream.Stream<Candidate, SqlError.SqlError, R>
  /** Decides what will be done and sent for the action the rotation chose (may read, never writes). */
  readonly plan: (candidate: Candidate, chosenAction: number, at: DateTime.Utc) => Effect.Effect<ActionPlan, ActionError, R>
  /** Does it, inside the message's transaction (accruals, marks), and says what it granted. */
  readonly perform: (candidate: Candidate, plan: ActionPlan, context: PerformContext) => Effect.Effect<Performed, ActionError, R>
  /** How the report estimates its rate without the message; none when it has no such estimate. */
  readonly baseline?: BaselineMethod | undefined
  /** What the report says under the kind's figures, if anything. */
  readonly reportNote?: string | undefined
}

/** A kind of any name and rules, needing at most what the built-in kinds need. */
export type AnyKind = Kind<string, unknown, KindRequirements>

/** Defines a kind; what it needs is what its three functions need. */
export const make = <const Name extends string, const Rules, RS = never, RP = never, RF = never>(
  definition: Omit<Kind<Name, Rules, never>, "select" | "plan" | "perform"> & {
    readonly select: (at: DateTime.Utc) => Stream.Stream<Candidate, SqlError.SqlError, RS>
    readonly plan: (candidate: Candidate, chosenAction: number, at: DateTime.Utc) => Effect.Effect<ActionPlan, ActionError, RP>
    readonly perform: (candidate: Candidate, plan: ActionPlan, context: PerformContext) => Effect.Effect<Performed, ActionError, RF>
  }
): Kind<Name, Rules, RS | RP | RF> => Object.freeze({ ...definition })
