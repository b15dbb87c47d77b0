/**
 * The `BonusApi` namespace of the public API: the bonus server's HTTP API, its handlers and a Node
 * server, gathered from `api/` so that callers keep one import. Modules of the library import the
 * part they need from `api/` instead, so that a client or a migration loads no server.
 */
export {
  AccrualResponse,
  BalanceParams,
  BalanceResponse,
  BonusApi,
  BonusGroup,
  describeIssues,
  expiryProblem,
  FirstAccrualParams,
  FirstAccrualResponse,
  FirstAccrualsRequest,
  FirstAccrualsResponse,
  FoundAccrual,
  InvalidRequest,
  Lookup,
  MAX_AMOUNT,
  MAX_LOOKUPS,
  PermanentAccrualRequest,
  SpendRequest,
  TemporaryAccrualRequest
} from "./api/Api.ts"
export {
  BonusAuth,
  BonusCaller,
  callerOf,
  InvalidTokens,
  layerConfig as layerTokensFromConfig,
  layerTokens,
  MIN_TOKEN_LENGTH,
  Permission,
  requireWrite
} from "./api/Access.ts"
export type { Token } from "./api/Access.ts"
export { handlers, handlersFor, layer } from "./api/Handlers.ts"
export { baseUrl, serve } from "./api/NodeServer.ts"
export type { ServeOptions } from "./api/NodeServer.ts"
