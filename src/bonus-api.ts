/**
 * @pronto/notify/bonus-api: the bonus server's HTTP API (`BonusApi`, to serve over the host's own
 * ledger) and a BonusServer over it with its outbox (`BonusServerHttp`). `BonusApi.serve` runs it
 * with Node's HTTP server and needs `@effect/platform-node`.
 */
export * as BonusApi from "./bonus/BonusApi.ts"
export * as BonusServerHttp from "./bonus/BonusServerHttp.ts"
