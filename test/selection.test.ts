/**
 * Migration 6: the birthday occurrence is inlined into the selector's statement (not called per
 * client), and gives what it gave before, NULL for NULL included. bench/selection.ts measures it.
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Harness from "./support/Harness.ts"

layer(Harness.layer, { timeout: "120 seconds" })("selection at scale", (it) => {
  describe("pronto_notify.birthday_in_year", () => {
    it.effect("is not STRICT, so PostgreSQL inlines it instead of calling it for each row", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [fn] = yield* sql<{ strict: boolean; volatility: string }>`
          SELECT proisstrict AS strict, provolatile AS volatility FROM pg_proc
          WHERE oid = 'pronto_notify.birthday_in_year(date, integer)'::regprocedure`
        expect(fn).toEqual({ strict: false, volatility: "i" })
        const plan = yield* sql<{ "QUERY PLAN": string }>`
          EXPLAIN (VERBOSE, COSTS OFF)
          SELECT pronto_notify.birthday_in_year(c.birthday, 2026) FROM jupiter.clients c`
        const text = plan.map((r) => r["QUERY PLAN"]).join("\n")
        expect(text).toContain("make_date")
        expect(text).not.toContain("birthday_in_year")
      }))

    it.effect("gives the same dates: 29 February is 28 February in other years, NULL for NULL", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [row] = yield* sql<Record<string, string | null>>`
          SELECT pronto_notify.birthday_in_year(date '2000-02-29', 2025)::text AS common,
                 pronto_notify.birthday_in_year(date '2000-02-29', 2024)::text AS leap,
                 pronto_notify.birthday_in_year(date '1990-12-31', 2026)::text AS plain,
                 pronto_notify.birthday_in_year(NULL, 2026)::text AS "noDate",
                 pronto_notify.birthday_in_year(date '1990-12-31', NULL)::text AS "noYear"`
        expect(row).toEqual({ common: "2025-02-28", leap: "2024-02-29", plain: "2026-12-31", noDate: null, noYear: null })
      }))
  })
})
