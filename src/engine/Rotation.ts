/**
 * Deterministic rotation of actions (C2): one persistent counter per action set, whose turns
 * 0, 1, 2, … give the actions 1 … n, 1 …. Turns are taken in blocks in the candidates' fixed order,
 * so sends can run concurrently without reordering the rotation, and the counter continues across
 * runs and restarts.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Context, Effect, Layer, Ref } from "effect"
import { outsideTransaction } from "../store/Transactions.ts"

/** Turn 0 gets action 1, turn n-1 action n, turn n action 1 again. */
export const actionOfTurn = (turn: number, actionCount: number): number => (turn % actionCount) + 1

export class Rotation extends Context.Tag("pronto-notify/Rotation")<Rotation, {
  /** Takes `count` consecutive turns and returns the first; the counter moves past them. */
  readonly take: (actionSet: string, count: number) => Effect.Effect<number, SqlError.SqlError>
  /** The next turn, without taking it (for dry runs). */
  readonly peek: (actionSet: string) => Effect.Effect<number, SqlError.SqlError>
}>() {
  /** The counters in `pronto_notify.rotation`; each take is one short statement of its own. */
  static readonly make = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return Rotation.of({
      // Outside any caller's transaction: holding the counter's row lock until a send commits
      // would serialize every send of the kind.
      take: (actionSet, count) =>
        sql<{ first: string }>`
          INSERT INTO pronto_notify.rotation AS r (action_set, next_turn) VALUES (${actionSet}, ${count})
          ON CONFLICT (action_set) DO UPDATE SET next_turn = r.next_turn + ${count}
          RETURNING (next_turn - ${count})::text AS first
        `.pipe(Effect.map((rows) => Number(rows[0]!.first)), outsideTransaction),
      peek: (actionSet) =>
        sql<{ next: string }>`SELECT next_turn::text AS next FROM pronto_notify.rotation WHERE action_set = ${actionSet}`
          .pipe(Effect.map((rows) => Number(rows[0]?.next ?? 0)))
    })
  })

  static readonly layer = Layer.effect(Rotation, Rotation.make)

  /** Counters in memory, each starting at turn 0; no database. */
  static readonly layerTest = Layer.effect(
    Rotation,
    Effect.map(Ref.make<ReadonlyMap<string, number>>(new Map()), (counters) =>
      Rotation.of({
        take: (actionSet, count) =>
          Ref.modify(counters, (m) => {
            const first = m.get(actionSet) ?? 0
            return [first, new Map([...m, [actionSet, first + count]])]
          }),
        peek: (actionSet) => Effect.map(Ref.get(counters), (m) => m.get(actionSet) ?? 0)
      }))
  )
}
