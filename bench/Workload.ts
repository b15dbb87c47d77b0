/**
 * The benchmarks' workload: a database seeded with feedback orders and lapsed clients (invite),
 * reset between runs so that each run sends every message again, and one run of either the
 * engine or the bare baseline (`bare-protocol.ts`) against the Site stub.
 */
import { DateTime, Effect, Layer, Logger, LogLevel, ManagedRuntime, Redacted } from "effect"
import * as Database from "../src/database/Database.ts"
import * as SiteSender from "../src/delivery/SiteSender.ts"
import * as Jobs from "../src/engine/Jobs.ts"
import { installReferenceHostSchema } from "../src/host/HostSchema.ts"
import { poolSizeFor } from "../src/delivery/InFlight.ts"
import * as ProntoNotify from "../src/host/ProntoNotify.ts"
import { migrate } from "../src/migrations/Migrations.ts"
import { withClockAt } from "../src/time/ShiftedClock.ts"
import * as Bare from "./bare-protocol.ts"
import { query } from "./BenchDatabase.ts"
import type { SiteStub } from "./SiteStub.ts"

/** 12:00 in Moscow: a feedback slot and the invite's. */
export const RUN_AT = new Date("2026-03-10T09:00:00Z")

export type BenchKind = Bare.BareKind

/** The library's tables and the reference host's, on a fresh database. */
export const install = (url: string) =>
  Effect.runPromise(
    Effect.zipRight(installReferenceHostSchema, migrate).pipe(
      Effect.provide(Database.layerUrl(url)),
      Logger.withMinimumLogLevel(LogLevel.Error)
    )
  )

/**
 * `orders` feedback orders closed within the 24 hours before RUN_AT (their clients ordered then),
 * and `lapsed` clients whose last order was 20 (band B) or 40 days (band A) before it, none with a
 * bonus, so that invite's action 1 falls back to the gift.
 */
export const seed = async (url: string, orders: number, lapsed: number) => {
  await query(
    url,
    `INSERT INTO jupiter.clients (id, phone, last_order_at)
     SELECT i, '8916' || lpad(i::text, 7, '0'), $2::timestamptz - make_interval(secs => i % 80000)
     FROM generate_series(1, $1::int) i`,
    [orders, RUN_AT]
  )
  await query(
    url,
    `INSERT INTO jupiter.orders (uid, client_id, source, is_delivery, status, closed_at)
     SELECT gen_random_uuid(), i, 'site', true, 'closed', $2::timestamptz - make_interval(secs => i % 80000)
     FROM generate_series(1, $1::int) i`,
    [orders, RUN_AT]
  )
  await query(
    url,
    `INSERT INTO jupiter.clients (id, phone, last_order_at)
     SELECT 10000000 + i, '8926' || lpad(i::text, 7, '0'), $2::timestamptz - make_interval(days => CASE WHEN i % 2 = 0 THEN 20 ELSE 40 END)
     FROM generate_series(1, $1::int) i`,
    [lapsed, RUN_AT]
  )
  await query(url, "ANALYZE")
}

/** Replaces the seeded orders and clients. */
export const reseed = async (url: string, orders: number, lapsed: number) => {
  await query(url, "TRUNCATE jupiter.orders, jupiter.clients CASCADE")
  await reset(url)
  await seed(url, orders, lapsed)
}

/** Forgets every message, mark, gift and rotation turn: the next run sends them all again. */
export const reset = async (url: string) => {
  await query(
    url,
    `TRUNCATE pronto_notify.order_marks, pronto_notify.client_marks, pronto_notify.notifications,
       pronto_notify.rotation, jupiter.bonus_temporary, jupiter.bonus_permanent`
  )
  await query(url, "VACUUM ANALYZE pronto_notify.notifications")
}

export interface Measured {
  readonly sent: number
  readonly seconds: number
  readonly perSecond: number
}

const timed = async (f: () => Promise<number>): Promise<Measured> => {
  const started = performance.now()
  const sent = await f()
  const seconds = (performance.now() - started) / 1000
  return { sent, seconds, perSecond: sent / seconds }
}

/** What a runner adds around its runs (the observability benchmark's tracer and metrics). */
export interface Around {
  /** Built once with the runner's layers. */
  readonly layer?: Layer.Layer<never> | undefined
  /** Wraps each run. */
  readonly run?: (<A, E, R>(run: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) | undefined
}

/** The library as a runner holds it: its layers and its pool built once, for many runs. */
export const runner = (url: string, site: SiteStub, inFlight: number, around: Around = {}) => {
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(
      ProntoNotify.layer({ inFlight }),
      SiteSender.layer({ url: site.url, key: Redacted.make(site.key) }),
      around.layer ?? Layer.empty
    ).pipe(Layer.provideMerge(Database.layerUrl(url, { maxConnections: poolSizeFor(inFlight) })))
  )
  const wrap = around.run ?? (<A, E, R>(run: Effect.Effect<A, E, R>) => run)
  return {
    run: (kind: BenchKind) =>
      timed(() =>
        runtime.runPromise(
          wrap(Jobs.run(kind)).pipe(
            withClockAt(DateTime.unsafeFromDate(RUN_AT)),
            Effect.map((summary) => summary.sent),
            Logger.withMinimumLogLevel(LogLevel.Error)
          )
        )
      ),
    dispose: () => runtime.dispose()
  }
}

/** One engine run of `kind` at RUN_AT with a pool of its own, as the command line runs it. */
export const engine = async (url: string, site: SiteStub, kind: BenchKind, inFlight: number) => {
  const once = runner(url, site, inFlight)
  try {
    return await once.run(kind)
  } finally {
    await once.dispose()
  }
}

/** One bare run of `kind` at RUN_AT. */
export const bare = (url: string, site: SiteStub, kind: BenchKind, inFlight: number) =>
  timed(async () =>
    (await Bare.run({ databaseUrl: url, siteUrl: site.url, siteKey: site.key, kind, at: RUN_AT, inFlight })).sent
  )
