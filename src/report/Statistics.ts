/**
 * The statistics the effectiveness report needs, as pure functions: the Wilson score interval of
 * a proportion, Newcombe's interval for a difference of two proportions, and the chi-square test
 * of independence with its p-value (through the regularized incomplete gamma function).
 */

/** The 0.975 quantile of the standard normal distribution: two-sided 95%. */
export const Z_95 = 1.959963984540054

export interface Interval {
  readonly low: number
  readonly high: number
}

/**
 * The Wilson score interval (without continuity correction) of `successes` out of `trials`;
 * undefined when there are no trials. It stays inside [0, 1] and behaves at 0 and at n, where the
 * Wald interval collapses.
 */
export const wilson = (successes: number, trials: number, z: number = Z_95): Interval | undefined => {
  if (trials <= 0) return undefined
  const p = successes / trials
  const z2 = z * z
  const denominator = 1 + z2 / trials
  const centre = (p + z2 / (2 * trials)) / denominator
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))
  // Exact bounds at the edges: floating point would otherwise give 1e-17 or 0.9999999999999999.
  return {
    low: successes <= 0 ? 0 : Math.max(0, centre - half),
    high: successes >= trials ? 1 : Math.min(1, centre + half)
  }
}

/** Sums over the clusters (clients) of a proportion's trials: Σ successes², Σ trials × successes, Σ trials². */
export interface Clusters {
  readonly reacted2: number
  readonly decidedReacted: number
  readonly decided2: number
}

/**
 * The Wilson interval of a proportion whose trials come in clusters that move together (messages
 * to one client, one event answering two of them): at the effective number of trials, the count
 * whose binomial variance equals the cluster-robust one, Σ (successes − p × trials)² / N², when
 * that is larger; never narrower than the plain Wilson interval.
 */
export const clusteredWilson = (successes: number, trials: number, clusters: Clusters, z: number = Z_95): Interval | undefined => {
  if (trials <= 0) return undefined
  const p = successes / trials
  const variance = (clusters.reacted2 - 2 * p * clusters.decidedReacted + p * p * clusters.decided2) / (trials * trials)
  const binomial = (p * (1 - p)) / trials
  const effective = variance > binomial ? binomial * trials / variance : trials
  return wilson(p * effective, effective, z)
}

export interface Difference extends Interval {
  readonly difference: number
}

/**
 * The difference p1 − p2 of two proportions with Newcombe's hybrid score interval (Newcombe 1998,
 * method 10), built from the two Wilson intervals; undefined when either side has no trials.
 * Chosen over the Wald interval, which is too narrow for small samples and rates near 0 or 1.
 */
export const newcombeDifference = (
  successes1: number,
  trials1: number,
  successes2: number,
  trials2: number,
  z: number = Z_95
): Difference | undefined => {
  const w1 = wilson(successes1, trials1, z)
  const w2 = wilson(successes2, trials2, z)
  if (w1 === undefined || w2 === undefined) return undefined
  return differenceOf(successes1 / trials1, w1, successes2 / trials2, w2)
}

/**
 * Newcombe's hybrid interval of p1 − p2 from each proportion and its own score interval: for a
 * proportion that is not a plain count (a standardized baseline, whose interval is Wilson's at its
 * effective sample size) as for one that is.
 */
export const differenceOf = (p1: number, i1: Interval, p2: number, i2: Interval): Difference => {
  const difference = p1 - p2
  return {
    difference,
    low: difference - Math.sqrt((p1 - i1.low) ** 2 + (i2.high - p2) ** 2),
    high: difference + Math.sqrt((i1.high - p1) ** 2 + (p2 - i2.low) ** 2)
  }
}

export interface Stratum {
  /** Comparable observations in the stratum, and how many of them had the event. */
  readonly trials: number
  readonly successes: number
  /** The stratum's weight: its share of the population the estimate is for. */
  readonly weight: number
}

/**
 * A directly standardized proportion: each stratum's proportion weighted by its share of another
 * population, with the Wilson interval at the effective sample size (the count whose binomial
 * variance equals the standardized estimate's, Σ w² p(1 − p) / n, but never more than the
 * observations: a small stratum at 0 or 1 would otherwise claim none). A weight on a stratum without
 * observations moves to the nearest stratum with some (the lower one on a tie); undefined when
 * no stratum has observations or no weight.
 */
