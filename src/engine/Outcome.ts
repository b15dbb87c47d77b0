/** How one candidate's delivery ended (engine/Message says when each happens). */
import { Data } from "effect"

export type Outcome = Data.TaggedEnum<{
  /** The Site confirmed; the actions and marks are committed with the sent notification. */
  Sent: { readonly performedAction: number }
  /** Certainly not delivered, and a later try may pass: nothing is left, and a retry or the next run sends it. */
  Failed: { readonly reason: string }
  /**
   * The Site refused this message (`mesages_sent` 0, a 4xx): nothing is left, and it is not posted
   * again before the kind's next slot.
   */
  Refused: { readonly reason: string }
  /**
   * Maybe delivered: the attempt stays, never sent again automatically. `site` when the Site's
   * answer (or its silence) is why, `database` when the database failed after the Site took it.
   */
  InDoubt: { readonly reason: string; readonly blame: "site" | "database" }
  /** Its trigger already has a message (a concurrent run took it): nothing was done. */
  Skipped: {}
}>
export const Outcome = Data.taggedEnum<Outcome>()
