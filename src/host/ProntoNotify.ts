/**
 * The library's services in one layer, over the host's SqlClient: rotation, the notifications
 * store, the business time zone and the bonus server. Add a Sender (`SiteSender.layer`) to run
 * jobs.
 */
import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import * as BonusLedger from "../bonus/BonusLedger.ts"
import type { BonusServer } from "../bonus/BonusServer.ts"
import { DEFAULT_IN_FLIGHT, InFlight, type InvalidInFlight } from "../delivery/InFlight.ts"
import { BusinessTimeZone, type InvalidTimeZone } from "../time/BusinessTime.ts"
import { Notifications } from "../store/Notifications.ts"
import { Rotation } from "../engine/Rotation.ts"

export interface Options<E = never, R = never> {
  /** IANA name of the business time zone (C1); default Europe/Moscow. */
  readonly timeZone?: string
  /**
   * The bonus server the actions use; default the SQL ledger over the host's bonus tables in the
   * same database (`BonusLedger.layer`), whose accruals join the notification's transaction.
   */
  readonly bonusServer?: Layer.Layer<BonusServer, E, R>
  /**
   * How many messages are sent to the Site at once (its capacity): 1 to MAX_IN_FLIGHT, default
   * DEFAULT_IN_FLIGHT. The host's pool needs `poolSizeFor(inFlight)` connections for a run.
   */
  readonly inFlight?: number
}

export { poolSizeFor } from "../delivery/InFlight.ts"

export const layer = <E = never, R = never>(
  options: Options<E, R> = {}
): Layer.Layer<
  Rotation | Notifications | BusinessTimeZone | BonusServer | InFlight,
  InvalidTimeZone | InvalidInFlight | E,
  SqlClient.SqlClient | R
> =>
  Layer.mergeAll(
    Rotation.layer,
    Notifications.layer,
    BusinessTimeZone.layer(options.timeZone),
    options.bonusServer ?? BonusLedger.layer,
    InFlight.layer(options.inFlight ?? DEFAULT_IN_FLIGHT)
  )
