/**
 * An always-valid test of the difference between two proportions: the mixture sequential
 * probability ratio test (mSPRT) of Johari, Pekelis and Walsh ("Peeking at A/B tests", KDD 2017;
 * with Koomen, "Always valid inference", Operations Research 2022), on the normal approximation of
 * the estimated difference with its variance (the report's is client-clustered, ClusteredVariance.ts).
 *
 * With an estimate d̂ ~ N(θ, V), the likelihood ratio of θ against θ0, mixed over θ − θ0 ~ N(0, τ²), is
 *
 *   Λ = √(V / (V + τ²)) · exp(τ² (d̂ − θ0)² / (2 V (V + τ²))),
 *
 * in the paper's notation for two streams of n each with variance σ², V = 2σ²/n:
 * √(2σ² / (2σ² + nτ²)) · exp(n²τ² (Ȳ − X̄ − θ0)² / (4σ² (2σ² + nτ²))). Under θ0 it is a martingale
 * as the data grow, so by Ville's inequality it ever reaches 1/α with a chance of at most α, however
 * often it is read: min(1, 1/Λ) is an always-valid p-value, and the θ0 whose Λ stays below 1/α form
 * a confidence sequence. Pure functions.
 */
import type { Interval } from "./Statistics.ts"

/**
 * τ, the mixing distribution's standard deviation, in proportion: the size of difference the test
 * is most sensitive to. Differences between the variants of one message are a few percentage
 * points; 5 keeps the test quick for those without giving up on smaller ones.
 */
export const MIXTURE_SD = 0.05

/** ln Λ of the estimate `estimate` with variance `variance` against `nullValue`; undefined without a positive variance. */
export const logMixtureRatio = (
  estimate: number,
  variance: number,
  tau: number = MIXTURE_SD,
  nullValue: number = 0
): number | undefined => {
  if (!(variance > 0) || !Number.isFinite(variance)) return undefined
  const tau2 = tau * tau
  return 0.5 * Math.log(variance / (variance + tau2)) +
    (tau2 * (estimate - nullValue) ** 2) / (2 * variance * (variance + tau2))
}

/** The always-valid p-value of the estimate against `nullValue`: min(1, 1/Λ). */
export const alwaysValidPValue = (
  estimate: number,
  variance: number,
  tau: number = MIXTURE_SD,
  nullValue: number = 0
): number | undefined => {
  const log = logMixtureRatio(estimate, variance, tau, nullValue)
  return log === undefined ? undefined : Math.min(1, Math.exp(-log))
}

/**
 * How far from the estimate Λ stays below 1/α: √(V (V + τ²) / τ² · (2 ln(1/α) + ln((V + τ²) / V))).
 * A boundary on |d̂ − θ0| that widens only as the logarithm of the data.
 */
export const boundary = (variance: number, alpha: number, tau: number = MIXTURE_SD): number => {
  const tau2 = tau * tau
  return Math.sqrt(((variance * (variance + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((variance + tau2) / variance)))
}

/** The always-valid (1 − α) confidence sequence of the difference at this reading; undefined without a positive variance. */
export const confidenceSequence = (
  estimate: number,
  variance: number,
  alpha: number,
  tau: number = MIXTURE_SD
): Interval | undefined => {
  if (!(variance > 0) || !Number.isFinite(variance)) return undefined
  const half = boundary(variance, alpha, tau)
  return { low: estimate - half, high: estimate + half }
}
