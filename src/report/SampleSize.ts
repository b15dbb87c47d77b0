/**
 * How many decided messages a comparison of two actions needs to tell a given difference with a
 * given power: for a test planned in advance and read once (the textbook formula), and for the
 * report's always-valid test (Sequential.ts), which may be read every day and so needs more.
 * Pure functions.
 */
import { boundary, MIXTURE_SD } from "./Sequential.ts"
import { regularizedGammaQ } from "./Statistics.ts"

/** P(Z > z) for a standard normal Z, through P(Z² > z²) = Q(1/2, z²/2). */
export const normalUpperTail = (z: number): number => {
  const half = 0.5 * regularizedGammaQ(0.5, (z * z) / 2)
  return z >= 0 ? half : 1 - half
}

// The report asks for the same few quantiles (its level, its power) again and again.
const quantiles = new Map<number, number>()

/** The standard normal quantile: the z with P(Z ≤ z) = p, by bisection to the last digit. */
export const normalQuantile = (p: number): number => {
  if (!(p > 0 && p < 1)) return p <= 0 ? -Infinity : Infinity
  const known = quantiles.get(p)
  if (known !== undefined) return known
  const z = bisectQuantile(p)
  if (quantiles.size < 64) quantiles.set(p, z)
  return z
}

const bisectQuantile = (p: number): number => {
  let [low, high] = [-40, 40]
  for (let i = 0; i < 200 && high - low > 1e-15 * Math.max(1, Math.abs(low)); i++) {
    const mid = (low + high) / 2
    if (1 - normalUpperTail(mid) < p) low = mid
    else high = mid
  }
  return (low + high) / 2
}

/**
 * The messages per action a two-sided test of p1 = p2 at level α, planned in advance and read
 * once, needs to find p1 − p2 with the given power (the textbook formula, unpooled):
 * n = (z₁₋α/₂ + z_power)² (p1 (1 − p1) + p2 (1 − p2)) / (p1 − p2)².
 */
export const fixedSampleSize = (p1: number, p2: number, alpha: number, power: number): number =>
  ((normalQuantile(1 - alpha / 2) + normalQuantile(power)) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2))) / (p1 - p2) ** 2

/**
 * The decided messages (both actions together) after which the always-valid test finds a true
 * difference `difference` with at least the given power, when the estimate's variance is
 * `unitVariance / N` after N of them (its design effect and the actions' shares folded in). The
 * test declares when |d̂| reaches the boundary b(V) (Sequential.ts); d̂ ~ N(difference, V), so at
 * the N where difference = b(V) + z_power √V it has done so with the power at least (earlier
 * readings only add to it). Infinity when no size will do (no difference, or no variance).
 */
export const sequentialSampleSize = (
  options: {
    readonly unitVariance: number
    readonly difference: number
    readonly alpha: number
    readonly power: number
    readonly tau?: number
  }
): number => {
  const { alpha, power, unitVariance } = options
  const delta = Math.abs(options.difference)
  const tau = options.tau ?? MIXTURE_SD
  if (!(delta > 0) || !(unitVariance > 0)) return Infinity
  const zPower = normalQuantile(power)
  const enough = (n: number) => {
    const variance = unitVariance / n
    return delta >= boundary(variance, alpha, tau) + zPower * Math.sqrt(variance)
  }
  // Enough grows with n (the boundary only with its logarithm): bisection on ln n.
  let [low, high] = [0, Math.log(1e12)]
  if (!enough(Math.exp(high))) return Infinity
  if (enough(1)) return 1
  for (let i = 0; i < 100 && high - low > 1e-9; i++) {
    const mid = (low + high) / 2
    if (enough(Math.exp(mid))) high = mid
    else low = mid
  }
  return Math.exp(high)
}
