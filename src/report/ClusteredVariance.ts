/**
 * Rates whose messages come in clusters: one client gets several messages (a client who orders
 * often gets many review requests) and tends to answer them alike, and one event can answer two
 * of them. Counting each message as independent then understates the variance. The cluster-robust
 * (sandwich) variance counts each client once: with u_c = r_c − p d_c the client's reactions minus
 * what the rate predicts for its decided messages, Var(p̂) ≈ Σ_c u_c² / N², and for the difference
 * of two actions' rates, whose messages may go to the same client,
 *
 *   Var(p̂_a − p̂_b) ≈ Σ_c (u_ca / N_a − u_cb / N_b)² = C_aa / N_a² + C_bb / N_b² − 2 C_ab / (N_a N_b),
 *
 * with C_ij = Σ_c u_ci u_cj (Liang and Zeger 1986; Cameron and Miller 2015). Pure functions.
 */

/**
 * Sums over the clients of a group for two of its actions i and j (i = j for one action): with
 * r and d a client's reacted and decided messages of each action, Σ r_i r_j, Σ d_i r_j, Σ r_i d_j
 * and Σ d_i d_j.
 */
export interface CrossSums {
  readonly rr: number
  readonly dr: number
  readonly rd: number
  readonly dd: number
}

/** One action's decided messages and reactions. */
export interface Arm {
  readonly reacted: number
  readonly decided: number
}

/** C_ij = Σ_c (r_ci − p_i d_ci)(r_cj − p_j d_cj), from the sums. */
export const clusterCovariance = (pi: number, pj: number, sums: CrossSums): number =>
  sums.rr - pj * sums.rd - pi * sums.dr + pi * pj * sums.dd

const rateOf = (arm: Arm) => arm.reacted / arm.decided

/**
 * The effective number of decided messages: the count whose binomial variance p (1 − p) / n equals
 * the cluster-robust one, C / N², when that is larger; never more than the messages (the report's
 * interval, `clusteredWilson`, is Wilson's at this count).
 */
export const effectiveSize = (arm: Arm, own: CrossSums): number => {
  if (arm.decided <= 0) return 0
  const p = rateOf(arm)
  const clustered = clusterCovariance(p, p, own)
  const binomial = p * (1 - p) * arm.decided
  return clustered > binomial ? (binomial * arm.decided) / clustered : arm.decided
}

export interface DifferenceVariance {
  /** p̂_b − p̂_a. */
  readonly difference: number
  /** Counting every message as independent: p_a (1 − p_a) / N_a + p_b (1 − p_b) / N_b. */
  readonly independent: number
  /** Counting each client once (the sandwich). */
  readonly clustered: number
  /** The larger of the two: the report is never surer than if every message were independent. */
  readonly variance: number
}

/** The variance of p̂_b − p̂_a, independent and client-clustered; undefined when either action has nothing decided. */
export const differenceVariance = (
  a: Arm,
  b: Arm,
  sums: { readonly aa: CrossSums; readonly bb: CrossSums; readonly ab: CrossSums }
): DifferenceVariance | undefined => {
  if (a.decided <= 0 || b.decided <= 0) return undefined
  const [pa, pb] = [rateOf(a), rateOf(b)]
  const independent = (pa * (1 - pa)) / a.decided + (pb * (1 - pb)) / b.decided
  const clustered = clusterCovariance(pa, pa, sums.aa) / a.decided ** 2 + clusterCovariance(pb, pb, sums.bb) / b.decided ** 2 -
    (2 * clusterCovariance(pa, pb, sums.ab)) / (a.decided * b.decided)
  return { difference: pb - pa, independent, clustered, variance: Math.max(independent, clustered) }
}
