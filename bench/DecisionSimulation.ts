/**
 * The report's decision read every simulated day, over synthetic data: pure computation, no
 * database. Messages go out every day at a group's volume, in rotation, to clients of whom some get
 * many (frequencies spread log-normally) and who answer alike (a client effect on the log-odds of
 * reacting); a reaction comes uniformly within the 14-day window, and a message without one is
 * decided `none` when its window closes. Each day the report's own functions (`Report.decide`, the
 * fixed-sample `Report.compareActions`, the intervals) read what is decided by then, with the same
 * counts and sums over the clients as the report's statements give, as a marketer opening the
 * report every morning would.
 *
 * Used by `npm run calibration` (bench/calibration.ts) and, with fewer seeds, by
 * test/decision-simulation.test.ts.
 */
import * as Random from "../src/demo/Random.ts"
import type { ActionFigures } from "../src/report/Figures.ts"
import * as Report from "../src/report/Report.ts"
import { clusteredWilson, newcombeDifference, wilson } from "../src/report/Statistics.ts"

export interface Scenario {
  readonly name: string
  /** Messages a day, all actions together. */
  readonly perDay: number
  /** Each action's true rate: the mean over messages of the chance of a reaction. */
  readonly rates: ReadonlyArray<number>
  readonly clients: number
  /** Spread of the clients' frequencies: the standard deviation of their logarithm (0: all alike). */
  readonly repeat: number
  /** Spread of the clients' propensity: the standard deviation of their effect on the log-odds (0: independent). */
  readonly clientEffect: number
  /** Days of sending, each read at its end. */
  readonly days: number
}

export const WINDOW_DAYS = 14

const logit = (p: number) => Math.log(p / (1 - p))
const expit = (x: number) => 1 / (1 + Math.exp(-x))

// Gauss–Hermite would do; 4 001 points of the normal density are exact enough and obvious.
const GRID = Array.from({ length: 4001 }, (_, i) => -8 + (16 * i) / 4000)
const WEIGHTS = (() => {
  const w = GRID.map((z) => Math.exp(-z * z / 2))
  const total = w.reduce((a, b) => a + b, 0)
  return w.map((x) => x / total)
})()

/** The log-odds intercept whose mean chance over the client effect is `rate`. */
export const interceptFor = (rate: number, spread: number): number => {
  const mean = (c: number) => GRID.reduce((sum, z, i) => sum + WEIGHTS[i]! * expit(c + spread * z), 0)
  let [low, high] = [logit(rate) - 10, logit(rate) + 10]
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2
    if (mean(mid) < rate) low = mid
    else high = mid
  }
  return (low + high) / 2
}

const normal = (random: Random.Random) => {
  const u = 1 - random.next()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next())
}

interface Message {
  readonly client: number
  readonly action: number
  readonly sent: number
  /** When its reaction came, in days since the start; null for none. */
  readonly reacted: number | null
}

/** One seed's messages: a day's volume rounded at random, clients drawn by frequency, actions in rotation. */
export const messagesOf = (scenario: Scenario, seed: number): ReadonlyArray<Message> => {
  const random = Random.make(seed * 7919 + 17)
  const k = scenario.rates.length
  const intercepts = scenario.rates.map((r) => interceptFor(r, scenario.clientEffect))
  const effect = Array.from({ length: scenario.clients }, () => scenario.clientEffect * normal(random))
  const weights = Array.from({ length: scenario.clients }, () => Math.exp(scenario.repeat * normal(random)))
  const cumulative: Array<number> = []
  weights.reduce((sum, w) => (cumulative.push(sum + w), sum + w), 0)
  const total = cumulative[cumulative.length - 1]!
  const pickClient = () => {
    const target = random.next() * total
    let [lo, hi] = [0, cumulative.length - 1]
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! <= target) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const messages: Array<Message> = []
  let turn = random.int(0, k)
  for (let day = 0; day < scenario.days; day++) {
    const count = Math.floor(scenario.perDay) + (random.next() < scenario.perDay % 1 ? 1 : 0)
    for (let m = 0; m < count; m++) {
      const client = pickClient()
      const action = turn++ % k
      const sent = day + random.next()
      const reacts = random.next() < expit(intercepts[action]! + effect[client]!)
      messages.push({ client, action, sent, reacted: reacts ? sent + random.next() * WINDOW_DAYS : null })
    }
  }
  // In the order the report would see them sent.
  return messages.sort((x, y) => x.sent - y.sent)
}