export const standardized = (
  strata: ReadonlyArray<Stratum>,
  z: number = Z_95
): { readonly proportion: number; readonly interval: Interval; readonly effectiveTrials: number } | undefined => {
  const observed = strata.flatMap((s, i) => (s.trials > 0 ? [i] : []))
  const total = strata.reduce((sum, s) => sum + s.weight, 0)
  if (observed.length === 0 || total <= 0) return undefined
  const weights = strata.map(() => 0)
  for (const [i, s] of strata.entries()) {
    const nearest = observed.reduce((best, j) => (Math.abs(j - i) < Math.abs(best - i) ? j : best))
    weights[nearest]! += s.weight / total
  }
  let proportion = 0
  let variance = 0
  for (const i of observed) {
    const { successes, trials } = strata[i]!
    const p = successes / trials
    proportion += weights[i]! * p
    variance += (weights[i]! ** 2 * p * (1 - p)) / trials
  }
  const pooled = observed.reduce((n, i) => n + strata[i]!.trials, 0)
  // Never more than the observations: a small stratum at 0 or 1 would otherwise claim no variance.
  const effectiveTrials = variance > 0 ? Math.min(pooled, (proportion * (1 - proportion)) / variance) : pooled
  return { proportion, interval: wilson(proportion * effectiveTrials, effectiveTrials, z)!, effectiveTrials }
}

// Lanczos approximation (g = 7, n = 9): ln Γ to about 15 significant digits.
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7
]

/** ln Γ(x) for x > 0. */
export const logGamma = (x: number): number => {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const y = x - 1
  let sum = LANCZOS[0]!
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (y + i)
  const t = y + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum)
}

const EPSILON = 1e-15
const MAX_ITERATIONS = 10_000
const TINY = 1e-300

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x >= 0:
 * the series of P for x < a + 1, Lentz's continued fraction of Q otherwise (Numerical Recipes
 * §6.2), each where it converges fast.
 */
export const regularizedGammaQ = (a: number, x: number): number => {
  if (x <= 0) return 1
  const logPrefix = a * Math.log(x) - x - logGamma(a)
  if (x < a + 1) {
    let term = 1 / a
    let sum = term
    for (let n = 1; n < MAX_ITERATIONS && Math.abs(term) > Math.abs(sum) * EPSILON; n++) {
      term *= x / (a + n)
      sum += term
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix))
  }
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < TINY) d = TINY
    c = b + an / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPSILON) break
  }
  return Math.min(1, Math.exp(logPrefix) * h)
}

/** P(X >= x) for X chi-square distributed with `df` degrees of freedom: the test's p-value. */
export const chiSquarePValue = (x: number, df: number): number => regularizedGammaQ(df / 2, x / 2)

export interface ChiSquareTest {
  readonly statistic: number
  readonly df: number
  readonly pValue: number
  /** The smallest expected cell count: below 5 the chi-square approximation is not trusted. */
  readonly minExpected: number
}

/**
 * Pearson's chi-square test of independence (no continuity correction) over a table of rows of
 * counts, e.g. one row per action of [reacted, not reacted]. With two rows and two columns it is
 * the two-proportion z-test: the statistic is z² and the p-value the same. Undefined for fewer
 * than two rows or columns, or a row or column that sums to zero (nothing to test).
 */
export const chiSquareIndependence = (table: ReadonlyArray<ReadonlyArray<number>>): ChiSquareTest | undefined => {
  const rows = table.length
  const columns = table[0]?.length ?? 0
  if (rows < 2 || columns < 2) return undefined
  const rowSums = table.map((row) => row.reduce((a, b) => a + b, 0))
  const columnSums = Array.from({ length: columns }, (_, j) => table.reduce((a, row) => a + (row[j] ?? 0), 0))
  const total = rowSums.reduce((a, b) => a + b, 0)
  if (rowSums.some((s) => s <= 0) || columnSums.some((s) => s <= 0)) return undefined
  let statistic = 0
  let minExpected = Infinity
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const expected = (rowSums[i]! * columnSums[j]!) / total
      minExpected = Math.min(minExpected, expected)
      statistic += (table[i]![j]! - expected) ** 2 / expected
    }
  }
  const df = (rows - 1) * (columns - 1)
  return { statistic, df, pValue: chiSquarePValue(statistic, df), minExpected }
}
