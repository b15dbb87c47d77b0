/**
 * The Effect Cluster that runs the jobs on schedule (`ClusterJobs`), its storage in the same
 * PostgreSQL: every process built on `layer` (`pronto-notify serve`, a host's own runners)
 * joins one cluster, so each cron runs once among them all.
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
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql"
import { Duration, Effect, Layer, Option } from "effect"
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
 * The cluster over the SqlClient's database: a single runner, or with an address a socket runner
 * among others. A host with no cluster of its own can give it `ClusterJobs.layer`; every process
 * built on it (serve, the example runners) joins the same cluster. Its storage is prepared first
 * (`prepareClusterStorage`), so runners may start together.
 */
export const layer = (address: Option.Option<RunnerAddress.RunnerAddress>) => {
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
