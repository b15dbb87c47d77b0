/** How one candidate's delivery ended (engine/Message says when each happens). */
import { Data } from "effect"

export type Outcome = Data.TaggedEnum<{
  /** The Site confirmed; the actions and marks are committed with the sent notification. */
  Sent: { readonly performedAction: number }
  /** Certainly not delivered; nothing is left, and the next run tries again. */
  Failed: { readonly reason: string }
  /** Maybe delivered: the attempt stays, never sent again automatically. */
  InDoubt: { readonly reason: string }
  /** Its trigger already has a message (a concurrent run took it): nothing was done. */
  Skipped: {}
}>
export const Outcome = Data.taggedEnum<Outcome>()

