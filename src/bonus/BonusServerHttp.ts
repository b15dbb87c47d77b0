/**
 * The `BonusServerHttp` namespace of the public API: a BonusServer over the bonus server's HTTP
 * API with its outbox of accruals, gathered from `http/` so that callers keep one import.
 */
export { layer, make } from "./http/Client.ts"
export type { Options } from "./http/Client.ts"
export { BonusOutbox, MAX_REFUSALS, RETRY_BASE_SECONDS, RETRY_MAX_SECONDS } from "./http/Outbox.ts"
export type { DeliveryReport } from "./http/Outbox.ts"
