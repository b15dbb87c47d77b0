/**
 * The documentation says only what exists: README.md, CONTRIBUTING.md and every docs/*.md are read,
 * and what their code (fenced blocks and inline code) names is checked against the sources:
 *
 * - `pronto-notify <command>` is a subcommand of src/cli/Cli.ts, and each `--option` written after
 *   it is one that command declares;
 * - `Namespace.member` (and `Namespace.member.static`) of a public namespace exists in the entry
 *   that exports it (types, which do not exist at run time, are an explicit list checked in the
 *   namespace's source);
 * - every relative link points to a file that exists (and a heading, when it names one), and no
 *   page links outside the package (../shared/);
 * - a page that a source comment cites as `docs/<page>.md, "<heading>"` has that heading;
 * - README.md stays short.
 *
 * No database: it reads files and imports the public entries.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8")

const PAGES = [
  "README.md",
  "CONTRIBUTING.md",
  ...fs.readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)
]

interface Page {
  readonly file: string
  /** The contents of fenced code blocks, one string each. */
  readonly blocks: ReadonlyArray<string>
  /** Inline code spans outside the blocks. */
  readonly spans: ReadonlyArray<string>
  /** The prose outside blocks, code spans taken out (where links are). */
  readonly prose: string
  /** The headings, as their anchors. */
  readonly anchors: ReadonlyArray<string>
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens; repeats numbered. */
const slugs = (headings: ReadonlyArray<string>) => {
  const seen = new Map<string, number>()
  return headings.map((h) => {
    const base = h.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    return n === 0 ? base : `${base}-${n}`
  })
}

