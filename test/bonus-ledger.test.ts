import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Either, Option } from "effect"
import {
  accrueForOrder,
  isValidAmount,
  MAX_AMOUNT,
  ORDER_REASON,
  TEMPORARY_LIFETIME_DAYS,
  temporaryExpiry
} from "../src/bonus/BonusLedger.ts"
import { BonusServer } from "../src/bonus/BonusServer.ts"
import type { ClientId } from "../src/store/Ids.ts"
import { bonusRows, daysAfter, insertBonusRow, insertClient, insertOrder, instant } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { truncateAll } from "./support/TestDatabase.ts"

const T0 = "2026-03-01T09:00:00.000Z"
const day = (n: number) => instant(daysAfter(T0, n))
const ms = (iso: string, delta: number) => instant(new Date(Date.parse(iso) + delta).toISOString())

const bonus = BonusServer
const balanceAt = (clientId: ClientId, at: DateTime.Utc) => Effect.flatMap(bonus, (b) => b.balance(clientId, at))
const accrueTemporary = (clientId: ClientId, amount: number, at: DateTime.Utc, reason: string | null = "invite") =>
  Effect.flatMap(bonus, (b) => b.accrue({ type: "temporary", clientId, amount, reason, at, expiresAt: temporaryExpiry(at) }))
const accruePermanent = (clientId: ClientId, amount: number, at: DateTime.Utc, reason: string | null = "feedback") =>
  Effect.flatMap(bonus, (b) => b.accrue({ type: "permanent", clientId, amount, reason, at }))
const spend = (clientId: ClientId, amount: number, at: DateTime.Utc) => Effect.flatMap(bonus, (b) => b.spend(clientId, amount, at))

