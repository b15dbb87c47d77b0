/**
 * How many messages go to the Site at once is a deployment setting (`InFlight`, SITE_IN_FLIGHT):
 * the Site never has more, and a run keeps that many going (against a real Site on 127.0.0.1). The
 * engine records a block's attempts in one statement and the POST starts of the messages in flight
 * together, yet each message's attempt is committed, with its POST start, before the Site sees it;
 * and a run that stops early forgets the attempts it prepared and did not send.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { DateTime, Effect, Exit, Layer, Logger, LogLevel, Redacted } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Database from "../src/database/Database.ts"
import { InFlight, InvalidInFlight, MAX_IN_FLIGHT, poolSizeFor } from "../src/delivery/InFlight.ts"
import { Sender, SendInDoubt } from "../src/delivery/Sender.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import { BREAKER_THRESHOLD } from "../src/engine/Stopper.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import { outsideTransaction } from "../src/store/Transactions.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as Cli from "./support/Cli.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import * as TestDatabase from "./support/TestDatabase.ts"
import { migratedUrl, truncateAll } from "./support/TestDatabase.ts"

/** 11:00 in Moscow: a feedback slot. */
const SLOT = "2026-03-10T08:00:00.000Z"
const slot = DateTime.unsafeMake(SLOT)

/** `n` clients, each with a delivery order closed in the hour before the slot. */
const feedbackOrders = (n: number) =>
  Effect.forEach(Array.from({ length: n }, (_, i) => i + 1), (id) =>
    Effect.zipRight(
      insertClient({ id }),
      insertOrder({ clientId: id, closedAt: new Date(Date.parse(SLOT) - id * 1_000).toISOString() })
    ), { discard: true })

/** A Site that answers success after `delayMs` and counts how many requests it holds at once. */
const countingSite = (delayMs: number) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      let open = 0
      let most = 0
      const server = http.createServer((req, res) => {
        open++
        most = Math.max(most, open)
        req.resume()
        req.on("end", () =>
          setTimeout(() => {
            open--
            res.writeHead(200, { "content-type": "application/json" }).end("{\"mesages_sent\":1}")
          }, delayMs))
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const { port } = server.address() as AddressInfo
      return {
        server,
        url: `http://127.0.0.1:${port}`,
        /** The most requests held at once since the last `reset`. */
        most: () => most,
        reset: () => void (most = 0)
      }
    }),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
      )
  )

describe("messages in flight", { timeout: 120_000 }, () => {
  it.scopedLive("the Site never has more at once than the setting allows, and a run keeps that many going", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      const site = yield* countingSite(80)
      for (const inFlight of [3, 12]) {
        const summary = yield* Effect.gen(function*() {
          yield* truncateAll
          yield* feedbackOrders(48)
          return yield* Jobs.run("feedback").pipe(withClockAt(slot))
        }).pipe(
          Effect.provide(
            Layer.mergeAll(
              ProntoNotify.layer({ inFlight }),
              SiteSender.layer({ url: site.url, key: Redacted.make("k") })
            ).pipe(Layer.provideMerge(Database.layerUrl(url, { maxConnections: poolSizeFor(inFlight) })))
          ),
          Logger.withMinimumLogLevel(LogLevel.Error)
        )
        expect(summary).toMatchObject({ selected: 48, sent: 48 })
        expect(site.most(), `${inFlight} in flight`).toBe(inFlight)
        site.reset()
      }
    }))

  it.effect("outside 1 to 64 (or not whole) is refused with a message that says what to set", () =>
    Effect.gen(function*() {
      for (const ok of [1, 8, MAX_IN_FLIGHT]) expect(yield* InFlight.make(ok)).toBe(ok)
      for (const bad of [0, MAX_IN_FLIGHT + 1, 2.5, Number.NaN, -3]) {
        const error = yield* Effect.flip(InFlight.make(bad))
        expect(error).toBeInstanceOf(InvalidInFlight)
        expect(error.message).toBe(`messages in flight (SITE_IN_FLIGHT) must be a whole number from 1 to 64, not ${bad}`)
      }
      const built = yield* Effect.exit(Layer.build(ProntoNotify.layer({ inFlight: 65 })).pipe(
        Effect.provide(Layer.succeed(SqlClient.SqlClient, {} as SqlClient.SqlClient)),
        Effect.scoped
      ))
      expect(Exit.isFailure(built)).toBe(true)
    }))

  it.scopedLive("SITE_IN_FLIGHT on the command line: a bad value is one line and exit 1, before anything is sent", () =>
    Effect.gen(function*() {
      const url = yield* migratedUrl
      for (const value of ["0", "100", "eight"]) {
        const result = yield* Cli.run(["run", "feedback", "--at", SLOT], {
          DATABASE_URL: url,
          SITE_URL: "http://127.0.0.1:9",
          SITE_KEY: "k",
          SITE_IN_FLIGHT: value
        })
        expect(result.code).toBe(1)
        expect(result.stderr.trim()).toBe(
          `pronto-notify: messages in flight (SITE_IN_FLIGHT) must be a whole number from 1 to 64, not ${value}`
        )
      }
    }))
})