const figuresOf = (action: number, reacted: number, none: number, pending: number): ActionFigures => ({
  action,
  sent: reacted + none + pending,
  reacted,
  none,
  pending,
  rate: reacted + none > 0 ? reacted / (reacted + none) : null,
  interval: null,
  medianSecondsToReaction: null,
  bonusGranted: 0,
  sharedReactions: 0,
  reactingOrders: null,
  uplift: null
})

/** What the report would read at day `at` (days since the start): each action's counts and sums over its clients. */
export const readAt = (messages: ReadonlyArray<Message>, actions: number, at: number) => {
  const counts = Array.from({ length: actions }, () => ({ reacted: 0, none: 0, pending: 0 }))
  // Per client and action: [decided, reacted].
  const perClient = new Map<number, Array<number>>()
  for (const m of messages) {
    if (m.sent > at) break
    const reacted = m.reacted !== null && m.reacted <= at
    const none = m.reacted === null && m.sent + WINDOW_DAYS <= at
    const c = counts[m.action]!
    if (!reacted && !none) {
      c.pending++
      continue
    }
    if (reacted) c.reacted++
    else c.none++
    const key = m.client * actions + m.action
    let row = perClient.get(key)
    if (row === undefined) perClient.set(key, row = [0, 0])
    row[0]!++
    if (reacted) row[1]!++
  }
  const clusters = Array.from({ length: actions }, () => ({ reacted2: 0, decidedReacted: 0, decided2: 0 }))
  for (const [key, [d, r]] of perClient) {
    const c = clusters[key % actions]!
    c.reacted2 += r! * r!
    c.decidedReacted += d! * r!
    c.decided2 += d! * d!
  }
  const figures = counts.map((c, i) => figuresOf(i + 1, c.reacted, c.none, c.pending))
  return {
    figures,
    actions: figures.map((f, i): Report.DecisionAction => ({ ...f, clusters: clusters[i]! }))
  }
}

export interface SeedResult {
  /** The first day the always-valid test declared a difference; null if it never did. */
  readonly alwaysValidDay: number | null
  /** Whether every difference it declared pointed the true way (a lower rate never named better). */
  readonly alwaysValidRightWay: boolean
  /** The first day the fixed-sample chi-square said "significant"; null if it never did. */
  readonly fixedDay: number | null
  /** Whether the fixed-sample test said so on the last day of sending (the one reading it was made for). */
  readonly fixedLastDay: boolean
  /** Whether the always-valid interval of actions 1 and 2 held their true difference at every daily reading. */
  readonly sequenceHeld: boolean
  /** Once every window has closed: whether each interval held the truth (actions 1 and 2). */
  readonly final: {
    readonly rateClustered: boolean
    readonly rateIndependent: boolean
    readonly differenceClustered: boolean
    readonly differenceIndependent: boolean
  }
}

const holds = (i: { readonly low: number; readonly high: number } | undefined | null, truth: number) =>
  i != null && i.low <= truth && truth <= i.high

