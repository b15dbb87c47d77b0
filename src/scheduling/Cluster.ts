/**
 * The Effect Cluster that runs the jobs on schedule (`ClusterJobs`), its storage in the same
 * PostgreSQL: every process built on `layer` (`pronto-notify serve`, a host's own runners)
 * joins one cluster, so each cron runs once among them all.
 */
import {
  HttpRunner,
  type RunnerAddress,
  RunnerHealth,
  Runners,
  Sharding,
  ShardingConfig,
  SqlMessageStorage,
  SqlRunnerStorage
} from "@effect/cluster"
import {
  HttpClient,
  HttpClientRequest,
  HttpLayerRouter,
  type HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { RpcSerialization } from "@effect/rpc"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import * as Health from "../observability/Health.ts"
import * as JobRuns from "./JobRuns.ts"

/** The advisory lock under which a runner creates the cluster's tables. */
const STORAGE_LOCK = "pronto_notify cluster storage"

/** @effect/cluster's tables, beside the library's (public schema: its index names cannot be qualified). */
export const CLUSTER_TABLE_PREFIX = "pronto_notify_cluster"

/**
 * The cluster's timings. A dead runner's shards move once its heartbeat is older than the
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

/** One of several runners: where the others reach it, and the secret they all share. */
export interface Runner {
  /** Where this runner listens, and the others reach it: only there. */
  readonly address: RunnerAddress.RunnerAddress
  /** Every runner of the cluster sends it, and takes only requests that carry it. */
  readonly secret: Redacted.Redacted<string>
}

/** A shared secret shorter than this is guessable; `layer` refuses it. */
export const MIN_SECRET_LENGTH = 16

/** A runner that cannot join safely; the message says what to fix and prints no secret. */
export class InvalidRunner extends Schema.TaggedError<InvalidRunner>()("InvalidRunner", { message: Schema.String }) {}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest()

/**
 * Lets through only requests that carry the runners' secret (`Authorization: Bearer …`, compared
 * in constant time); any other gets an empty 401 and reaches no handler.
 */
const onlyRunners = (secret: Redacted.Redacted<string>) => {
  const expected = digest(`Bearer ${Redacted.value(secret)}`)
  return HttpLayerRouter.middleware(
    (app) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const given = request.headers["authorization"]
        return given !== undefined && timingSafeEqual(digest(given), expected)
          ? app
          : Effect.succeed(HttpServerResponse.empty({ status: 401 }))
      }),
    { global: true }
  )
}

/** Runner-to-runner calls, each with the secret. */
const withSecret = (secret: Redacted.Redacted<string>) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) => HttpClient.mapRequest(client, HttpClientRequest.bearerToken(Redacted.value(secret))))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * One of several: serves @effect/cluster's runner protocol over HTTP at its address only, to
 * callers with the secret; pings the others and shares shards through PostgreSQL.
 */
const httpRunner = (config: Layer.Layer<ShardingConfig.ShardingConfig>, runner: Runner) => {
  const client = HttpRunner.layerClientProtocolHttp({ path: "/" }).pipe(Layer.provide(withSecret(runner.secret)))
  return HttpLayerRouter.serve(
    Layer.merge(HttpRunner.layerHttpOptions({ path: "/" }), onlyRunners(runner.secret)),
    { disableLogger: true, disableListenLog: true }
  ).pipe(
    Layer.provide(client),
    Layer.provide(NodeHttpServer.layer(createServer, { host: runner.address.host, port: runner.address.port })),
    Layer.provide(RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(client))),
    Layer.provide(storage),
    Layer.provide(config),
    Layer.provide(RpcSerialization.layerMsgPack)
  )
}

/**
 * The cluster over the SqlClient's database: a single runner, or with a `Runner` one of several,
 * listening at its address for the others, who must carry the shared secret. A host with no
 * cluster of its own can give it `ClusterJobs.layer`; every process built on it (serve, the
 * example runners) joins the same cluster. Its storage is prepared first
 * (`prepareClusterStorage`), so runners may start together.
 */
export const layer = (
  runner: Option.Option<Runner>
): Layer.Layer<Sharding.Sharding, InvalidRunner | SqlError.SqlError | HttpServerError.ServeError, SqlClient.SqlClient> => {
  if (Option.isSome(runner) && Redacted.value(runner.value.secret).length < MIN_SECRET_LENGTH) {
    return Layer.fail(new InvalidRunner({ message: `the runners' shared secret must be at least ${MIN_SECRET_LENGTH} characters` }))
  }
  const config = ShardingConfig.layer({
    ...SHARDING,
    ...(Option.isSome(runner) ? { runnerAddress: Option.some(runner.value.address) } : {})
  })
  const sharding = Option.isSome(runner) ? httpRunner(config, runner.value) : singleRunner(config)
  return sharding.pipe(Layer.provide(Layer.effectDiscard(prepareClusterStorage)))
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

/** Whether the cluster's shards are all held, for a readiness check: held and expected, and what that means. */
export interface ShardsHeld {
  readonly held: number
  readonly expected: number
}

/**
 * How many of the cluster's shards some runner holds right now, read from the database:
 * @effect/cluster's PostgreSQL runner storage holds shard `n` of the i-th shard group with the
 * session advisory lock `(i + 1) * 1 000 000 + n` (@effect/cluster 0.60's numbering; a test
 * checks it against a running `serve`). Every runner of the cluster shares this database, so it
 * counts theirs too.
 */
export const shardsHeld: Effect.Effect<ShardsHeld, SqlError.SqlError, SqlClient.SqlClient> =
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // SHARDING keeps @effect/cluster's shard groups and shards per group.
    const config = ShardingConfig.defaults
    const groups = config.availableShardGroups.length
    const ranges = Array.from({ length: groups }, (_, i) => sql`(l.objid BETWEEN ${(i + 1) * 1_000_000 + 1} AND ${(i + 1) * 1_000_000 + config.shardsPerGroup})`)
    const [row] = yield* sql<{ held: number }>`
      SELECT count(DISTINCT l.objid)::int AS held FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (${groups === 0 ? sql`false` : sql.or(ranges)})
    `
    return { held: Number(row?.held ?? 0), expected: groups * config.shardsPerGroup }
  })

/** Readiness: every shard of the cluster is held by a runner (`shardsHeld`), so every cron has a runner to run it. */
export const shardsCheck: Effect.Effect<Health.Check, never, SqlClient.SqlClient> = Health.check(
  "cluster",
  Effect.flatMap(shardsHeld, ({ expected, held }) =>
    held >= expected
      ? Effect.succeed(`all ${expected} shards held`)
      : Effect.fail(new Health.NotReady({ message: `${held} of ${expected} shards held: the runners are still taking them, or one has gone` })))
)
