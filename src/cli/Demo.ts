/**
 * `pronto-notify demo`: the simulation of `demo/Demo.ts`, on embedded PostgreSQL with a fake Site.
 */
import { Command } from "@effect/cli"
import { runDemo } from "../demo/Demo.ts"

export const command = Command.make("demo", {}, () => runDemo).pipe(
  Command.withDescription("simulate a chain on embedded PostgreSQL with a fake Site, and print what was sent")
)
