/**
 * `pronto-notify demo [--json] [--html FILE]`: the simulation of `demo/Demo.ts`, on embedded
 * PostgreSQL with a fake Site; the report set against the simulated truth, and written as a page.
 */
import { Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { runDemo } from "../demo/Demo.ts"
import { BadInput } from "./Common.ts"

/** The page's file must be writable before a minute of simulation, not after. */
const writableFile = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const directory = path.dirname(path.resolve(file))
    yield* fs.access(directory, { writable: true }).pipe(
      Effect.mapError(() => new BadInput({ message: `--html ${file}: cannot write in ${directory}; give a file in a writable directory` }))
    )
    return file
  })

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
  (args) =>
    Effect.gen(function*() {
      const html = Option.isSome(args.html) ? yield* writableFile(args.html.value) : undefined
      yield* runDemo({ json: args.json, html })
    })
).pipe(
  Command.withDescription(
    "simulate a chain on embedded PostgreSQL with a fake Site, and set the effectiveness report against the simulated truth"
  )
)
