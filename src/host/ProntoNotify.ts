/**
 * The library's services in one layer, over the host's SqlClient: the rotation, the attempts a
 * run writes, the notifications table, invalid phones, the business time zone, the bonus server
 * and the messages in flight. Add a Sender (`SiteSender.layer`) to run jobs.
 */
import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import * as BonusLedger from "../bonus/BonusLedger.ts"
import type { BonusServer } from "../bonus/BonusServer.ts"
import { DEFAULT_IN_FLIGHT, InFlight, type InvalidInFlight } from "../delivery/InFlight.ts"
import { Rotation } from "../engine/Rotation.ts"
import { Attempts } from "../store/Attempts.ts"
import { InvalidPhones } from "../store/InvalidPhones.ts"
import { Notifications } from "../store/Notifications.ts"
import { BusinessTimeZone, type InvalidTimeZone } from "../time/BusinessTime.ts"

export interface Options<E = never, R = never> {
  /** IANA name of the business time zone (C1); default Europe/Moscow. */
  readonly timeZone?: string
  /**
   * The bonus server the actions use; default the SQL ledger over the host's bonus tables in the
   * same database (`BonusLedger.layer`), whose accruals join the notification's transaction.
   */
  readonly bonusServer?: Layer.Layer<BonusServer, E, R>
  /**
   * How many messages are sent to the Site at once (its capacity): 1 to `InFlight.MAX_IN_FLIGHT`,
   * default `InFlight.DEFAULT_IN_FLIGHT`. The host's pool needs `InFlight.poolSizeFor(inFlight)`
   * connections for a run.
   */
  readonly inFlight?: number
}

/** The services a run needs besides a Sender; a bad option fails the layer with an error naming the option. */
export const layer = <E = never, R = never>(
  options: Options<E, R> = {}
): Layer.Layer<
  Rotation | Attempts | Notifications | InvalidPhones | BusinessTimeZone | BonusServer | InFlight,
  InvalidTimeZone | InvalidInFlight | E,
  SqlClient.SqlClient | R
> =>
  Layer.mergeAll(
    Rotation.layer,
    Attempts.layer,
    Notifications.layer,
    InvalidPhones.layer,
    BusinessTimeZone.layer(options.timeZone, "timeZone"),
    options.bonusServer ?? BonusLedger.layer,
    InFlight.layer(options.inFlight ?? DEFAULT_IN_FLIGHT, "inFlight")
  )
