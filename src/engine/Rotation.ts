/**
 * Deterministic rotation of actions (C2): one persistent counter per action set. Slots are taken
 * in blocks in the candidates' fixed order, so sends can run concurrently without reordering
 * the rotation, and the counter continues across runs and restarts.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { outsideTransaction } from "../store/Transactions.ts"
import { Context, Effect, Layer, Ref } from "effect"

export interface RotationService {
  /** Reserves `count` consecutive slots and returns the first; the counter moves past them. */
  readonly take: (actionSet: string, count: number) => Effect.Effect<number, SqlError.SqlError>
  /** The next slot, without taking it (for dry runs). */
  readonly peek: (actionSet: string) => Effect.Effect<number, SqlError.SqlError>
}

/** Slot 0 gets action 1, slot n-1 action n, slot n action 1 again. */
export const actionOfSlot = (slot: number, actionCount: number): number => (slot % actionCount) + 1

export class Rotation extends Context.Tag("pronto-notify/Rotation")<Rotation, RotationService>() {
  /** The counters in `pronto_notify.rotation`; each take is one short statement of its own. */
  static readonly layer = Layer.effect(
    Rotation,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // Outside any caller's transaction: holding the counter's row lock until a send commits
      // would serialize every send of the kind.
      const take = (actionSet: string, count: number) =>
        sql<{ first: number }>`
          INSERT INTO pronto_notify.rotation AS r (action_set, next_slot) VALUES (${actionSet}, ${count})
          ON CONFLICT (action_set) DO UPDATE SET next_slot = r.next_slot + ${count}
          RETURNING next_slot - ${count} AS first
        `.pipe(Effect.map((rows) => Number(rows[0]!.first)), outsideTransaction)
      const peek = (actionSet: string) =>
        sql<{ next: number }>`SELECT next_slot AS next FROM pronto_notify.rotation WHERE action_set = ${actionSet}`.pipe(
          Effect.map((rows) => Number(rows[0]?.next ?? 0))
        )
      return { take, peek }
    })
  )

  /** In memory, for tests of what is not about the database. */
  static readonly layerTest = Layer.effect(
    Rotation,
    Effect.map(Ref.make(new Map<string, number>()), (counters) => ({
      take: (actionSet: string, count: number) =>
        Ref.modify(counters, (m) => {
          const first = m.get(actionSet) ?? 0
          return [first, new Map(m).set(actionSet, first + count)]
        }),
      peek: (actionSet: string) => Effect.map(Ref.get(counters), (m) => m.get(actionSet) ?? 0)
    }))
  )
}
