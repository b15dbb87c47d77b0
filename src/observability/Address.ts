/**
 * Where monitoring endpoints listen, as a setting gives it: a port (on this machine only) or
 * `host:port`. Apart from `Monitoring` so that a command checks the setting before it loads any
 * HTTP server or OpenTelemetry package.
 */
import { Effect, Option, Schema } from "effect"

/** Where the endpoints listen. */
export interface Address {
  readonly host: string
  readonly port: number
}

/** An address that cannot be used; the message says what to give instead. */
export class InvalidAddress extends Schema.TaggedError<InvalidAddress>()("InvalidAddress", { message: Schema.String }) {}

/** Where a monitoring port listens when its setting gives only a port: this machine only. */
export const LOOPBACK = "127.0.0.1"

/**
 * `port` (on 127.0.0.1) or `host:port` (`[::1]:9464` for IPv6), as `setting` gave it; the error
 * names the setting.
 */
export const parseAddress = (setting: string, text: string): Effect.Effect<Address, InvalidAddress> => {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):)?(\d{1,5})$/.exec(text.trim())
  const port = match ? Number(match[2]) : 0
  return match === null || port < 1 || port > 65535
    ? Effect.fail(new InvalidAddress({ message: `${setting} "${text}" is not a port or host:port, e.g. 9464 or 127.0.0.1:9464` }))
    : Effect.succeed({ host: Option.getOrElse(Option.fromNullable(match[1]?.replace(/^\[|\]$/g, "")), () => LOOPBACK), port })
}
