/**
 * Runs the real `pronto-notify` command (through tsx, from source) as a child process.
 */
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const root = path.resolve(import.meta.dirname, "../..")

/** A made-up clock for the process: it reads `start` at the real instant `anchor` (ISO instants). */
export interface TestClock {
  readonly start: string
  readonly anchor: string
}

export const start = (
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  clock?: TestClock
): ChildProcess =>
  // node itself with tsx as a loader (not the tsx wrapper, which would outlive a SIGKILL in a child).
  spawn(process.execPath, ["--import", "tsx", path.join(root, clock ? "test/support/ClockedCli.ts" : "src/bin.ts"), ...args], {
    cwd: root,
    env: Object.fromEntries(
      Object.entries({
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TZ: process.env.TZ,
        ...env,
        ...(clock ? { TEST_CLOCK_START: clock.start, TEST_CLOCK_ANCHOR: clock.anchor } : {})
      }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined
      )
    ),
    stdio: ["ignore", "pipe", "pipe"]
  })

export const finish = (child: ChildProcess) =>
  Effect.async<CliResult>((resume) => {
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
  })

export const run = (args: ReadonlyArray<string>, env: Record<string, string | undefined>, clock?: TestClock) =>
  Effect.suspend(() => finish(start(args, env, clock)))
