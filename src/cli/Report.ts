/**
 * `pronto-notify report [--from] [--to] [--json] [--html FILE]`: the effectiveness report on
 * stdout (a text table, or JSON with --json), and with --html also as a self-contained page.
 */
import { Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { Console, DateTime, Effect, Option } from "effect"
import { BusinessTimeZone } from "../time/BusinessTime.ts"
import * as Report from "../report/Report.ts"
import { renderHtml } from "../report/Html.ts"
import { BadInput, businessTimeZone, libraryLayer, printJson } from "./Common.ts"

const bound = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

export const command = Command.make(
  "report",
  {
    from: bound("from", "first send instant counted: an ISO-8601 instant with an offset, or a date (its start in the business time zone)"),
    to: bound("to", "end of the period, exclusive: an instant or a date, as --from"),
    json: Options.boolean("json").pipe(Options.withDescription("print the figures as JSON instead of a text table")),
    html: Options.text("html").pipe(
      Options.withDescription("also write the report as a self-contained HTML page to this file"),
      Options.optional
    )
  },
  (args) =>
    Effect.gen(function*() {
      const zone = yield* businessTimeZone
      const parse = (name: string, text: Option.Option<string>) =>
        Option.match(text, {
          onNone: () => Effect.succeed(undefined),
          onSome: (t) => Report.parseBound(name, t)
        }).pipe(Effect.provideService(BusinessTimeZone, zone))
      const from = yield* parse("from", args.from)
      const to = yield* parse("to", args.to)
      if (from !== undefined && to !== undefined && !DateTime.lessThan(from, to)) {
        return yield* new BadInput({ message: "--from must be before --to" })
      }
      const data = yield* Report.compute({ from, to }).pipe(Effect.provide(libraryLayer(zone, "read-only")))
      if (Option.isSome(args.html)) {
        const fs = yield* FileSystem.FileSystem
        yield* fs.writeFileString(args.html.value, renderHtml(data))
        yield* Console.error(`wrote the HTML report to ${args.html.value}`)
      }
      yield* args.json ? printJson(Report.toJson(data)) : Console.log(Report.renderText(data))
    })
).pipe(Command.withDescription("how effective each kind and action is: reaction rates, comparisons, baselines"))
