/**
 * What a kind gives the report when it has an estimate of its reaction rate without its message
 * (there is no holdout): the same selection rule applied to days when no message was sent. A
 * method may stratify its observations by something that moves the rate (how recently the client
 * ordered, say) and weight them to the messaged clients' mix (report/Baseline standardizes).
 */
import type { SqlClient, SqlError, Statement } from "@effect/sql"
import { type Effect, Schema } from "effect"
import * as Rows from "../store/Rows.ts"

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

export interface BaselineMethod {
  /** How it is computed, in words, for one action set (its band; null for a kind without bands). */
  readonly describe: (set: { readonly band: string | null }) => string
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
