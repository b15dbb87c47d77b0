/**
 * `pronto-notify settle [<notification-id>...] --delivered | --not-delivered [--kind] [--from] [--to]
 * [--run]`: settles messages left in doubt, once the operator knows whether the Site delivered
 * them: the ids given, or every one of a kind, an attempt-time range and a run (see `in-doubt`).
 * Not delivered, each goes out once more: at once within the sending hours when the Site is
 * configured, else with the next run of its kind; the words say which, and when.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Option } from "effect"
import * as SiteSender from "../delivery/SiteSender.ts"
import * as Jobs from "../engine/Jobs.ts"
import { Kinds } from "../kinds/Kinds.ts"
import { nextSlot, scheduleOf } from "../scheduling/Schedule.ts"
import { type InDoubtFilter, settleAllDelivered, settleAllNotDelivered } from "../store/InDoubt.ts"
import * as SendingHours from "../time/SendingHours.ts"
import { BadInput, businessTimeZone, libraryLayer, parseOptionalInstant, withLibrary } from "./Common.ts"

/** Which messages in doubt, besides ids: shared with `in-doubt`. */
export const filterOptions = {
  kind: Options.text("kind").pipe(Options.withDescription("only this kind's messages"), Options.optional),
  from: Options.text("from").pipe(
    Options.withDescription("only messages attempted at or after this ISO-8601 instant"),
    Options.optional
  ),
  to: Options.text("to").pipe(Options.withDescription("only messages attempted before this ISO-8601 instant"), Options.optional),
  run: Options.text("run").pipe(Options.withDescription("only the messages of this run (its summary's run)"), Options.optional)
}

interface FilterArgs {
  readonly kind: Option.Option<string>
  readonly from: Option.Option<string>
  readonly to: Option.Option<string>
  readonly run: Option.Option<string>
}

/** The filter options checked before the database is touched: a known kind, instants, a run number. */
export const parseFilter = (args: FilterArgs) =>
  Effect.gen(function*() {
    const kind = yield* Option.match(args.kind, {
      onNone: () => Effect.succeed(undefined),
      onSome: (name) =>
        Effect.map(Effect.flatMap(Kinds, (registry) => registry.get(name)), (k) => k.name).pipe(
          Effect.mapError((e) => new BadInput({ message: e.message }))
        )
    })
    const from = Option.getOrUndefined(yield* parseOptionalInstant("--from", args.from))
    const to = Option.getOrUndefined(yield* parseOptionalInstant("--to", args.to))
    const run = yield* Option.match(args.run, {
      onNone: () => Effect.succeed(undefined),
      onSome: (text) =>
        /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 2 ** 31 - 1
          ? Effect.succeed(Number(text))
          : Effect.fail(new BadInput({ message: `--run "${text}" is not a run (the number a run's summary shows)` }))
    })
    return { kind, from, to, run } satisfies InDoubtFilter
  })

/**
 * Not delivered: each goes out once more. Within the sending hours, with the Site configured, at
 * once; otherwise by the next run of its kind, whose slot the words give.
 */
const notDelivered = (which: InDoubtFilter, ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const zone = yield* businessTimeZone
    const site = yield* Effect.option(SiteSender.siteConfig)
    const now = yield* DateTime.now
    const atOnce = Option.isSome(site) && SendingHours.within(now, zone.zone)
    const program = Effect.gen(function*() {
      const result = yield* settleAllNotDelivered(which)
      const sentNow = atOnce && Option.isSome(site)
        ? yield* Effect.forEach(result.kinds, (kind) => Jobs.resend(kind)).pipe(Effect.provide(SiteSender.layer(site.value)))
        : []
      const schedule = scheduleOf(yield* Kinds)
      return { result, sentNow, schedule }
    })
    const { result, schedule, sentNow } = yield* program.pipe(Effect.provide(libraryLayer(zone)))
    const count = (n: number) => (n === 1 && ids.length === 1 ? `notification ${ids[0]}` : `${n} messages`)
    const lines: Array<string> = [`${count(result.settled)} settled as not delivered`]
    if (result.resend.length > 0) {
      if (sentNow.length > 0) {
        const total = (key: "sent" | "inDoubt" | "failed" | "refused") => sentNow.reduce((n, s) => n + s[key], 0)
        lines.push(
          `  ${result.resend.length} sent again now: ${total("sent")} sent` +
            (total("inDoubt") > 0 ? `, ${total("inDoubt")} in doubt again (settle them)` : "") +
            (total("failed") + total("refused") > 0
              ? `, ${total("failed") + total("refused")} not taken: the next run of their kind tries again`
              : "")
        )
      } else {
        const why = Option.isNone(site) ? "the Site is not configured here" : `it is outside the sending hours, ${SendingHours.WORDS}`
        for (const kind of result.kinds) {
          const entry = schedule.find((e) => e.job === kind)
          const next = entry === undefined ? "" : ` at ${DateTime.formatIsoZoned(DateTime.setZone(nextSlot(entry, now, zone.zone), zone.zone))}`
          lines.push(`  ${kind}: they go out once more with its next run${next} (${why})`)
        }
      }
    }
    for (const g of result.gone) lines.push(`  notification ${g.id} (${g.kind}) cannot go out again: ${g.why}; it is forgotten`)
    for (const line of lines) yield* Console.log(line)
  })

export const command = Command.make(
  "settle",
  {
    ids: Args.text({ name: "notification-id" }).pipe(
      Args.withDescription("the id of a message in doubt (see messages)"),
      Args.repeated
    ),
    delivered: Options.boolean("delivered").pipe(Options.withDescription("the Site did deliver it: do its actions, record it sent")),
    notDelivered: Options.boolean("not-delivered").pipe(
      Options.withDescription(
        "the Site did not deliver it: it goes out once more, at once within the sending hours, else with the next run of its kind"
      )
    ),
    ...filterOptions
  },
  (args) =>
    Effect.gen(function*() {
      const bad = args.ids.find((id) => !/^[1-9][0-9]{0,18}$/.test(id))
      if (bad !== undefined) {
        return yield* new BadInput({ message: `"${bad}" is not a notification id (the number messages shows)` })
      }
      if (args.delivered === args.notDelivered) {
        return yield* new BadInput({ message: "say which: settle <notification-id> --delivered, or --not-delivered" })
      }
      const filter = yield* parseFilter(args)
      const byFilter = Object.values(filter).some((v) => v !== undefined)
      if (args.ids.length > 0 && byFilter) {
        return yield* new BadInput({ message: "give notification ids, or --kind/--from/--to/--run, not both" })
      }
      if (args.ids.length === 0 && !byFilter) {
        return yield* new BadInput({
          message: "say which messages: notification ids, or --kind/--from/--to/--run (see pronto-notify in-doubt)"
        })
      }
      const which: InDoubtFilter = args.ids.length > 0 ? { ids: args.ids } : filter
      if (args.notDelivered) return yield* notDelivered(which, args.ids)
      const { settled } = yield* withLibrary(settleAllDelivered(which))
      const [id] = args.ids
      yield* Console.log(
        args.ids.length === 1 && id !== undefined
          ? `notification ${id}: delivered; its actions are done and it is recorded sent`
          : `${settled} messages settled as delivered: their actions are done and they are recorded sent`
      )
    })
).pipe(Command.withDescription("settle a message left in doubt, once you know whether the Site delivered it"))
