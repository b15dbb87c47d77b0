/**
 * `pronto-notify serve`: a standalone runner that runs every job on schedule (`ClusterJobs` on an
 * Effect Cluster whose storage is the same PostgreSQL), logs each run's summary, and stops cleanly
 * on SIGTERM: the notification in flight is finished or rolled back (Job.ts keeps each one
 * uninterruptible), the run stops there, its slot is recorded interrupted and its tick stays
 * unanswered in storage, so it runs again when a runner next holds it.
 *
 * Alone it is a single runner. With `PRONTO_NOTIFY_RUNNER=host:port` it is a socket runner that
 * listens there and shares the cluster with every other runner on the same database: shards, and
 * with them the crons, move to the survivors when one dies.
 */
import {
  RunnerAddress,
  RunnerHealth,
  Runners,
  Sharding,
  ShardingConfig,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage
} from "@effect/cluster"
import { NodeClusterSocket } from "@effect/platform-node"
import { RpcSerialization } from "@effect/rpc"
import { SqlClient, type SqlError } from "@effect/sql"
import { Clock, Config, DateTime, Duration, Effect, Layer, Option } from "effect"
import { BadInput, businessTimeZone, libraryLayer, parseInstant } from "../cli/Common.ts"
import * as ClusterJobs from "./ClusterJobs.ts"
import * as JobRuns from "./JobRuns.ts"
import { nextSlot, SCHEDULE } from "./Schedule.ts"
import * as SiteSender from "../delivery/SiteSender.ts"

/** The advisory lock under which a runner creates the cluster's tables. */
const STORAGE_LOCK = "pronto_notify cluster storage"

/** @effect/cluster's tables for `serve`, beside the library's (public schema: its index names cannot be qualified). */
export const CLUSTER_TABLE_PREFIX = "pronto_notify_cluster"

/**
 * Cluster timings of `serve`. A dead runner's shards move once its heartbeat is older than the
 * lock expiration (or sooner, when the others' health check finds it gone); a tick is picked up
 * from storage within the poll interval. Every runner of one
 * cluster must use the same values, so they are constants, not settings.
 */
const SHARDING: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  shardLockRefreshInterval: Duration.seconds(5),
  shardLockExpiration: Duration.seconds(15),
  runnerHealthCheckInterval: Duration.seconds(10),
  entityMessagePollInterval: Duration.seconds(1),
  // On SIGTERM a running job gets this long, then stops after the notifications in flight (each
  // is uninterruptible); its tick, unanswered, runs again on the next runner to hold it.
  entityTerminationTimeout: Duration.seconds(1)
}

const RUNNER_ADDRESS = /^([^:\s]+):(\d{1,5})$/

/** `PRONTO_NOTIFY_RUNNER=host:port`: join a multi-runner cluster as a socket runner at that address. */
const runnerAddress = Effect.gen(function*() {
  const text = yield* Config.option(Config.string("PRONTO_NOTIFY_RUNNER")).pipe(Effect.orDie)
  if (Option.isNone(text) || text.value.trim() === "") return Option.none<RunnerAddress.RunnerAddress>()
  const match = RUNNER_ADDRESS.exec(text.value.trim())
  const port = match ? Number(match[2]) : 0
  if (!match || port < 1 || port > 65535) {
    return yield* new BadInput({
      message: `PRONTO_NOTIFY_RUNNER "${text.value}" is not host:port, e.g. 10.0.0.5:34431 (the address other runners reach this one at)`
    })
  }
  return Option.some(RunnerAddress.make(match[1]!, port))
})

const storage = Layer.merge(
  SqlMessageStorage.layerWith({ prefix: CLUSTER_TABLE_PREFIX }),
  Layer.orDie(SqlRunnerStorage.layerWith({ prefix: CLUSTER_TABLE_PREFIX }))
)

/** One process: a runner that holds every shard and talks to no other. */
const singleRunner = (config: Layer.Layer<ShardingConfig.ShardingConfig>) =>
  Sharding.layer.pipe(
    Layer.provide([Runners.layerNoop, RunnerHealth.layerNoop]),
    Layer.provide(storage),
    Layer.provide(config)
  )

/** One of several: listens at its address, pings the others, shares shards through PostgreSQL. */
const socketRunner = (config: Layer.Layer<ShardingConfig.ShardingConfig>) =>
  SocketRunner.layer.pipe(
    Layer.provide([NodeClusterSocket.layerSocketServer, NodeClusterSocket.layerClientProtocol]),
    Layer.provide(RunnerHealth.layerPing.pipe(
      Layer.provide(Runners.layerRpc),
      Layer.provide(NodeClusterSocket.layerClientProtocol)
    )),
    Layer.provide(storage),
    Layer.provide(config),
    Layer.provide(RpcSerialization.layerMsgPack)
  )

/**
 * The cluster of `serve` over the SqlClient's database: a single runner, or with an address a
 * socket runner among others. A host with no cluster of its own can give it `ClusterJobs.layer`;
 * every process built on it (serve, the example runners) joins the same cluster. Its storage is
 * prepared first (`prepareClusterStorage`), so runners may start together.
 */
