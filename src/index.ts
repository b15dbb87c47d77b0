/**
 * pronto-notify: the public API. Nothing outside this module is public.
 */
export { BusinessTimeZone, DEFAULT_TIME_ZONE, InvalidTimeZone, parseIsoInstant, withClockAt } from "./BusinessTime.ts"
export type { LocalDate } from "./BusinessTime.ts"

export * as Database from "./Database.ts"
export { DatabaseUnavailable } from "./Database.ts"
export type { EmbeddedOptions } from "./EmbeddedPostgres.ts"
export { migrate } from "./Migrations.ts"
export { installReferenceHostSchema, ORDER_SOURCES, ORDER_STATUSES } from "./HostSchema.ts"
export type { OrderSource, OrderStatus } from "./HostSchema.ts"

export * as ProntoNotify from "./ProntoNotify.ts"
export * as Jobs from "./Jobs.ts"
export { parseKind } from "./Kinds.ts"
export { CONCURRENCY } from "./Job.ts"
export type { PreviewLine, RunSummary } from "./Job.ts"
export { ActionFailed, ActionStrategy, KindName, KINDS, Selector, UnknownKind } from "./Kind.ts"
export type { ActionError, ActionPlan, Candidate } from "./Kind.ts"

export { Message, MessageStatus, Notifications, Reaction } from "./Notifications.ts"
export type { Attempt, MessageFilter } from "./Notifications.ts"
export { NotInDoubt, settleDelivered, settleNotDelivered } from "./InDoubt.ts"
export { actionOfSlot, Rotation } from "./Rotation.ts"
export type { RotationService } from "./Rotation.ts"

export { layerRecording, RecordingSender, Sender, SendFailed, SendInDoubt } from "./Sender.ts"
export type { OutgoingMessage, SendError } from "./Sender.ts"
export * as SiteSender from "./SiteSender.ts"
export { maskPhone, normalizePhone } from "./Phone.ts"

export { BonusServer, BonusServerError, InsufficientBalance, REASONS } from "./BonusServer.ts"
export type { Accrual, AccrualLookup, FoundAccrual, OperationId } from "./BonusServer.ts"

export * as BonusLedger from "./BonusLedger.ts"
export { accrueForOrder, ORDER_REASON, TEMPORARY_LIFETIME_DAYS, temporaryExpiry } from "./BonusLedger.ts"
export {
  backfillLastOrder,
  InvalidOrderUid,
  orderClosed,
  OrderNotClosed,
  OrderNotFound,
  ordersClosed,
  parseOrderUid
} from "./Orders.ts"
export type { Backfilled, OrderClosed, OrdersClosed } from "./Orders.ts"
export {
  birthdayDiscount,
  birthdayDiscountForOrder,
  birthdayInYear,
  DAYS_AFTER_BIRTHDAY,
  daysSinceBirthday,
  DISCOUNT_PERCENT
} from "./BirthdayDiscount.ts"

export * as Reactions from "./Reactions.ts"
export type { ReactionSummary, ReactionTally } from "./Reactions.ts"
export * as BonusApi from "./BonusApi.ts"
export * as BonusServerHttp from "./BonusServerHttp.ts"

export { cronOf, due, entryOf, JOB_NAMES, latestSlot, nextSlot, SCHEDULE, slotToRun } from "./Schedule.ts"
export type { JobName, ScheduleEntry } from "./Schedule.ts"
export * as Scheduler from "./Scheduler.ts"
export * as JobRuns from "./JobRuns.ts"
export * as ClusterJobs from "./ClusterJobs.ts"
export { CLUSTER_TABLE_PREFIX, clusterLayer, prepareClusterStorage, serve } from "./Serve.ts"
export { BadInput, SchemaMissing } from "./cli/Common.ts"

export * as Report from "./Report.ts"
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
} from "./Report.ts"
export { InvalidReportPeriod } from "./Report.ts"
export { renderHtml as renderReportHtml } from "./ReportHtml.ts"
export * as Statistics from "./Statistics.ts"

export * as Birthday from "./kinds/Birthday.ts"
export * as Feedback from "./kinds/Feedback.ts"
export * as Invite from "./kinds/Invite.ts"
export * as Profile from "./kinds/Profile.ts"