/** A Site that, before answering, asks the database (from a connection of its own) what it holds of the message. */
const checkingSender = (seen: Array<string>, answer: Effect.Effect<void, SendInDoubt>) =>
  Layer.effect(
    Sender,
    Effect.map(SqlClient.SqlClient, (sql) =>
      Sender.of({
        send: (message) =>
          outsideTransaction(sql<{ status: string; started: boolean }>`
            SELECT status, post_started_at IS NOT NULL AS started FROM pronto_notify.notifications WHERE phone = ${message.phone}
          `).pipe(
            Effect.orDie,
            Effect.tap((rows) => Effect.sync(() => seen.push(rows.map((r) => `${r.status} ${r.started}`).join(",")))),
            Effect.zipRight(answer)
          )
      })),
  )

const seen: Array<string> = []
let answer: Effect.Effect<void, SendInDoubt> = Effect.void
const checking = Layer.mergeAll(
  ProntoNotify.layer(),
  checkingSender(seen, Effect.suspend(() => answer))
).pipe(Layer.provideMerge(TestDatabase.layer), Layer.merge(Logger.minimumLogLevel(LogLevel.None)))

const rows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ status: string; started: boolean }>`
    SELECT status, post_started_at IS NOT NULL AS started FROM pronto_notify.notifications ORDER BY notifications.id
  `)

layer(checking, { timeout: "60 seconds", excludeTestServices: true })("attempts recorded a block at a time", (it) => {
  it.effect("each message's attempt is committed, with its POST start, before the Site sees it", () =>
    Effect.gen(function*() {
      yield* truncateAll
      seen.length = 0
      answer = Effect.void
      yield* feedbackOrders(300)
      const summary = yield* Jobs.run("feedback").pipe(withClockAt(slot))
      expect(summary).toMatchObject({ selected: 300, sent: 300 })
      expect(seen).toHaveLength(300)
      expect(new Set(seen)).toEqual(new Set(["in_doubt true"]))
      expect(new Set((yield* rows).map((r) => `${r.status} ${r.started}`))).toEqual(new Set(["sent true"]))
    }))

  it.effect("a run that stops early forgets the attempts it prepared and did not send; the next run sends them", () =>
    Effect.gen(function*() {
      yield* truncateAll
      seen.length = 0
      answer = Effect.fail(new SendInDoubt({ reason: "no answer" }))
      yield* feedbackOrders(300)
      const stopped = yield* Jobs.run("feedback").pipe(withClockAt(slot))
      expect(stopped.stopped).toBe("circuit-breaker")
      expect(stopped.inDoubt).toBeGreaterThanOrEqual(BREAKER_THRESHOLD)
      // Only the attempts whose POST started are left, each in doubt; none waits for a later run.
      const left = yield* rows
      expect(left).toHaveLength(stopped.inDoubt)
      expect(new Set(left.map((r) => `${r.status} ${r.started}`))).toEqual(new Set(["in_doubt true"]))
      answer = Effect.void
      const next = yield* Jobs.run("feedback").pipe(withClockAt(slot))
      expect(next).toMatchObject({ selected: 300 - stopped.inDoubt, sent: 300 - stopped.inDoubt, inDoubt: 0 })
    }))
})
