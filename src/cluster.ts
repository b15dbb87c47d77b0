/**
 * @pronto/notify/cluster: the jobs as Effect Cluster crons (`ClusterJobs.layer`) and the cluster
 * that `pronto-notify serve` runs (`Cluster.layer`, storage in the same PostgreSQL). Needs
 * `@effect/cluster`, `@effect/rpc` and `@effect/platform-node` beside the library's peers.
 */
export * as Cluster from "./scheduling/Cluster.ts"
export * as ClusterJobs from "./scheduling/ClusterJobs.ts"