/** One seed: the report read at the end of every day of sending, then once every window has closed. */
export const simulateSeed = (scenario: Scenario, seed: number): SeedResult => {
  const messages = messagesOf(scenario, seed)
  const k = scenario.rates.length
  const decide = (at: number) => {
    const { actions, figures } = readAt(messages, k, at)
    return { figures, actions, decision: Report.decide({ actions, recent: [], windowDays: WINDOW_DAYS }) }
  }
  const truth = scenario.rates[1]! - scenario.rates[0]!
  let alwaysValidDay: number | null = null
  let alwaysValidRightWay = true
  let fixedDay: number | null = null
  let fixedLastDay = false
  let sequenceHeld = true
  for (let day = 1; day <= scenario.days; day++) {
    const { decision, figures } = decide(day)
    for (const pair of decision.pairs) {
      if (pair.outcome !== "different") continue
      alwaysValidDay ??= day
      const [a, b] = pair.actions
      const trueDifference = scenario.rates[b - 1]! - scenario.rates[a - 1]!
      if (Math.sign(pair.difference!) !== Math.sign(trueDifference)) alwaysValidRightWay = false
    }
    const first = decision.pairs[0]
    if (first?.alwaysValid != null && !holds(first.alwaysValid.interval, truth)) sequenceHeld = false
    const significant = Report.compareActions(figures).outcome === "significant"
    if (significant) fixedDay ??= day
    if (day === scenario.days) fixedLastDay = significant
  }
  const { actions, decision } = decide(scenario.days + WINDOW_DAYS)
  const [a, b] = [actions[0]!, actions[1]!]
  return {
    alwaysValidDay,
    alwaysValidRightWay,
    fixedDay,
    fixedLastDay,
    sequenceHeld,
    final: {
      rateClustered: holds(clusteredWilson(a.reacted, a.reacted + a.none, a.clusters!), scenario.rates[0]!),
      rateIndependent: holds(wilson(a.reacted, a.reacted + a.none), scenario.rates[0]!),
      differenceClustered: holds(decision.pairs[0]?.fixedSample?.interval, truth),
      differenceIndependent: holds(newcombeDifference(b.reacted, b.reacted + b.none, a.reacted, a.reacted + a.none), truth)
    }
  }
}

export interface Summary {
  readonly seeds: number
  /** Share of seeds in which the always-valid test ever declared a difference. */
  readonly alwaysValidEver: number
  /** Of those, the share that pointed the wrong way at some reading. */
  readonly wrongWay: number
  /** The days of first declaration: median and the quartiles, over the seeds that declared. */
  readonly alwaysValidDays: { readonly q1: number; readonly median: number; readonly q3: number } | null
  readonly fixedEver: number
  readonly fixedLastDay: number
  readonly sequenceHeld: number
  readonly coverage: {
    readonly rateClustered: number
    readonly rateIndependent: number
    readonly differenceClustered: number
    readonly differenceIndependent: number
  }
}

const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

/** The scenario over seeds 1 … `seeds`. */
export const simulate = (scenario: Scenario, seeds: number): Summary => {
  const results = Array.from({ length: seeds }, (_, i) => simulateSeed(scenario, i + 1))
  const share = (f: (r: SeedResult) => boolean) => results.filter(f).length / seeds
  const days = results.flatMap((r) => (r.alwaysValidDay === null ? [] : [r.alwaysValidDay])).sort((x, y) => x - y)
  return {
    seeds,
    alwaysValidEver: days.length / seeds,
    wrongWay: share((r) => !r.alwaysValidRightWay),
    alwaysValidDays: days.length === 0 ? null : { q1: quantile(days, 0.25), median: quantile(days, 0.5), q3: quantile(days, 0.75) },
    fixedEver: share((r) => r.fixedDay !== null),
    fixedLastDay: share((r) => r.fixedLastDay),
    sequenceHeld: share((r) => r.sequenceHeld),
    coverage: {
      rateClustered: share((r) => r.final.rateClustered),
      rateIndependent: share((r) => r.final.rateIndependent),
      differenceClustered: share((r) => r.final.differenceClustered),
      differenceIndependent: share((r) => r.final.differenceIndependent)
    }
  }
}
