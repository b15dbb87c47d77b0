/**
 * The values the engine writes into the statement that travels with a COMMIT read back exactly,
 * with standard_conforming_strings on and off: a bonus operation id is whatever the host's bonus
 * server returned, quotes and backslashes included.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import * as Literal from "../src/store/Literals.ts"
import * as TestDatabase from "./support/TestDatabase.ts"

const TEXTS = ["temporary:42", "it's", "back\\slash", "\\'", "E'x'", "';DROP TABLE x;--", "юникод ✓", "", "a\nb\tc"]

layer(TestDatabase.layer)("SQL literals", (it) => {
  it.effect("text reads back exactly, whatever standard_conforming_strings says", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (const setting of ["on", "off"]) {
        const read = yield* Effect.scoped(Effect.gen(function*() {
          const conn = yield* sql.reserve
          yield* conn.executeRaw(`SET standard_conforming_strings = ${setting}`, [])
          const out: Array<string> = []
          for (const text of TEXTS) {
            const rows = yield* conn.executeRaw(`SELECT ${Literal.text(text)} AS v`, [])
            out.push((rows as { rows: Array<{ v: string }> }).rows[0]!.v)
          }
          yield* conn.executeRaw("RESET standard_conforming_strings", [])
          return out
        }))
        expect(read, `standard_conforming_strings ${setting}`).toEqual(TEXTS)
      }
    }))

  it.effect("instants to the millisecond, numbers and ids read back; anything else is refused", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const at = DateTime.unsafeMake("2026-03-10T08:59:59.123Z")
      const [row] = yield* sql.unsafe<{ at: string; n: string; id: string }>(
        `SELECT to_char(${Literal.instant(at)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
                ${Literal.number(100.5)}::text AS n, ${Literal.id("9007199254740993")}::text AS id`
      )
      expect(row).toEqual({ at: "2026-03-10T08:59:59.123Z", n: "100.5", id: "9007199254740993" })
      expect(() => Literal.id("1; DROP TABLE x")).toThrow(RangeError)
      expect(() => Literal.number(Number.NaN)).toThrow(RangeError)
    }))
})
