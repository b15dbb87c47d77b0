/**
 * What a host developer meets when something is set up wrong, each said in words that name the
 * cause and the setting as the host wrote it: a database without the library's tables (or the
 * host's), an option given in code, a Site URL that cannot serve; and results that print as plain
 * JSON.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { DateTime, Effect, Exit, Layer, Redacted } from "effect"
import { Sender } from "../src/delivery/Sender.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import { orderClosed } from "../src/host/Orders.ts"
import * as Reactions from "../src/reactions/Reactions.ts"
import * as Report from "../src/report/Report.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as Database from "../src/database/Database.ts"
import { migrate } from "../src/migrations/Migrations.ts"
import { insertClient, insertOrder } from "./support/Fixtures.ts"
import * as Harness from "./support/Harness.ts"
import { makeDatabase } from "./support/TestDatabase.ts"

const AT = DateTime.unsafeMake("2026-03-10T09:00:00Z")

/** The library over a database that has neither its tables nor the host's. */
const bare = Layer.unwrapScoped(Effect.map(makeDatabase, ({ url }) => Database.layerUrl(url).pipe(Layer.orDie))).pipe(
  (database) => Layer.mergeAll(ProntoNotify.layer(), Sender.layerTest).pipe(Layer.provideMerge(database))
)

layer(bare, { timeout: "60 seconds" })("a database without the library's tables", (it) => {
  it.effect("a job, the reaction job and the report say to apply the migrations", () =>
    Effect.gen(function*() {
      const failures = [
        yield* Effect.flip(withClockAt(AT)(Jobs.run("feedback"))),
        yield* Effect.flip(withClockAt(AT)(Reactions.run)),
        yield* Effect.flip(Report.compute())
      ]
      for (const error of failures) {
        expect(error._tag).toBe("TablesMissing")
        expect(error.message).toMatch(/^the database has no (schema pronto_notify|pronto_notify\.\w+): apply the library's migrations first/)
        expect(error.message).toContain("pronto-notify migrate")
      }
    }))

  it.effect("once migrated, a host table that is missing is named as the host's", () =>
    Effect.gen(function*() {
      yield* migrate
      const error = yield* Effect.flip(withClockAt(AT)(Jobs.run("feedback")))
      expect(error._tag).toBe("TablesMissing")
      expect(error.message).toMatch(/^the database has no jupiter\.\w+: the host's tables must be there/)
    }))
})

describe("options given in code", () => {
  const buildError = (options: ProntoNotify.Options) =>
    Layer.build(ProntoNotify.layer(options)).pipe(
      Effect.provide(Layer.succeed(SqlClient.SqlClient, {} as SqlClient.SqlClient)),
      Effect.scoped,
      Effect.flip
    )

  it.effect("are named as the host wrote them, not as the command line's environment variables", () =>
    Effect.gen(function*() {
      const zone = yield* buildError({ timeZone: "Europe/Moskva" })
      expect(zone.message).toBe(`timeZone "Europe/Moskva" is not an IANA time zone name (for example Europe/Moscow)`)
      const inFlight = yield* buildError({ inFlight: 100 })
      expect(inFlight.message).toBe("messages in flight (inFlight) must be a whole number from 1 to 64, not 100")
    }))

  it.effect("a Site URL that cannot serve is a typed error naming SiteConfig.url, and no secret", () =>
    Effect.gen(function*() {
      for (const url of ["not a url", "ftp://site.example", "https://user:s3cret@site.example"]) {
        const exit = yield* Effect.exit(Layer.build(SiteSender.layer({ url, key: Redacted.make("k3y") })).pipe(Effect.scoped))
        expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Fail")
        const error = yield* Effect.flip(Layer.build(SiteSender.layer({ url, key: Redacted.make("k3y") })).pipe(Effect.scoped))
        expect(error).toBeInstanceOf(SiteSender.SiteNotConfigured)
        expect(error.message).toMatch(/^SiteSender: SiteConfig\.url /)
        expect(error.message).not.toContain("s3cret")
        expect(error.message).not.toContain("k3y")
      }
    }))
})

layer(Harness.layer, { timeout: "60 seconds" })("results a host prints", (it) => {
  it.effect("orderClosed's result is plain JSON: null for none, the instant as ISO text", () =>
    Effect.gen(function*() {
      yield* insertClient({ id: 7 })
      const uid = yield* insertOrder({ clientId: 7, closedAt: "2026-03-01T10:00:00Z" })
      const anonymous = yield* insertOrder({ clientId: null, closedAt: "2026-03-01T11:00:00Z" })
      expect(JSON.parse(JSON.stringify(yield* orderClosed(uid)))).toEqual({
        orderUid: uid,
        clientId: "7",
        lastOrderAt: "2026-03-01T10:00:00.000Z",
        moved: true,
        inviteMarkCleared: false
      })
      expect(JSON.parse(JSON.stringify(yield* orderClosed(anonymous)))).toEqual({
        orderUid: anonymous,
        clientId: null,
        lastOrderAt: null,
        moved: false,
        inviteMarkCleared: false
      })
    }))
})
