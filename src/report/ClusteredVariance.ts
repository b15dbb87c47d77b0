/**
 * Rates whose messages come in clusters: one client gets several messages (a client who orders
 * often gets many review requests) and tends to answer them alike, and one event can answer two
 * of them. Counting each message as independent then understates the variance. The cluster-robust
 * (sandwich) variance counts each client once (Liang and Zeger 1986; Cameron and Miller 2015):
 * with u_c = r_c − p d_c a client's reactions minus what the rate predicts for its decided
 * messages, Var(p̂) ≈ Σ_c u_c² / N² = (Σ r² − 2p Σ d r + p² Σ d²) / N², from three sums over the
 * clients that the report's figures already hold (`Clusters`).
 *
 * For the difference of two actions' rates each action's variance is its own clients'; the
 * covariance between one client's answers to the two actions is left out. Rotation gives a client
 * both actions regardless of who they are, and a client who answers one tends to answer the other
 * (one review can even answer both), so that covariance is positive or nil and leaving it out only
 * widens; it spares the report a second pass over every client. Pure functions.
 */
import type { Clusters } from "./Statistics.ts"

/** One action's decided messages and reactions, and its sums over the clients (null: each message its own client). */
export interface Arm {
  readonly reacted: number
  readonly decided: number
  readonly clusters: Clusters | null
}

const rateOf = (arm: Arm) => arm.reacted / arm.decided

/** Σ_c (r_c − p d_c)²: N² times the cluster-robust variance of the rate. */
export const clusterSquares = (arm: Arm): number => {
  const p = rateOf(arm)
  const c = arm.clusters
  return c === null ? arm.reacted * (1 - p) ** 2 + (arm.decided - arm.reacted) * p ** 2 :
    c.reacted2 - 2 * p * c.decidedReacted + p * p * c.decided2
}

/** The cluster-robust variance of the rate, never below the binomial p (1 − p) / N. */
const rateVariance = (arm: Arm) => {
  const p = rateOf(arm)
  return Math.max((p * (1 - p)) / arm.decided, clusterSquares(arm) / arm.decided ** 2)
}

/**
 * The effective number of decided messages: the count whose binomial variance p (1 − p) / n equals
 * the cluster-robust one, when that is larger; never more than the messages (the report's interval,
 * `clusteredWilson`, is Wilson's at this count).
 */
export const effectiveSize = (arm: Arm): number => {
  if (arm.decided <= 0) return 0
  const p = rateOf(arm)
  const clustered = clusterSquares(arm)
  const binomial = p * (1 - p) * arm.decided
  // Equal but for rounding (every client with one message) is equal.
  return clustered > binomial * (1 + 1e-12) ? (binomial * arm.decided) / clustered : arm.decided
}

export interface DifferenceVariance {
  /** p̂_b − p̂_a. */
  readonly difference: number
  /** Counting every message as independent: p_a (1 − p_a) / N_a + p_b (1 − p_b) / N_b. */
  readonly independent: number
  /** Each client counted once, per action; never below the independent one. */
  readonly variance: number
}

/** The variance of p̂_b − p̂_a; undefined when either action has nothing decided. */
export const differenceVariance = (a: Arm, b: Arm): DifferenceVariance | undefined => {
  if (a.decided <= 0 || b.decided <= 0) return undefined
  const [pa, pb] = [rateOf(a), rateOf(b)]
  return {
    difference: pb - pa,
    independent: (pa * (1 - pa)) / a.decided + (pb * (1 - pb)) / b.decided,
    variance: rateVariance(a) + rateVariance(b)
  }
}
