/**
 * Entry point of the `pronto-notify` command (see `cli/Main.ts`).
 */
import { NodeRuntime } from "@effect/platform-node"
import { main, teardown } from "./cli/Main.ts"

NodeRuntime.runMain(main(process.argv), { disableErrorReporting: true, disablePrettyLogger: true, teardown })
