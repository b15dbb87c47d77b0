/**
 * Delivery of one message to one phone. The library's only implementation for production is the
 * Site (`SiteSender`); tests swap in the recording fake below.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"

export interface OutgoingMessage {
  /** Normalised: 11 digits starting with 8. */
  readonly phone: string
  readonly text: string
}

/**
 * The message was certainly not delivered. A later try may pass (the Site unreachable, a 5xx), or
 * not: `lasting` when the Site refused this message itself (`mesages_sent` 0, a 4xx), so that the
 * same slot does not post it again.
 */
export class SendFailed extends Schema.TaggedError<SendFailed>()("SendFailed", {
  reason: Schema.String,
  lasting: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {
  override get message() {
    return `send failed: ${this.reason}`
  }
}

/** The Site may or may not have delivered it (a timeout, a connection lost mid-request). */
export class SendInDoubt extends Schema.TaggedError<SendInDoubt>()("SendInDoubt", {
  reason: Schema.String
}) {
  override get message() {
    return `send in doubt: ${this.reason}`
  }
}

export type SendError = SendFailed | SendInDoubt

/** What the recording fake has been asked to send, and how it answers. */
export class RecordingSender extends Context.Tag("pronto-notify/RecordingSender")<RecordingSender, {
  /** Messages it accepted, in order. */
  readonly sent: Effect.Effect<ReadonlyArray<OutgoingMessage>>
  /** Every request it received, accepted or not. */
  readonly attempts: Effect.Effect<ReadonlyArray<OutgoingMessage>>
  /** Changes the answer for the messages that follow. */
  readonly answerWith: (answer: (message: OutgoingMessage) => Effect.Effect<void, SendError>) => Effect.Effect<void>
}>() {}

export class Sender extends Context.Tag("pronto-notify/Sender")<Sender, {
  readonly send: (message: OutgoingMessage) => Effect.Effect<void, SendError>
}>() {
  /** A Sender that records instead of delivering (`RecordingSender`); it accepts everything until told otherwise. */
  static readonly layerTest: Layer.Layer<Sender | RecordingSender> = Layer.effectContext(
    Effect.gen(function*() {
      const sent = yield* Ref.make<ReadonlyArray<OutgoingMessage>>([])
      const attempts = yield* Ref.make<ReadonlyArray<OutgoingMessage>>([])
      const answer = yield* Ref.make<(message: OutgoingMessage) => Effect.Effect<void, SendError>>(() => Effect.void)
      const send = (message: OutgoingMessage) =>
        Effect.gen(function*() {
          yield* Ref.update(attempts, (all) => [...all, message])
          yield* Effect.flatMap(Ref.get(answer), (f) => f(message))
          yield* Ref.update(sent, (all) => [...all, message])
        })
      return Context.make(Sender, { send }).pipe(
        Context.add(RecordingSender, {
          sent: Ref.get(sent),
          attempts: Ref.get(attempts),
          answerWith: (f) => Ref.set(answer, f)
        })
      )
    })
  )
}