const parse = (file: string): Page => {
  const lines = read(file).split("\n")
  const blocks: Array<string> = []
  const outside: Array<string> = []
  const headings: Array<string> = []
  let fence: string | undefined
  let block: Array<string> = []
  for (const line of lines) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence === undefined && marker !== undefined) {
      fence = marker
      block = []
      outside.push("")
    } else if (fence !== undefined && marker !== undefined && line.trim().startsWith(fence)) {
      fence = undefined
      blocks.push(block.join("\n"))
    } else if (fence !== undefined) {
      block.push(line)
    } else {
      outside.push(line)
      const heading = /^#{1,6}\s+(.*)$/.exec(line)?.[1]
      if (heading !== undefined) headings.push(heading)
    }
  }
  const text = outside.join("\n")
  const spans: Array<string> = []
  // Per paragraph, so that a span may wrap but an odd backtick cannot swallow a page.
  const prose = text.split(/\n\s*\n/).map((paragraph) =>
    paragraph.replace(/``\s?(.+?)\s?``|`([^`]+)`/gs, (_, double: string | undefined, single: string | undefined) => {
      spans.push((double ?? single ?? "").replace(/\s*\n\s*/g, " "))
      return "CODE"
    })
  ).join("\n\n")
  return { file, blocks, spans, prose, anchors: slugs(headings) }
}

const pages = PAGES.map(parse)
/** Every piece of code in the pages, with where it is. */
const code = pages.flatMap((p) => [...p.blocks, ...p.spans].map((text) => ({ file: p.file, text })))

// ---------------------------------------------------------------------------------------------
// The command line: src/cli/Cli.ts's subcommands, each with the options its module declares.

const cliSource = (file: string) => read(path.join("src/cli", file))

/**
 * The options a piece of a module declares: `Options.text("at")`, `Options.boolean("dry-run")`, …, and
 * through the module's own helpers (`const bound = (name: string, …) => Options.text(name)…`: `bound("from", …)`).
 */
const declaredOptions = (text: string, module = text) => {
  const helpers = [...module.matchAll(/const (\w+) = \((\w+)\b[^)]*\) =>\s*Options\.\w+\(\2\b/g)].map((m) => m[1]!)
  return [...text.matchAll(new RegExp(`(?:${["Options\\.\\w+", ...helpers].join("|")})\\(\\s*"([a-z][a-z0-9-]*)"`, "g"))]
    .map((m) => m[1]!)
}

/** The text of `export const name = …` in a module, up to its next export. */
const exportedConst = (source: string, name: string) => {
  const start = source.search(new RegExp(`export const ${name}\\b`))
  if (start < 0) return ""
  const next = source.indexOf("\nexport ", start + 1)
  return source.slice(start, next < 0 ? undefined : next)
}

/** A command's options: those its module declares, and those of the shared options it imports from other commands' modules. */
const optionsOf = (file: string): ReadonlySet<string> => {
  const source = cliSource(file)
  const imported = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*"\.\/(\w+\.ts)"/g)].flatMap((m) =>
    m[1]!.split(",").map((name) => name.trim().replace(/^type\s+/, "")).filter((n) => n !== "").map((name) =>
      declaredOptions(exportedConst(cliSource(m[2]!), name), cliSource(m[2]!))
    ).flat()
  )
  return new Set([...declaredOptions(source), ...imported, "help", "version"])
}

const SUBCOMMANDS: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const cli = cliSource("Cli.ts")
  const modules = new Map([...cli.matchAll(/import \* as (\w+) from "\.\/(\w+\.ts)"/g)].map((m) => [m[1]!, m[2]!]))
  const list = /Command\.withSubcommands\(\[([^\]]*)\]\)/.exec(cli)?.[1] ?? ""
  return new Map([...list.matchAll(/(\w+)\.command/g)].map((m) => {
    const file = modules.get(m[1]!)
    if (file === undefined) throw new Error(`src/cli/Cli.ts: no module imported as ${m[1]}`)
    const name = /Command\.make\(\s*"([a-z-]+)"/.exec(cliSource(file))?.[1]
    if (name === undefined) throw new Error(`src/cli/${file}: no Command.make("…")`)
    return [name, optionsOf(file)] as const
  }))
})()

/** Each `pronto-notify <word>` in a piece of code, and the options written after it in the same command. */
const commandsIn = (text: string) =>
  text.replace(/\\\n\s*/g, " ").split("\n").flatMap((line) =>
    [...line.matchAll(/(?<![\w/.-])pronto-notify\s+([a-z][a-z-]*)/g)].map((m) => {
      // The command ends where the shell's next one starts, or a comment, or the next pronto-notify.
      const rest = line.slice(m.index! + m[0].length).split(/;|&&|\|\||\s\|\s|\s#|pronto-notify/)[0]!
      return { command: m[1]!, options: [...rest.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((o) => o[1]!) }
    })
  )

// ---------------------------------------------------------------------------------------------
// The public namespaces: each entry's `export * as Name from "./path.ts"`.

const ENTRIES = ["src/index.ts", "src/bonus-api.ts", "src/cluster.ts", "src/postgres.ts", "src/observability.ts"]

const NAMESPACE_SOURCES: ReadonlyMap<string, string> = new Map(
  ENTRIES.flatMap((entry) =>
    [...read(entry).matchAll(/export \* as (\w+) from "\.\/([^"]+)"/g)].map((m) => [m[1]!, path.join("src", m[2]!)] as const)
  )
)

/**
 * Types the pages name: they do not exist at run time, so each is checked to be exported as a
 * type by its namespace's module. Add a name here when a page names a new one.
 */
const TYPES: Readonly<Record<string, ReadonlyArray<string>>> = {
  ProntoNotify: ["Options"],
  Jobs: ["RunSummary", "RunOptions", "Stop", "PreviewLine"],
  Kind: ["Kind", "AnyKind", "ActionPlan", "Performed", "PerformContext", "GrantedBonus"],
  SiteSender: ["SiteConfig"],
  InDoubt: ["InDoubtFilter", "Settled"],
  Notifications: ["MessageFilter"],
  Report: ["Period", "ReportData", "ReportJson", "Decision", "Needed", "Trend"],
  Scheduler: ["JobSummary", "JobError"],
  Schedule: ["JobName", "ScheduleEntry"],
  Reactions: ["ReactionSummary"],
  Orders: ["OrdersClosed", "Backfilled"],
  BonusServer: ["Accrual", "OperationId"],
  BonusServerHttp: ["Options"],
  BonusApi: ["ServeOptions", "Token"],
  Cluster: ["Runner"]
}

const exportsType = (source: string, name: string) =>
  new RegExp(`export\\s+(interface|type)\\s+${name}\\b`).test(source) ||
  new RegExp(`export\\s+type\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`).test(source) ||
  new RegExp(`export\\s*\\{[^}]*\\btype\\s+${name}\\b[^}]*\\}`).test(source)

/**
 * The names under which a piece of code sees the public namespaces: each as itself, unless the
 * code imports its names (`import { Schedule as NotifySchedule } from "@pronto/notify"`), and
 * not a name it imports from elsewhere (`import { Schedule } from "effect"` is Effect's).
 */
const namespacesSeenIn = (text: string, namespaces: ReadonlyArray<string>): ReadonlyMap<string, string> => {
  const seen = new Map(namespaces.map((n) => [n, n]))
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const item of m[1]!.split(",").map((s) => s.trim().replace(/^type\s+/, "")).filter((s) => s !== "")) {
      const [name, local = name] = item.split(/\s+as\s+/) as [string, string | undefined]
      seen.delete(local)
      if (m[2]!.startsWith("@pronto/notify") && namespaces.includes(name)) seen.set(local, name)
    }
  }
  return seen
}

/** `Namespace.member` and `Namespace.member.static` in a piece of code (file names such as `Kinds.ts` are not members). */
const membersIn = (text: string, namespaces: ReadonlyArray<string>) => {
  const seen = namespacesSeenIn(text, namespaces)
  if (seen.size === 0) return []
  return [...text.matchAll(new RegExp(`(?<![\\w$./-])(${[...seen.keys()].join("|")})\\.([A-Za-z_$][\\w$]*)(?:\\.([A-Za-z_$][\\w$]*))?`, "g"))]
    .filter((m) => !["ts", "js", "md", "json"].includes(m[2]!))
    .map((m) => ({ namespace: seen.get(m[1]!)!, member: m[2]!, inner: m[3] }))
}

describe("the documentation", () => {
  it("reads README.md, CONTRIBUTING.md and the pages under docs/", () => {
    expect(PAGES).toEqual(expect.arrayContaining(["README.md", "CONTRIBUTING.md", "docs/host.md", "docs/operator.md"]))
    expect(SUBCOMMANDS.size).toBeGreaterThanOrEqual(12)
    expect(NAMESPACE_SOURCES.size).toBeGreaterThanOrEqual(30)
  })

  it("names only subcommands that exist, with options they take", () => {
    const problems = code.flatMap(({ file, text }) =>
      commandsIn(text).flatMap(({ command, options }) => {
        const known = SUBCOMMANDS.get(command)
        if (known === undefined) return [`${file}: pronto-notify ${command} is not a command (${[...SUBCOMMANDS.keys()].join(", ")})`]
        return options.filter((o) => !known.has(o)).map((o) => `${file}: pronto-notify ${command} has no option --${o}`)
      })
    )
    expect(problems).toEqual([])
  })

  it("names only members of the public namespaces that exist", async () => {
    const namespaces: Record<string, Record<string, unknown>> = {}
    for (const entry of ENTRIES) Object.assign(namespaces, await import(path.join(root, entry)))
    const names = [...NAMESPACE_SOURCES.keys()]
    expect(Object.keys(namespaces).sort()).toEqual([...names].sort())
    const problems = code.flatMap(({ file, text }) =>
      membersIn(text, names).flatMap(({ inner, member, namespace }) => {
        const ns = namespaces[namespace]!
        if (TYPES[namespace]?.includes(member)) {
          return exportsType(read(NAMESPACE_SOURCES.get(namespace)!), member)
            ? []
            : [`${file}: ${namespace}.${member} is not a type of ${NAMESPACE_SOURCES.get(namespace)}`]
        }
        if (!(member in ns)) return [`${file}: ${namespace}.${member} does not exist`]
        const value = ns[member]
        if (inner === undefined || (typeof value !== "object" && typeof value !== "function") || value === null) return []
        // A tagged enum's constructors (`Kind.ReactionRule.Accrual`) are a proxy's: read, not listed.
        return inner in value || (value as Record<string, unknown>)[inner] !== undefined
          ? []
          : [`${file}: ${namespace}.${member}.${inner} does not exist`]
      })
    )
    expect(problems).toEqual([])
  })

  it("links only to files and headings that exist, and never outside the package", () => {
    const byFile = new Map(pages.map((p) => [p.file, p]))
    const problems = pages.flatMap((page) =>
      [...page.prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\[[^\]]+\]:\s*(\S+)/gm)].flatMap((m) => {
        const target = (m[1] ?? m[2])!
        if (/^[a-z]+:/i.test(target)) return []
        if (target.includes("shared/")) return [`${page.file}: links to ${target}, outside the package`]
        const [file, anchor] = target.split("#") as [string, string | undefined]
        const resolved = file === "" ? page.file : path.relative(root, path.resolve(root, path.dirname(page.file), file))
        if (resolved.startsWith("..")) return [`${page.file}: links to ${target}, outside the package`]
        if (!fs.existsSync(path.join(root, resolved))) return [`${page.file}: links to ${target}, which does not exist`]
        if (anchor === undefined || !resolved.endsWith(".md")) return []
        const anchors = byFile.get(resolved)?.anchors ?? parse(resolved).anchors
        return anchors.includes(anchor) ? [] : [`${page.file}: links to ${target}, a heading ${resolved} does not have`]
      })
    )
    expect(problems).toEqual([])
    expect(pages.filter((p) => read(p.file).includes("../shared/")).map((p) => p.file)).toEqual([])
  })

  it("has the headings that the sources cite", () => {
    const sources = (dir: string): Array<string> =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []
      )
    const cited = sources(path.join(root, "src")).flatMap((file) =>
      [...fs.readFileSync(file, "utf8").matchAll(/(docs\/[\w-]+\.md), "([^"]+)"/g)].map((m) => ({
        from: path.relative(root, file),
        page: m[1]!,
        heading: m[2]!
      }))
    )
    expect(cited.length).toBeGreaterThan(0)
    const problems = cited.filter(({ heading, page }) =>
      !fs.existsSync(path.join(root, page)) || !parse(page).anchors.includes(slugs([heading])[0]!)
    ).map(({ from, heading, page }) => `${from} cites ${page}, "${heading}", which is not there`)
    expect(problems).toEqual([])
  })

  it("keeps README.md short", () => {
    expect(read("README.md").split("\n").length).toBeLessThanOrEqual(230)
  })
})
