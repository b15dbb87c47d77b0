/**
 * An order's UID (`jupiter.orders.uid`, a UUID): the one check, used in TypeScript (`parseOrderUid`)
 * and in SQL (`UUID_PATTERN`, where a text column may hold one).
 */
import { Effect, Schema } from "effect"

/** A UUID, case-insensitive; for SQL's `~*` and for JavaScript. */
export const UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
const UUID = new RegExp(UUID_PATTERN, "i")

export class InvalidOrderUid extends Schema.TaggedError<InvalidOrderUid>()("InvalidOrderUid", {
  orderUid: Schema.String
}) {
  override get message() {
    return `"${this.orderUid}" is not an order UID (a UUID such as 0b6f1c2e-8d4a-4f7e-9c51-2a3b4c5d6e7f)`
  }
}

/** A well-formed order UID, lower-cased, or a typed error before any query. */
export const parseOrderUid = (orderUid: string): Effect.Effect<string, InvalidOrderUid> =>
  UUID.test(orderUid.trim())
    ? Effect.succeed(orderUid.trim().toLowerCase())
    : Effect.fail(new InvalidOrderUid({ orderUid }))
