/**
 * Migration 4: each notification records the action set its action came from (the report groups by it), and
 * the rotation counts turns. Stored invites get their band back from their trigger as the report
 * used to read it: more than 28 days between the lapse's and the send's business-zone dates is A;
 * an unreadable trigger leaves the band unknown (the action set is the kind).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { BusinessTimeZone, DEFAULT_TIME_ZONE } from "../time/BusinessTime.ts"

const ISO_INSTANT = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}(:?\\d{2})?)$"

export const migration = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const zone = Option.match(yield* Effect.serviceOption(BusinessTimeZone), {
    onNone: () => DEFAULT_TIME_ZONE,
    onSome: (z) => z.name
  })
  yield* sql`ALTER TABLE pronto_notify.notifications ADD COLUMN action_set text NULL`
  yield* sql`
    UPDATE pronto_notify.notifications
    SET action_set = CASE
      WHEN kind = 'invite' AND split_part(trigger_key, '@', 2) ~ ${ISO_INSTANT}
        THEN 'invite:' || CASE
          WHEN (coalesce(sent_at, attempted_at) AT TIME ZONE ${zone}::text)::date
               - (split_part(trigger_key, '@', 2)::timestamptz AT TIME ZONE ${zone}::text)::date > 28 THEN 'A' ELSE 'B' END
      ELSE kind
    END
  `
  yield* sql`ALTER TABLE pronto_notify.notifications ALTER COLUMN action_set SET NOT NULL`
  yield* sql`ALTER TABLE pronto_notify.rotation RENAME COLUMN next_slot TO next_turn`
})

