/**
 * The Site's SMS/push protocol (C13), apart from how the bytes travel:
 *
 *   POST {SITE_URL}/bonus/send-sms.html?key=KEY
 *   Content-Type: application/x-www-form-urlencoded
 *   phones=89091582149&text=<URL-encoded UTF-8>
 *
 * and what its answer means. Success is HTTP 200 whose body ends with the JSON object
 * `{"mesages_sent":n}` (the Site's spelling), n ≥ 1; the body may be gzip-encoded, and a PHP notice
 * may stand before the object (the Site runs PHP and prints its notices into the answer).
 */
import { Effect, Option, Schema } from "effect"
import { type OutgoingMessage, type SendError, SendFailed, SendInDoubt } from "./Sender.ts"

export const SEND_PATH = "/bonus/send-sms.html"

/** How long the Site may take before a send counts as in doubt. */
export const SEND_TIMEOUT = "10 seconds"

/** The send endpoint, relative to the configured URL so that a path prefix (https://host/shop) is kept. */
export const endpointOf = (siteUrl: string): URL =>
  new URL(SEND_PATH.slice(1), siteUrl.endsWith("/") ? siteUrl : `${siteUrl}/`)

/** The form body: phones first, the text URL-encoded UTF-8. */
export const formOf = (message: OutgoingMessage): string =>
  new URLSearchParams({ phones: message.phone, text: message.text }).toString()

/** A proxy's answers that do not tell whether the Site behind it acted. */
const GATEWAY_ERRORS = new Set([502, 504])

/** A client error that a later try may not meet: the request itself is refused. */
const PASSING_CLIENT_ERRORS = new Set([408, 429])

/** The answer's status when it is not 200: a redirect (never followed) or an error. */
export const judgeStatus = (status: number): SendError =>
  status >= 300 && status < 400
    ? new SendFailed({ reason: `the Site answered HTTP ${status} (a redirect; redirects are not followed)` })
    : GATEWAY_ERRORS.has(status)
    // A gateway's 502 or 504 can come after the Site already sent the SMS.
    ? new SendInDoubt({ reason: `the Site's gateway answered HTTP ${status}` })
    : new SendFailed({
      reason: `the Site answered HTTP ${status}`,
      lasting: status >= 400 && status < 500 && !PASSING_CLIENT_ERRORS.has(status)
    })

const SentCount = Schema.parseJson(Schema.Struct({ mesages_sent: Schema.Number }))
const decodeSentCount = Schema.decodeUnknownOption(SentCount)

/** How many messages the body says were sent: the object at its end, whatever stands before it. */
export const sentCount = (body: string): Option.Option<number> => {
  const text = body.trimEnd()
  if (!text.endsWith("}")) return Option.none()
  // The answer is a flat object, so it starts at one of the last few braces.
  for (let i = text.lastIndexOf("{"), tries = 0; i >= 0 && tries < 8; i = text.lastIndexOf("{", i - 1), tries++) {
    const decoded = decodeSentCount(text.slice(i))
    if (Option.isSome(decoded)) return Option.some(decoded.value.mesages_sent)
  }
  return Option.none()
}

/**
 * A 200's body. Without a readable `{"mesages_sent":n}` at its end nobody knows whether the SMS
 * went: in doubt, never resent. The body itself stays out of the reason: it may echo the phone.
 */
export const judgeBody = (body: string, contentType: string | undefined): Effect.Effect<void, SendError> =>
  Option.match(sentCount(body), {
    onNone: () =>
      Effect.fail(
        new SendInDoubt({
          reason: `the Site answered HTTP 200 without a readable {"mesages_sent":n} at the end (${body.length} characters of ${
            contentType ?? "no content type"
          })`
        })
      ),
    onSome: (n) => (n >= 1 ? Effect.void : Effect.fail(new SendFailed({ reason: `the Site sent ${n} messages`, lasting: true })))
  })
