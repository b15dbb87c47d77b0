/**
 * What a notification kind is made of: a Selector (who gets a message) and an ActionStrategy
 * (what is done and which text is sent). The engine (`Job`) composes them with the Rotation, the
 * Sender and the notifications store.
 */
import type { SqlError } from "@effect/sql"
import { Context, type DateTime, type Effect, Schema, type Stream } from "effect"

export const KINDS = ["feedback", "invite", "profile", "birthday"] as const
export type KindName = typeof KINDS[number]
export const KindName = Schema.Literal(...KINDS)

export class UnknownKind extends Schema.TaggedError<UnknownKind>()("UnknownKind", { kind: Schema.String }) {
  override get message() {
    return `unknown kind "${this.kind}"; expected one of: ${KINDS.join(", ")}`
  }
}

/** Someone who should get a message now, and the trigger it answers. */
export interface Candidate {
  readonly clientId: number
  /** As stored by the host; normalised before sending. */
  readonly phone: string
  readonly orderUid: string | null
  /** The rotation counter this candidate draws from (C2): the kind, or the kind and band. */
  readonly actionSet: string
  /**
   * What the message is for: the order, the lapse, the month or the birthday year. One message per
   * (kind, trigger), ever.
   */
  readonly trigger: string
}

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

export class Selector extends Context.Tag("pronto-notify/Selector")<Selector, {
  readonly kind: KindName
  /** Candidates at `at`, in the kind's fixed order (C2), streamed. */
  readonly candidates: (at: DateTime.Utc) => Stream.Stream<Candidate, SqlError.SqlError>
}>() {}

export class ActionStrategy extends Context.Tag("pronto-notify/ActionStrategy")<ActionStrategy, {
  /** How many actions rotate in an action set. */
  readonly actionCount: (actionSet: string) => number
  /** Decides what will be done and sent (may read, never writes). */
  readonly plan: (candidate: Candidate, chosenAction: number, at: DateTime.Utc) => Effect.Effect<ActionPlan, ActionError>
  /** Does it, inside the notification's transaction: accruals and marks. */
  readonly perform: (
    candidate: Candidate,
    plan: ActionPlan,
    notificationId: number,
    at: DateTime.Utc
  ) => Effect.Effect<void, ActionError>
}>() {}
