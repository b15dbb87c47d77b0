/**
 * The `pronto-notify` command line: the root command over one module per subcommand. Configuration
 * comes from the environment only (C12): DATABASE_URL (absent: embedded PostgreSQL), SITE_URL,
 * SITE_KEY, NOTIFY_TIME_ZONE.
 */
import { Command } from "@effect/cli"
import { Schema } from "effect"
import { createRequire } from "node:module"
import * as BackfillLastOrder from "./BackfillLastOrder.ts"
import * as Demo from "./Demo.ts"
import * as Due from "./Due.ts"
import * as InDoubt from "./InDoubt.ts"
import * as Messages from "./Messages.ts"
import * as Migrate from "./Migrate.ts"
import * as OrderClosed from "./OrderClosed.ts"
import * as Report from "./Report.ts"
import * as Run from "./Run.ts"
import * as Schedule from "./Schedule.ts"
import * as Serve from "./Serve.ts"
import * as Settle from "./Settle.ts"

/**
 * The package's version, read from package.json so that it is said once. Both this module under
 * tsx (src/cli/) and its build (dist/cli/) are two levels below the package root.
 */
const packageJson: unknown = createRequire(import.meta.url)("../../package.json")
export const VERSION = Schema.decodeUnknownSync(Schema.Struct({ version: Schema.String }))(packageJson).version

export const command = Command.make("pronto-notify").pipe(
  Command.withSubcommands([
    Migrate.command,
    Run.command,
    Messages.command,
    OrderClosed.command,
    BackfillLastOrder.command,
    Settle.command,
    InDoubt.command,
    Report.command,
    Demo.command,
    Due.command,
    Schedule.command,
    Serve.command
  ])
)

export const cli = Command.run(command, { name: "pronto-notify", version: VERSION })
