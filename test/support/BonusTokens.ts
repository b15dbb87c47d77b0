/** The bonus API's callers in the tests: one who may write, one who may only read. */
import { Redacted } from "effect"
import * as BonusApi from "../../src/bonus/BonusApi.ts"

export const WRITER = "writer-secret-token-4c1f9a"
export const READER = "reader-secret-token-77d20e"

/** The default check over both. */
export const layer = BonusApi.layerTokens([
  { name: "jupiter", token: Redacted.make(WRITER), permission: "write" },
  { name: "reports", token: Redacted.make(READER), permission: "read" }
])

export const writer = Redacted.make(WRITER)
