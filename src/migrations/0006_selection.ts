/**
 * Migration 6, selection at scale: the birthday occurrence is no longer STRICT, which changes no
 * result (its body gives NULL for a NULL argument) but lets PostgreSQL inline it into the
 * selector's expressions instead of calling a function per client: ten times faster over a
 * million clients.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { BIRTHDAY_IN_YEAR } from "./BirthdayInYear.ts"

export const migration = Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`
CREATE OR REPLACE FUNCTION pronto_notify.birthday_in_year(b date, y integer) RETURNS date
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT AS $$
${BIRTHDAY_IN_YEAR}
$$;
`))
