/**
 * A trigger as stored (`pronto_notify.notifications.trigger_key`): what one message answers, so
 * that a kind sends at most one message per trigger (C10). An order's trigger is its UID; a
 * client's is `<client id>@<part>`, the part being the lapse (the last order's instant), the month
 * (`YYYY-MM`) or the birthday's year. Selectors build client triggers in SQL (`clientSql`); actions
 * read the part back (`partOf`). This module is the only place that knows the format.
 */
import type { SqlClient, Statement } from "@effect/sql"
import type { ClientId } from "../store/Ids.ts"

const SEPARATOR = "@"

/** A client's trigger. */
export const ofClient = (clientId: ClientId, part: string): string => `${clientId}${SEPARATOR}${part}`

/** The part after the client id. */
export const partOf = (trigger: string): string => trigger.slice(trigger.indexOf(SEPARATOR) + 1)

/** A client's trigger built in SQL from a client id expression and a text expression. */
export const clientSql = (
  sql: SqlClient.SqlClient,
  clientId: Statement.Fragment,
  part: Statement.Fragment
): Statement.Fragment => sql`((${clientId})::text || ${SEPARATOR}::text || (${part})::text)`
