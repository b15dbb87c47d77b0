/**
 * The library's services in one layer, over the host's SqlClient: rotation, the notifications
 * store and the business time zone. Add a Sender (`SiteSender.layer`) to run jobs.
 */
import { Layer } from "effect"
import { BusinessTimeZone } from "./BusinessTime.ts"
import { Notifications } from "./Notifications.ts"
import { Rotation } from "./Rotation.ts"

export interface Options {
  /** IANA name of the business time zone (C1); default Europe/Moscow. */
  readonly timeZone?: string
}

export const layer = (options: Options = {}) =>
  Layer.mergeAll(Rotation.layer, Notifications.layer, BusinessTimeZone.layer(options.timeZone))
