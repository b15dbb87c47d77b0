/**
 * Several runners sharing one PostgreSQL: a host process that is one @effect/cluster HTTP runner
 * with SQL storage and runs the library's crons (`ClusterJobs.layer`). Start it several times, on
 * one machine or many, each with the address the others reach it at:
 *
 *   RUNNER_PORT=34431 RUNNER_SECRET=... DATABASE_URL=postgres://... SITE_URL=... SITE_KEY=... npx tsx examples/cluster-runners.ts
 *   RUNNER_PORT=34432 RUNNER_SECRET=... DATABASE_URL=postgres://... SITE_URL=... SITE_KEY=... npx tsx examples/cluster-runners.ts
 *   RUNNER_PORT=34433 ...
 *
 * It joins the same cluster as `pronto-notify serve` on that database: it uses serve's cluster
 * (`Cluster.layer`: the same storage tables, pronto_notify_cluster_*, and the same timings), so
 * example runners and `serve` runners share the shards and each cron runs once among them all. (A
 * runner with its own storage, e.g. @effect/cluster's default tables cluster_*, would form a second
 * cluster that runs every cron again.)
 *
 * The shards, and with them each job's cron, are spread over the runners; when one dies its shards
 * move to the others, and a tick it was running is delivered again. That repeat runs the same
 * (job, slot) through `JobRuns`: it takes over what was left and sends nothing twice. A run that
 * fails is retried with backoff while its slot is within its catch-up window. The database must
 * have been migrated (`pronto-notify migrate`).
 */
import { RunnerAddress } from "@effect/cluster"
import { NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Option } from "effect"
import { ProntoNotify, SiteSender } from "@pronto/notify"
import { Cluster, ClusterJobs } from "@pronto/notify/cluster"
import { Database } from "@pronto/notify/postgres"

const runner = Layer.unwrapEffect(
  Effect.gen(function*() {
    const host = yield* Config.string("RUNNER_HOST").pipe(Config.withDefault("127.0.0.1"))
    const port = yield* Config.integer("RUNNER_PORT")
    // Every runner shares it; a runner's port takes only requests that carry it.
    const secret = yield* Config.redacted("RUNNER_SECRET")
    return Cluster.layer(Option.some({ address: RunnerAddress.make(host, port), secret }))
  })
)

const library = Layer.mergeAll(ProntoNotify.layer(), SiteSender.layerConfig)

const app = ClusterJobs.layer.pipe(
  Layer.provide(runner),
  Layer.provide(library),
  Layer.provide(Database.layer())
)

NodeRuntime.runMain(Layer.launch(app))