export const clusterLayer = (address: Option.Option<RunnerAddress.RunnerAddress>) => {
  const config = ShardingConfig.layer({ ...SHARDING, ...(Option.isSome(address) ? { runnerAddress: address } : {}) })
  const runner = Option.isSome(address) ? socketRunner(config) : singleRunner(config)
  return runner.pipe(Layer.provide(Layer.effectDiscard(prepareClusterStorage)))
}

/**
 * @effect/cluster creates its tables when its storage starts; runners starting together would race
 * on that, so the first one creates them under a lock while the others wait. (Not in one transaction
 * with a transaction lock: @effect/cluster's migrator cannot run inside a transaction.) Should the
 * lock's release fail, its connection is closed rather than returned to the pool still holding it
 * (`JobRuns.releaseOrClose`), so no runner can be left waiting forever.
 */
export const prepareClusterStorage = Effect.scoped(Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const conn = yield* sql.reserve
  const onLock = (statement: string) =>
    conn.execute(statement, [], undefined) as Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError.SqlError>
  yield* Effect.acquireRelease(
    Effect.map(
      onLock(`SELECT pg_advisory_lock(hashtext('${STORAGE_LOCK}')), pg_backend_pid() AS pid`),
      (rows) => Number(rows[0]?.pid)
    ),
    (pid) =>
      JobRuns.releaseOrClose(
        conn,
        pid,
        `the cluster storage lock (${STORAGE_LOCK})`,
        Effect.map(onLock(`SELECT pg_advisory_unlock(hashtext('${STORAGE_LOCK}')) AS unlocked`), (rows) => rows[0]?.unlocked === true)
      )
  )
  yield* Effect.scoped(Layer.build(storage.pipe(Layer.provide(ShardingConfig.layer(SHARDING)))))
}))

/**
 * A test and demo aid, never set in a deployment: `PRONTO_NOTIFY_CLOCK_START=<ISO instant>` makes
 * the process's Clock read that instant at `PRONTO_NOTIFY_CLOCK_ANCHOR=<ISO instant>` of real time
 * (default: when the process starts), running `PRONTO_NOTIFY_CLOCK_SPEED` times as fast (default 1).
 * Runners given the same three values share one clock.
 */
export const clockFromEnvironment = Effect.gen(function*() {
  const env = (name: string) =>
    Config.option(Config.string(name)).pipe(Effect.orDie, Effect.map(Option.filter((s) => s.trim() !== "")))
  const start = yield* env("PRONTO_NOTIFY_CLOCK_START")
  if (Option.isNone(start)) return Option.none<Clock.Clock>()
  const live = Clock.make()
  const startMs = DateTime.toEpochMillis(yield* parseInstant("PRONTO_NOTIFY_CLOCK_START", start.value))
  const anchor = yield* env("PRONTO_NOTIFY_CLOCK_ANCHOR")
  const anchorMs = Option.isSome(anchor)
    ? DateTime.toEpochMillis(yield* parseInstant("PRONTO_NOTIFY_CLOCK_ANCHOR", anchor.value))
    : live.unsafeCurrentTimeMillis()
  const speedText = yield* env("PRONTO_NOTIFY_CLOCK_SPEED")
  const speed = Option.isSome(speedText) ? Number(speedText.value) : 1
  if (!(speed > 0 && Number.isFinite(speed))) {
    return yield* new BadInput({ message: `PRONTO_NOTIFY_CLOCK_SPEED "${Option.getOrElse(speedText, () => "")}" is not a positive number` })
  }
  const now = () => startMs + (live.unsafeCurrentTimeMillis() - anchorMs) * speed
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: now,
    currentTimeMillis: Effect.sync(now),
    unsafeCurrentTimeNanos: () => BigInt(Math.round(now() * 1_000_000)),
    currentTimeNanos: Effect.sync(() => BigInt(Math.round(now() * 1_000_000))),
    sleep: (duration) => live.sleep(Duration.millis(Duration.toMillis(duration) / speed))
  }
  return Option.some(clock)
})

/** Runs every job on schedule until interrupted (SIGTERM, SIGINT). */
export const serve = Effect.gen(function*() {
  // Every input is checked before anything starts.
  const zone = yield* businessTimeZone
  const site = yield* SiteSender.siteConfig.pipe(
    // The reason (SITE_URL missing, not an http(s) URL, SITE_KEY missing) is kept.
    Effect.mapError((error) => new BadInput({ message: `serve sends messages through the Site: ${error.message}` }))
  )
  const address = yield* runnerAddress
  const clock = yield* clockFromEnvironment

  const jobs = ClusterJobs.layer.pipe(
    Layer.provide(clusterLayer(address)),
    Layer.provide(SiteSender.layer(site))
  )

  const program = Effect.gen(function*() {
    const now = yield* DateTime.now
    yield* Effect.logInfo(
      `pronto-notify serve: ${Option.match(address, { onNone: () => "single runner", onSome: (a) => `runner ${a.host}:${a.port}` })}, ` +
        `business time zone ${zone.name}, now ${DateTime.formatIso(now)}; next: ` +
        SCHEDULE.map((e) => `${e.job} ${DateTime.formatIso(nextSlot(e, now, zone.zone))}`).join(", ")
    )
    return yield* Layer.launch(jobs)
  }).pipe(Effect.provide(libraryLayer(zone)))

  return yield* Option.match(clock, { onNone: () => program, onSome: (c) => Effect.withClock(program, c) })
})
