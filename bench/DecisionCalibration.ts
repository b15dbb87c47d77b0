/**
 * The decision's calibration (`npm run calibration`, first part): the report's always-valid test,
 * the fixed-sample chi-square and the intervals, read every simulated day over synthetic data at
 * the demo's volumes (bench/DecisionSimulation.ts), and the figures printed:
 *
 * - no true difference: the share of seeds in which each test ever declared one (the always-valid
 *   test must stay at or below 5%; the fixed-sample one read daily does not);
 * - a true difference of 5 points: how often and how soon it is found;
 * - repeat clients: how often the 95% intervals hold the truth, counting each client once or not.
 */
import { type Scenario, simulate, type Summary } from "./DecisionSimulation.ts"

/** The demo's groups: messages a day over its 61 days of sending, and their rate (`npm run demo`). */
const GROUPS = [
  { name: "feedback", perDay: 49.0, rate: 0.241, actions: 2 },
  { name: "invite, band A", perDay: 10.9, rate: 0.341, actions: 3 },
  { name: "invite, band B", perDay: 45.7, rate: 0.548, actions: 2 },
  { name: "birthday", perDay: 7.6, rate: 0.499, actions: 2 }
] as const

const DAYS = 60
/** The demo's clients; some get many messages, and they answer alike. */
const CLIENTS = { clients: 3000, repeat: 1, clientEffect: 1 }
/** From the demo's clients to harsher: frequencies spread wider, clients answering more alike, fewer clients. */
const REPEAT_SCENARIOS = [
  { label: "as above (3 000 clients, spread 1, effect 1)", clients: 3000, repeat: 1, clientEffect: 1 },
  { label: "repeat clients (1 000, spread 1.5, effect 1.5)", clients: 1000, repeat: 1.5, clientEffect: 1.5 },
  { label: "heavy repeat clients (1 000, spread 2, effect 2)", clients: 1000, repeat: 2, clientEffect: 2 }
] as const

const pct = (x: number) => `${(100 * x).toFixed(1)}%`
const row = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")

const scenario = (g: (typeof GROUPS)[number], difference: number): Scenario => ({
  name: g.name,
  perDay: g.perDay,
  rates: Array.from({ length: g.actions }, (_, i) => (i === 1 ? g.rate + difference : g.rate)),
  days: DAYS,
  ...CLIENTS
})

export interface DecisionCalibration {
  readonly none: ReadonlyArray<Summary>
  readonly five: ReadonlyArray<Summary>
  readonly repeat: ReadonlyArray<Summary>
}

/** Runs every scenario over `seeds` seeds and prints the figures. */
export const calibrateDecisions = (seeds: number, print: (line: string) => void = console.log): DecisionCalibration => {
  const started = Date.now()
  print(
    `Decisions: the report read at the end of every simulated day for ${DAYS} days, ${seeds} seeds per line, at the ` +
      `demo's volumes (${CLIENTS.clients} clients, some with many messages, who answer alike)`
  )
  const none = GROUPS.map((g) => simulate(scenario(g, 0), seeds))
  print("\nNo true difference between the actions: the share of seeds that ever declared one (the always-valid test: at most 5%)")
  const w1 = [16, 13, 6, 24, 24, 30]
  print(row(["group", "messages/day", "rate", "always-valid, daily", "fixed-sample, daily", "fixed-sample, once on day 60"], w1))
  for (const [i, g] of GROUPS.entries()) {
    const s = none[i]!
    print(row([g.name, g.perDay.toFixed(1), pct(g.rate), pct(s.alwaysValidEver), pct(s.fixedEver), pct(s.fixedLastDay)], w1))
  }

  const five = GROUPS.map((g) => simulate(scenario(g, 0.05), seeds))
  print(`\nA true difference of 5 points (action 2 higher): the share of seeds that found it within ${DAYS} days, and when`)
  const w2 = [16, 22, 10, 28, 24]
  print(row(["group", "always-valid found", "wrong way", "day found: median (q1-q3)", "fixed-sample, daily"], w2))
  for (const [i, g] of GROUPS.entries()) {
    const s = five[i]!
    const days = s.alwaysValidDays === null ? "-" : `${s.alwaysValidDays.median} (${s.alwaysValidDays.q1}-${s.alwaysValidDays.q3})`
    print(row([g.name, pct(s.alwaysValidEver), pct(s.wrongWay), days, pct(s.fixedEver)], w2))
  }

  const feedback = GROUPS[0]
  const repeat = REPEAT_SCENARIOS.map((r) =>
    simulate({ ...scenario(feedback, 0), clients: r.clients, repeat: r.repeat, clientEffect: r.clientEffect }, seeds)
  )
  print(
    "\nRepeat clients at feedback's volume: the share of 95% intervals that held the truth once every window had closed, " +
      "each client counted once (clustered) or every message as independent (spread: of the clients' frequencies; " +
      "effect: of their propensity to react, on the log-odds)"
  )
  const w3 = [48, 16, 18, 22, 24, 30]
  print(row(["scenario", "rate, clustered", "rate, independent", "difference, clustered", "difference, independent", "always-valid, every reading"], w3))
  for (const [i, r] of REPEAT_SCENARIOS.entries()) {
    const c = repeat[i]!.coverage
    print(row([
      r.label,
      pct(c.rateClustered),
      pct(c.rateIndependent),
      pct(c.differenceClustered),
      pct(c.differenceIndependent),
      pct(repeat[i]!.sequenceHeld)
    ], w3))
  }
  print(`\n(${((Date.now() - started) / 60000).toFixed(1)} min)`)
  return { none, five, repeat }
}
