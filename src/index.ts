/**
 * @pronto/notify: the library a host embeds. It needs only `effect`, `@effect/sql` (the host's
 * SqlClient) and `@effect/platform`; what needs more has an entry of its own:
 * `@pronto/notify/postgres` (a PgClient from DATABASE_URL, or embedded PostgreSQL),
 * `@pronto/notify/cluster` (the jobs as Effect Cluster crons) and `@pronto/notify/bonus-api` (the
 * bonus server's HTTP API and a BonusServer over it). Nothing outside these entries is public.
 */
export { BusinessTimeZone, DEFAULT_TIME_ZONE, InvalidTimeZone } from "./time/BusinessTime.ts"
export { parseIsoInstant } from "./time/Instant.ts"
export { withClockAt } from "./time/Clock.ts"
export type { LocalDate } from "./time/BusinessTime.ts"

export { migrate } from "./store/Migrations.ts"
export { installReferenceHostSchema, ORDER_SOURCES, ORDER_STATUSES } from "./host/HostSchema.ts"
export type { OrderSource, OrderStatus } from "./host/HostSchema.ts"

export * as ProntoNotify from "./host/ProntoNotify.ts"
export * as Jobs from "./engine/Jobs.ts"
export { CONCURRENCY } from "./engine/Job.ts"
export { DEFAULT_IN_FLIGHT, InFlight, InvalidInFlight, MAX_IN_FLIGHT, poolSizeFor } from "./delivery/InFlight.ts"
export { BREAKER_THRESHOLD } from "./engine/Job.ts"
export type { RunSummary } from "./engine/Job.ts"
export type { RunOptions, Stop } from "./engine/Job.ts"
export type { PreviewLine } from "./engine/Preview.ts"
export { Outcome } from "./engine/Delivery.ts"
export * as Kind from "./kinds/Kind.ts"
export { ActionFailed, ActionStrategy, ReactionRule, Selector } from "./kinds/Kind.ts"
export type {
  ActionError,
  ActionPlan,
  ActionSet,
  AnyKind,
  Candidate,
  ClientId,
  KindRequirements,
  NotificationId,
  Timing
} from "./kinds/Kind.ts"
export { BUILT_IN, Kinds, KINDS, UnknownKind } from "./kinds/Registry.ts"
export type { BuiltInKindName, Registry } from "./kinds/Registry.ts"
export * as Trigger from "./kinds/Trigger.ts"
export { Birthday } from "./kinds/Birthday.ts"
export { Feedback } from "./kinds/Feedback.ts"
export { Invite } from "./kinds/Invite.ts"
export { Profile } from "./kinds/Profile.ts"

export { Message, MessageStatus, Notifications, Reaction } from "./store/Notifications.ts"
export type { Attempt, MessageFilter } from "./store/Notifications.ts"
export { NotInDoubt, settleDelivered, settleNotDelivered } from "./store/InDoubt.ts"
export { InDoubtMessage, list as listInDoubt, settleAllDelivered, settleAllNotDelivered } from "./store/InDoubt.ts"
export type { InDoubtFilter, Settled } from "./store/InDoubt.ts"
export { actionOfTurn, Rotation } from "./engine/Rotation.ts"

export { RecordingSender, Sender, SendFailed, SendInDoubt } from "./delivery/Sender.ts"
export type { OutgoingMessage, SendError } from "./delivery/Sender.ts"
export * as SiteSender from "./delivery/SiteSender.ts"
export { maskPhone, normalizePhone } from "./delivery/Phone.ts"

export { BonusServer, BonusServerError, InsufficientBalance } from "./bonus/BonusServer.ts"
export type { Accrual, AccrualLookup, FoundAccrual, OperationId } from "./bonus/BonusServer.ts"

export * as BonusLedger from "./bonus/BonusLedger.ts"
export { accrueForOrder, ORDER_REASON, TEMPORARY_LIFETIME_DAYS, temporaryExpiry } from "./bonus/BonusLedger.ts"
export { backfillLastOrder, orderClosed, OrderNotClosed, OrderNotFound, ordersClosed } from "./host/Orders.ts"
export { InvalidOrderUid, parseOrderUid } from "./host/OrderUid.ts"
export type { Backfilled, OrderClosed, OrdersClosed } from "./host/Orders.ts"
export {
  birthdayDiscount,
  birthdayDiscountForOrder,
  birthdayInYear,
  DAYS_AFTER_BIRTHDAY,
  daysSinceBirthday,
  DISCOUNT_PERCENT
} from "./host/BirthdayDiscount.ts"

export * as Reactions from "./reactions/Reactions.ts"
export type { ReactionSummary, ReactionTally } from "./reactions/Reactions.ts"

export {
  cronOf,
  due,
  entryOf,
  JOB_NAMES,
  latestSlot,
  nextSlot,
  REACTIONS_JOB,
  SCHEDULE,
  scheduleOf,
  slotToRun
} from "./scheduling/Schedule.ts"
export { SENDING_HOURS, windowEnd } from "./scheduling/Schedule.ts"
export type { JobName, ScheduleEntry } from "./scheduling/Schedule.ts"
export * as Scheduler from "./scheduling/Scheduler.ts"
export * as JobRuns from "./scheduling/JobRuns.ts"

export * as Report from "./report/Report.ts"
export type {
  ActionFigures,
  Band,
  Baseline,
  Comparison,
  Group,
  Period,
  ReportData,
  ReportJson,
  Uplift
} from "./report/Report.ts"
export { InvalidReportPeriod } from "./report/Report.ts"
export { renderHtml as renderReportHtml } from "./report/Html.ts"
export * as Statistics from "./report/Statistics.ts"
