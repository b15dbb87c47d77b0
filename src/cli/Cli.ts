/**
 * The `pronto-notify` command line: the root command over one module per subcommand. Configuration
 * comes from the environment only (C12): DATABASE_URL (absent: embedded PostgreSQL), SITE_URL,
 * SITE_KEY, NOTIFY_TIME_ZONE.
 */
import { Command } from "@effect/cli"
import * as BackfillLastOrder from "./BackfillLastOrder.ts"
import * as Demo from "./Demo.ts"
import * as Due from "./Due.ts"
import * as Messages from "./Messages.ts"
import * as Migrate from "./Migrate.ts"
import * as OrderClosed from "./OrderClosed.ts"
import * as Report from "./Report.ts"
import * as Run from "./Run.ts"
import * as Schedule from "./Schedule.ts"
import * as Serve from "./Serve.ts"
import * as Settle from "./Settle.ts"

export const VERSION = "0.1.0"

export const command = Command.make("pronto-notify").pipe(
  Command.withSubcommands([
    Migrate.command,
    Run.command,
    Messages.command,
    OrderClosed.command,
    BackfillLastOrder.command,
    Settle.command,
    Report.command,
    Demo.command,
    Due.command,
    Schedule.command,
    Serve.command
  ])
)

export const cli = Command.run(command, { name: "pronto-notify", version: VERSION })
