/**
 * The host's bonus (loyalty points) server, as the actions and the reaction job need it.
 *
 * The contract only; implementations: `BonusLedger.layer` (SQL over `jupiter.bonus_permanent` and
 * `jupiter.bonus_temporary`, joining the caller's transaction) and `BonusServerHttp.layer` (the
 * bonus server's HTTP API, for a host whose bonus server runs apart). A host may provide its own.
 */
import type { ClientId } from "../store/Ids.ts"
import { Context, type DateTime, type Effect, type Option, Schema } from "effect"

export type Accrual =
  | {
    readonly type: "permanent"
    readonly clientId: ClientId
    /** Positive, at most two decimals. */
    readonly amount: number
    /** Stored exactly as given, with or without an `orderUid` (`accrueForOrder` gives `order`). */
    readonly reason: string | null
    readonly at: DateTime.Utc
    readonly orderUid?: string | undefined
  }
  | {
    readonly type: "temporary"
    readonly clientId: ClientId
    readonly amount: number
    readonly reason: string | null
    readonly at: DateTime.Utc
    readonly expiresAt: DateTime.Utc
  }

/** An accrual's operation id, as the reaction records it: `permanent:<id>` or `temporary:<id>`. */
export type OperationId = string

export interface AccrualLookup {
  readonly clientId: ClientId
  readonly reason: string
  /** Exclusive. */
  readonly after: DateTime.Utc
  /** Inclusive. */
  readonly until: DateTime.Utc
}

export interface FoundAccrual {
  readonly operationId: OperationId
  readonly at: DateTime.Utc
  readonly amount: number
}

/** The bonus server could not do what was asked (unreachable, refused, malformed request). */
export class BonusServerError extends Schema.TaggedError<BonusServerError>()("BonusServerError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `bonus server ${this.operation} failed: ${this.reason}`
  }
}

export class InsufficientBalance extends Schema.TaggedError<InsufficientBalance>()("InsufficientBalance", {
  clientId: Schema.String,
  requested: Schema.Number,
  available: Schema.Number
}) {
  override get message() {
    return `client ${this.clientId} cannot spend ${this.requested}: the balance is ${this.available}`
  }
}

export class BonusServer extends Context.Tag("pronto-notify/BonusServer")<BonusServer, {
  /** Spendable balance at an instant (C14): permanent + unexpired temporary − spent. */
  readonly balance: (clientId: ClientId, at: DateTime.Utc) => Effect.Effect<number, BonusServerError>
  readonly accrue: (accrual: Accrual) => Effect.Effect<OperationId, BonusServerError>
  /** Spends temporary bonuses first, soonest-expiring first, then permanent ones (C14). */
  readonly spend: (
    clientId: ClientId,
    amount: number,
    at: DateTime.Utc
  ) => Effect.Effect<void, BonusServerError | InsufficientBalance>
  /**
   * For each look-up, the client's first accrual with that reason in (after, until]; answers in
   * the order asked. Batched, so the reaction job makes one call per block, not one per message.
   */
  readonly firstAccruals: (
    lookups: ReadonlyArray<AccrualLookup>
  ) => Effect.Effect<ReadonlyArray<Option.Option<FoundAccrual>>, BonusServerError>
}>() {}
