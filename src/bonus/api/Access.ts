/**
 * Who may call the bonus API, and what they may do. Every endpoint requires a caller with a bearer
 * token (`Authorization: Bearer …`, declared in the HttpApi so that clients and docs know it):
 * without one, or with one the server does not know, the answer is 401; a caller who may only
 * read (balance, first accruals) and writes (accrues, spends) gets 403. Nothing is written in
 * either case, and no answer repeats the token.
 *
 * The library has no users of its own: the host says who a request is. `layerTokens` is the
 * default check, over tokens the host gives as secrets (from its own configuration, or the
 * environment through `layerConfig`); a host with its own identity service provides `BonusAuth`
 * itself, returning the caller it finds or failing with `HttpApiError.Unauthorized`.
 */
import { HttpApiError, HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Config, Context, Effect, Layer, Redacted, Schema } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"

/** What a caller may do: `read` the balance and the first accruals, or `write` (accrue, spend) as well. */
export const Permission: Schema.Literal<["read", "write"]> = Schema.Literal("read", "write")
export type Permission = typeof Permission.Type

/** The caller of the request being handled, as the host's check found it. */
export class BonusCaller extends Context.Tag("@pronto/notify/BonusCaller")<BonusCaller, {
  /** A name for the logs and the host's audit; never the token. */
  readonly name: string
  readonly permission: Permission
}>() {}

/** The bonus API's security: a bearer token, checked by whatever layer of this tag the host provides. */
export class BonusAuth extends HttpApiMiddleware.Tag<BonusAuth>()("@pronto/notify/BonusAuth", {
  failure: HttpApiError.Unauthorized,
  provides: BonusCaller,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/** A caller's token, with the name the logs give it and what it may do. */
export interface Token {
  readonly name: string
  readonly token: Redacted.Redacted<string>
  readonly permission: Permission
}

/** Tokens shorter than this are guessable; `layerTokens` refuses them. */
export const MIN_TOKEN_LENGTH = 16

/** Tokens the default check cannot take: too short, or one given twice. */
export class InvalidTokens extends Schema.TaggedError<InvalidTokens>()("InvalidTokens", {
  message: Schema.String
}) {}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest()

const problemOf = (tokens: ReadonlyArray<Token>): string | undefined => {
  const short = tokens.find((t) => Redacted.value(t.token).length < MIN_TOKEN_LENGTH)
  if (short !== undefined) return `the bonus API token "${short.name}" is shorter than ${MIN_TOKEN_LENGTH} characters`
  const seen = new Set<string>()
  for (const t of tokens) {
    const key = digest(Redacted.value(t.token)).toString("hex")
    if (seen.has(key)) return `the bonus API token "${t.name}" is given twice`
    seen.add(key)
  }
  return undefined
}

/**
 * The caller a presented token belongs to. Every known token is compared, each in constant time
 * (over digests of equal length), so the time taken tells nothing about how much of one matched.
 */
export const callerOf = (
  tokens: ReadonlyArray<Token>
): (presented: Redacted.Redacted<string>) => Effect.Effect<BonusCaller["Type"], HttpApiError.Unauthorized> => {
  const known = tokens.map((t) => ({ ...t, digest: digest(Redacted.value(t.token)) }))
  return (presented: Redacted.Redacted<string>): Effect.Effect<BonusCaller["Type"], HttpApiError.Unauthorized> => {
    const candidate = digest(Redacted.value(presented))
    let found: (typeof known)[number] | undefined
    for (const t of known) if (timingSafeEqual(t.digest, candidate) && found === undefined) found = t
    return found === undefined
      ? Effect.fail(new HttpApiError.Unauthorized())
      : Effect.succeed({ name: found.name, permission: found.permission })
  }
}

/** The default check: a request's bearer token must be one of `tokens`. */
export const layerTokens = (tokens: ReadonlyArray<Token>): Layer.Layer<BonusAuth, InvalidTokens> => {
  const problem = problemOf(tokens)
  if (problem !== undefined) return Layer.fail(new InvalidTokens({ message: problem }))
  const caller = callerOf(tokens)
  return Layer.succeed(BonusAuth, { bearer: caller })
}

/**
 * The default check over tokens from the configuration (the environment, unless the host
 * provides its own ConfigProvider): `BONUS_API_WRITE_TOKENS` and `BONUS_API_READ_TOKENS`, each a
 * comma-separated list of secrets. Named by their list and place (`write#1`) in the logs.
 */
export const layerConfig: Layer.Layer<BonusAuth, InvalidTokens> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const list = (name: string, permission: Permission) =>
      Config.redacted(name).pipe(
        Config.withDefault(Redacted.make("")),
        Config.map((secret) =>
          Redacted.value(secret).split(",").map((s) => s.trim()).filter((s) => s !== "").map((token, i): Token => ({
            name: `${permission}#${i + 1}`,
            token: Redacted.make(token),
            permission
          }))
        )
      )
    const [write, read] = yield* Effect.all([list("BONUS_API_WRITE_TOKENS", "write"), list("BONUS_API_READ_TOKENS", "read")])
    return layerTokens([...write, ...read])
  }).pipe(Effect.mapError((error) => new InvalidTokens({ message: `the bonus API's tokens: ${error.message}` })))
)

/** Fails with 403 unless the caller may write. */
export const requireWrite: Effect.Effect<void, HttpApiError.Forbidden, BonusCaller> = Effect.flatMap(
  BonusCaller,
  (caller) => caller.permission === "write" ? Effect.void : Effect.fail(new HttpApiError.Forbidden())
)
