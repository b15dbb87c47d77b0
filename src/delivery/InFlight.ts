/**
 * How many messages are sent to the Site at once: the Site's capacity, a deployment setting that
 * changes no business behaviour (C12). Each message in flight holds one pooled connection for its
 * transaction, so the pool a run uses must be larger (`poolSizeFor`).
 */
import { Context, Effect, Layer, Schema } from "effect"

export const DEFAULT_IN_FLIGHT = 8
/** The most a run sends at once; its pool follows (`poolSizeFor`), within PostgreSQL's default 100 connections. */
export const MAX_IN_FLIGHT = 64

export class InvalidInFlight extends Schema.TaggedError<InvalidInFlight>()("InvalidInFlight", {
  value: Schema.Unknown,
  /** Where the value came from: the option in code (`inFlight`) or the environment variable (`SITE_IN_FLIGHT`). */
  setting: Schema.String
}) {
  override get message() {
    return `messages in flight (${this.setting}) must be a whole number from 1 to ${MAX_IN_FLIGHT}, not ${String(this.value)}`
  }
}

/** Messages in flight at once; `DEFAULT_IN_FLIGHT` unless a layer sets it. */
export class InFlight extends Context.Reference<InFlight>()("pronto-notify/InFlight", {
  defaultValue: (): number => DEFAULT_IN_FLIGHT
}) {
  /** `value` checked; `setting` says where it came from, for the error. */
  static readonly make = (value: number, setting = "SITE_IN_FLIGHT"): Effect.Effect<number, InvalidInFlight> =>
    Number.isInteger(value) && value >= 1 && value <= MAX_IN_FLIGHT
      ? Effect.succeed(value)
      : Effect.fail(new InvalidInFlight({ value, setting }))

  static readonly layer = (value: number, setting = "inFlight"): Layer.Layer<InFlight, InvalidInFlight> =>
    Layer.effect(InFlight, InFlight.make(value, setting))
}

/** Connections on which a run records its POST starts: one per 16 messages in flight. */
export const postStartLanes = (inFlight: number): number => Math.ceil(inFlight / 16)

/**
 * The connections a run needs: one per message in flight (its transaction), those that record the
 * POST starts (the first also the run's own session: its token, its attempts), and one for the
 * selector's pages and the rotation.
 */
export const poolSizeFor = (inFlight: number): number => inFlight + postStartLanes(inFlight) + 1
