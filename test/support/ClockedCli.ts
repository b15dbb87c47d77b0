/**
 * The `pronto-notify` command for tests that need several processes on one made-up clock (the
 * multi-runner `serve` tests): the same program as `src/bin.ts`, run with a clock that reads
 * `TEST_CLOCK_START` at the real instant `TEST_CLOCK_ANCHOR`. Only tests start it; the command
 * itself reads no clock from its environment.
 */
import { NodeRuntime } from "@effect/platform-node"
import { DateTime, Effect } from "effect"
import { main, teardown } from "../../src/cli/Main.ts"
import { shifted } from "../../src/time/ShiftedClock.ts"

const at = DateTime.unsafeMake(process.env.TEST_CLOCK_START!)
const anchor = DateTime.unsafeMake(process.env.TEST_CLOCK_ANCHOR!)

NodeRuntime.runMain(main(process.argv).pipe(Effect.withClock(shifted({ at, anchor }))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown
})
