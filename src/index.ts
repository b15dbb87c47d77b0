/**
 * @pronto/notify: the library a host embeds, as namespaces (one module each, as `@effect/sql`
 * exports its own). It needs only `effect`, `@effect/sql` (the host's SqlClient) and
 * `@effect/platform`; what needs more has an entry of its own: `@pronto/notify/postgres` (a
 * PgClient from DATABASE_URL, or embedded PostgreSQL), `@pronto/notify/cluster` (the jobs as
 * Effect Cluster crons) and `@pronto/notify/bonus-api` (the bonus server's HTTP API and a
 * BonusServer over it). Nothing outside these entries is public.
 */

// Embedding: the services, the jobs and what a run is made of.
export * as ProntoNotify from "./host/ProntoNotify.ts"
export * as Jobs from "./engine/Jobs.ts"
export * as Rotation from "./engine/Rotation.ts"
export * as InFlight from "./delivery/InFlight.ts"
export * as Migrations from "./migrations/Migrations.ts"

// The kinds, and what a kind is made of.
export * as Kinds from "./kinds/Kinds.ts"
export * as Kind from "./kinds/Kind.ts"
export * as Selection from "./kinds/Selection.ts"
export * as Gift from "./kinds/Gift.ts"
export * as Marks from "./kinds/Marks.ts"
export * as Trigger from "./kinds/Trigger.ts"

// Scheduling: by the host's planner, or by the library's own (`@pronto/notify/cluster`).
export * as Schedule from "./scheduling/Schedule.ts"
export * as Scheduler from "./scheduling/Scheduler.ts"
export * as JobRuns from "./scheduling/JobRuns.ts"

// Delivery: the Site, phones.
export * as Sender from "./delivery/Sender.ts"
export * as SiteSender from "./delivery/SiteSender.ts"
export * as Phone from "./delivery/Phone.ts"

// The messages table, messages in doubt, reactions and the report.
export * as Notifications from "./store/Notifications.ts"
export * as InDoubt from "./store/InDoubt.ts"
export * as Reactions from "./reactions/Reactions.ts"
export * as Report from "./report/Report.ts"
export * as Statistics from "./report/Statistics.ts"

// The host's side: its tables, its orders, its bonus server, the birthday discount.
export * as HostSchema from "./host/HostSchema.ts"
export * as Orders from "./host/Orders.ts"
export * as OrderUid from "./host/OrderUid.ts"
export * as BirthdayDiscount from "./host/BirthdayDiscount.ts"
export * as BonusServer from "./bonus/BonusServer.ts"
export * as BonusLedger from "./bonus/BonusLedger.ts"

// Time: the business time zone (C1), instants, runs "as of" an instant.
export * as BusinessTime from "./time/BusinessTime.ts"
export * as Instant from "./time/Instant.ts"
export * as ShiftedClock from "./time/ShiftedClock.ts"

// What monitoring sees: Effect metrics the library records (spans are Effect's own), and the
// gauges a serving process samples from the database. Exporting them: @pronto/notify/observability.
export * as Metrics from "./observability/Metrics.ts"
export * as Sampler from "./observability/Sampler.ts"