layer(Harness.layer, { timeout: "120 seconds" })("bonus ledger", (it) => {
  it.effect("stores the reason exactly as given, never validated or normalised", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const reasons = ["", " ", "  spaced out  ", "Отзыв 🎉", "'; DROP TABLE jupiter.clients; --", "ORDER", "order\n"]
      for (const reason of reasons) {
        yield* accruePermanent("1", 1, day(0), reason)
        yield* accrueTemporary("1", 1, day(0), reason)
      }
      const rows = yield* bonusRows
      expect(rows.filter((r) => r.table === "permanent").map((r) => r.reason)).toEqual(reasons)
      expect(rows.filter((r) => r.table === "temporary").map((r) => r.reason)).toEqual(reasons)
    }))

  it.effect("no reason (null) is stored as NULL", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accruePermanent("1", 1, day(0), null)
      yield* accrueTemporary("1", 2, day(0), null)
      expect((yield* bonusRows).map((r) => [r.table, r.amount, r.reason])).toEqual([
        ["permanent", "1.00", null],
        ["temporary", "2.00", null]
      ])
    }))

  it.effect("an accrual with an order UID keeps the reason it was given; only accrueForOrder writes `order`", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const uid = "6f1c2a4e-1d7b-4c36-9a51-0e5f0b3f9c11"
      for (const reason of ["feedback", "ORDER", "", null]) {
        yield* Effect.flatMap(bonus, (b) => b.accrue({ type: "permanent", clientId: "1", amount: 5, reason, at: day(0), orderUid: uid }))
      }
      yield* accruePermanent("1", 5, day(0), "feedback")
      yield* accruePermanent("1", 5, day(0), null)
      yield* accrueForOrder({ clientId: "1", orderUid: uid, amount: 5, at: day(0) })
      expect((yield* bonusRows).map((r) => [r.reason, r.orderUid])).toEqual([
        ["feedback", uid],
        ["ORDER", uid],
        ["", uid],
        [null, uid],
        ["feedback", null],
        [null, null],
        ["order", uid]
      ])
    }))

  it.effect("amounts: two decimals up to float noise (0.1 + 0.2 is 0.30), up to the column's maximum", () =>
    Effect.gen(function*() {
      yield* truncateAll
      expect(yield* accruePermanent("1", 0.1 + 0.2, day(0))).toBe("permanent:1")
      expect(yield* accrueTemporary("1", 0.1 + 0.2, day(0))).toBe("temporary:1")
      expect((yield* bonusRows).map((r) => r.amount)).toEqual(["0.30", "0.30"])
      expect([0.1 + 0.2, 0.01, MAX_AMOUNT].map(isValidAmount)).toEqual([true, true, true])
      expect([0.301, 0.005, 0, -0.01, MAX_AMOUNT + 0.01, Number.NaN].map(isValidAmount)).toEqual([
        false,
        false,
        false,
        false,
        false,
        false
      ])
    }))

  it.effect("an order accrual always carries reason `order` and the order's UID", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* insertClient({ id: 5 })
      const uid = yield* insertOrder({ clientId: 5, closedAt: T0 })
      const operation = yield* accrueForOrder({ clientId: "5", orderUid: uid, amount: 42.5, at: day(0) })
      expect(operation).toBe("permanent:1")
      expect(ORDER_REASON).toBe("order")
      expect(yield* bonusRows).toMatchObject([
        { table: "permanent", clientId: "5", amount: "42.50", reason: "order", orderUid: uid }
      ])
    }))

  it.effect("accruals return their operation ids and store amount, time and expiry", () =>
    Effect.gen(function*() {
      yield* truncateAll
      expect(yield* accruePermanent("1", 10, day(0))).toBe("permanent:1")
      expect(yield* accrueTemporary("1", 100, day(1))).toBe("temporary:1")
      const rows = yield* bonusRows
      expect(rows[1]).toMatchObject({ amount: "100.00", createdAt: DateTime.toDateUtc(day(1)) })
      expect(rows[1]!.expiresAt!.toISOString()).toBe(daysAfter(T0, 1 + TEMPORARY_LIFETIME_DAYS))
    }))

  it.effect("rejects a bad amount or expiry with a message, and writes nothing", () =>
    Effect.gen(function*() {
      yield* truncateAll
      for (const amount of [0, -5, 1.234, Number.NaN, Number.POSITIVE_INFINITY, 1e12]) {
        const error = yield* Effect.flip(accruePermanent("1", amount, day(0)))
        expect(error._tag).toBe("BonusServerError")
        expect(error.message).toContain("at most two decimals")
      }
      const expiry = yield* Effect.flip(
        Effect.flatMap(bonus, (b) =>
          b.accrue({ type: "temporary", clientId: "1", amount: 5, reason: "x", at: day(1), expiresAt: day(1) }))
      )
      expect(expiry.message).toContain("must expire after")
      expect((yield* Effect.flip(spend("1", 0, day(0))))._tag).toBe("BonusServerError")
      expect(yield* bonusRows).toEqual([])
    }))

  it.effect("balance: permanent plus unexpired temporary; zero with nothing; later accruals not yet counted", () =>
    Effect.gen(function*() {
      yield* truncateAll
      expect(yield* balanceAt("1", day(0))).toBe(0)
      yield* accruePermanent("1", 200.25, day(0))
      yield* accrueTemporary("1", 100, day(1))
      yield* accrueTemporary("2", 999, day(1))
      expect(yield* balanceAt("1", ms(daysAfter(T0, 1), -1))).toBe(200.25)
      expect(yield* balanceAt("1", day(1))).toBe(300.25)
      expect(yield* balanceAt("1", day(20))).toBe(200.25)
    }))

  it.effect("a temporary bonus expires 14 days after accrual: at 14 days exactly it is gone, 1 ms before it counts", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accrueTemporary("1", 100, day(0))
      const expiry = daysAfter(T0, 14)
      expect(yield* balanceAt("1", ms(expiry, -1))).toBe(100)
      expect(yield* balanceAt("1", instant(expiry))).toBe(0)
    }))

  it.effect("a negative balance (a host adjustment) stays negative, and nothing can be spent from it", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accruePermanent("1", 50, day(0))
      yield* insertBonusRow({ table: "permanent", clientId: 1, amount: -80, at: daysAfter(T0, 1), reason: "correction" })
      expect(yield* balanceAt("1", day(2))).toBe(-30)
      const error = yield* Effect.flip(spend("1", 1, day(2)))
      expect(error).toMatchObject({ _tag: "InsufficientBalance", clientId: "1", requested: 1, available: -30 })
      expect((yield* bonusRows).length).toBe(2)
    }))

  it.effect("spending more than the balance fails and writes nothing; spending all of it leaves zero", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accruePermanent("1", 30, day(0))
      yield* accrueTemporary("1", 20, day(0))
      const error = yield* Effect.flip(spend("1", 50.01, day(1)))
      expect(error).toMatchObject({ _tag: "InsufficientBalance", available: 50 })
      expect(error.message).toBe("client 1 cannot spend 50.01: the balance is 50")
      expect((yield* bonusRows).length).toBe(2)
      yield* spend("1", 50, day(1))
      expect(yield* balanceAt("1", day(1))).toBe(0)
      expect(yield* balanceAt("1", day(30))).toBe(0)
    }))

  it.effect("spends temporary bonuses first, soonest-expiring first, across several buckets", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accruePermanent("1", 500, day(0))
      yield* accrueTemporary("1", 30, day(3)) // expires day 17
      yield* accrueTemporary("1", 40, day(1)) // expires day 15: first
      yield* accrueTemporary("1", 50, day(5)) // expires day 19
      yield* spend("1", 60, day(6))
      const spent = (yield* bonusRows).filter((r) => Number(r.amount) < 0)
      expect(spent.map((r) => [r.table, r.amount, r.expiresAt?.toISOString() ?? null])).toEqual([
        ["temporary", "-40.00", daysAfter(T0, 15)],
        ["temporary", "-20.00", daysAfter(T0, 17)]
      ])
      expect(yield* balanceAt("1", day(6))).toBe(560)
      // Day 15: the first bucket, all spent, leaves nothing behind; day 17: the second's 10 go.
      expect(yield* balanceAt("1", day(15))).toBe(560)
      expect(yield* balanceAt("1", day(17))).toBe(550)
      expect(yield* balanceAt("1", day(19))).toBe(500)
    }))

  it.effect("a spend larger than the temporary part takes the rest from the permanent bonuses", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accruePermanent("1", 100, day(0))
      yield* accrueTemporary("1", 30, day(1))
      yield* spend("1", 45.5, day(2))
      const spent = (yield* bonusRows).filter((r) => Number(r.amount) < 0)
      expect(spent.map((r) => [r.table, r.amount])).toEqual([["permanent", "-15.50"], ["temporary", "-30.00"]])
      expect(yield* balanceAt("1", day(2))).toBe(84.5)
      // The temporary bucket was used up: its expiry takes nothing more.
      expect(yield* balanceAt("1", day(20))).toBe(84.5)
    }))

  it.effect("an expiry between two spends: the unspent rest expires, the second spend comes from what is left", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accruePermanent("1", 200, day(0))
      yield* accrueTemporary("1", 100, day(0)) // expires day 14
      yield* spend("1", 30, day(10))
      expect(yield* balanceAt("1", day(10))).toBe(270)
      // Day 14: the 70 unspent temporary bonuses expire; the 30 spent are not taken twice.
      expect(yield* balanceAt("1", ms(daysAfter(T0, 14), -1))).toBe(270)
      expect(yield* balanceAt("1", day(14))).toBe(200)
      yield* spend("1", 50, day(15))
      const spent = (yield* bonusRows).filter((r) => Number(r.amount) < 0)
      expect(spent.map((r) => [r.table, r.amount])).toEqual([["permanent", "-50.00"], ["temporary", "-30.00"]])
      expect(yield* balanceAt("1", day(15))).toBe(150)
      // Not 151 or 200: the spend at day 15 could not use an expired bucket.
      const tooMuch = yield* Effect.flip(spend("1", 150.01, day(16)))
      expect(tooMuch).toMatchObject({ _tag: "InsufficientBalance", available: 150 })
    }))

  it.effect("two concurrent spends of one client cannot both pass the balance check", () =>
    Effect.gen(function*() {
      yield* truncateAll
      yield* accruePermanent("1", 100, day(0))
      const results = yield* Effect.all(
        Array.from({ length: 4 }, () => Effect.either(spend("1", 60, day(1)))),
        { concurrency: 4 }
      )
      expect(results.filter(Either.isRight).length).toBe(1)
      expect(results.filter(Either.isLeft).map((e) => e.left._tag)).toEqual([
        "InsufficientBalance",
        "InsufficientBalance",
        "InsufficientBalance"
      ])
      expect(yield* balanceAt("1", day(1))).toBe(40)
    }))

  it.effect("joins the caller's transaction: a rolled-back accrual or spend leaves nothing", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const sql = yield* SqlClient.SqlClient
      yield* accruePermanent("1", 100, day(0))
      const rolledBack = yield* sql.withTransaction(
        Effect.gen(function*() {
          yield* accrueTemporary("1", 500, day(1), "birthday")
          yield* spend("1", 50, day(1))
          // Inside, the transaction sees its own writes.
          expect(yield* balanceAt("1", day(1))).toBe(550)
          return yield* Effect.fail("the send failed")
        })
      ).pipe(Effect.flip)
      expect(rolledBack).toBe("the send failed")
      expect((yield* bonusRows).length).toBe(1)
      expect(yield* balanceAt("1", day(1))).toBe(100)

      yield* sql.withTransaction(accrueTemporary("1", 500, day(1), "birthday"))
      expect(yield* balanceAt("1", day(1))).toBe(600)
    }))

  it.effect("firstAccruals: the first accrual with the reason in (after, until], earliest first, in the order asked", () =>
    Effect.gen(function*() {
      yield* truncateAll
      const b = yield* bonus
      // Client 1, reason profile: one exactly at `after` (out), a spending and another reason (out).
      yield* insertBonusRow({ table: "permanent", clientId: 1, amount: 100, at: daysAfter(T0, 0), reason: "profile" })
      yield* insertBonusRow({ table: "permanent", clientId: 1, amount: -100, at: daysAfter(T0, 1), reason: "profile" })
      yield* insertBonusRow({ table: "permanent", clientId: 1, amount: 5, at: daysAfter(T0, 1), reason: "feedback" })
      yield* insertBonusRow({ table: "temporary", clientId: 1, amount: 7, at: daysAfter(T0, 3), reason: "profile" }) // temporary:1
      yield* insertBonusRow({ table: "permanent", clientId: 1, amount: 9, at: daysAfter(T0, 3), reason: "profile" }) // permanent:4
      yield* insertBonusRow({ table: "permanent", clientId: 1, amount: 11, at: daysAfter(T0, 2), reason: "PROFILE" })
      // Client 2: one exactly at `until` (in) and one after it.
      yield* insertBonusRow({ table: "temporary", clientId: 2, amount: 50, at: daysAfter(T0, 14), reason: "feedback" }) // temporary:2
      yield* insertBonusRow({ table: "permanent", clientId: 2, amount: 60, at: daysAfter(T0, 15), reason: "feedback" })
      const window = { after: day(0), until: day(14) }
      const found = yield* b.firstAccruals([
        { clientId: "2", reason: "feedback", ...window },
        { clientId: "1", reason: "profile", ...window },
        { clientId: "3", reason: "profile", ...window },
        { clientId: "2", reason: "feedback", after: day(0), until: ms(daysAfter(T0, 14), -1) },
        { clientId: "1", reason: "profile", ...window }
      ])
      expect(found.map(Option.getOrNull)).toEqual([
        { operationId: "temporary:2", at: day(14), amount: 50 },
        // Same instant in both tables: permanent first.
        { operationId: "permanent:4", at: day(3), amount: 9 },
        null,
        null,
        { operationId: "permanent:4", at: day(3), amount: 9 }
      ])
      expect(yield* b.firstAccruals([])).toEqual([])
    }))
})
