/**
 * The `pronto-notify` command line: the root command over one module per subcommand, its help an
 * overview and the settings. Configuration comes from the environment only (C12): the variables
 * of config/Deployment's SETTINGS.
 */
import { Command, HelpDoc } from "@effect/cli"
import * as Span from "@effect/cli/HelpDoc/Span"
import { Array as Arr, Schema } from "effect"
import { SETTINGS } from "../config/Deployment.ts"
import { KINDS } from "../kinds/Kinds.ts"
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

const OVERVIEW = `Sends the Pronto delivery chain's win-back messages (${
  KINDS.join(", ")
}) through the chain's Site: each job selects its customers as of an instant, gives each the next action of its rotation, and does the action (a bonus, a mark) and the sending in one transaction; the reaction job decides which messages made customers act, and the report says which message and action works best. Run a job by hand (run), on the schedule (serve, or the host's own planner with due), and look at what was sent (messages, report). Configured by the environment only; \`pronto-notify <command> --help\` describes a command, --version prints the version.`

const HELP = HelpDoc.blocks([
  HelpDoc.p(OVERVIEW),
  HelpDoc.h1("ENVIRONMENT"),
  HelpDoc.descriptionList(Arr.map(SETTINGS, (s): [Span.Span, HelpDoc.HelpDoc] => [Span.text(s.name), HelpDoc.p(s.meaning)]))
])

export const command = Command.make("pronto-notify").pipe(
  Command.withDescription(HELP),
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
