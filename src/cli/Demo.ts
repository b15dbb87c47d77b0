/**
 * `pronto-notify demo [--json] [--html FILE]`: the simulation of `demo/Demo.ts`, on embedded
 * PostgreSQL with a fake Site; the report set against the simulated truth, and written as a page.
 */
import { Command, Options } from "@effect/cli"
import { Option } from "effect"
import { runDemo } from "../demo/Demo.ts"

export const command = Command.make(
  "demo",
  {
    json: Options.boolean("json").pipe(
      Options.withDescription(
        "print the truth checks as a JSON array on stdout (one entry per kind, band, action and measure); the rest goes to stderr"
      )
    ),
    html: Options.text("html").pipe(
      Options.withDescription("write the report's page to this file (default: pronto-notify-demo.html in the temp directory)"),
      Options.optional
    )
  },
  (args) => runDemo({ json: args.json, html: Option.getOrUndefined(args.html) })
).pipe(
  Command.withDescription(
    "simulate a chain on embedded PostgreSQL with a fake Site, and set the effectiveness report against the simulated truth"
  )
)
