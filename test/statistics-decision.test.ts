/**
 * The decision's statistics, each pinned to a worked example computed here by another method: the
 * mixture likelihood ratio by numeric integration over the mixing distribution and by the paper's
 * closed form (Johari, Pekelis and Walsh 2017, two streams of n with variance σ²); the confidence
 * sequence by inverting the ratio numerically; the client-clustered variance by summing each
 * client's residuals directly; the sample size by the textbook formula with the tables' quantiles.
 */
import { describe, expect, it } from "vitest"
import { clusterSquares, differenceVariance, effectiveSize } from "../src/report/ClusteredVariance.ts"
import { decide } from "../src/report/Decision.ts"
import { fixedSampleSize, normalQuantile, normalUpperTail, sequentialSampleSize } from "../src/report/SampleSize.ts"
import { alwaysValidPValue, boundary, confidenceSequence, logMixtureRatio, MIXTURE_SD } from "../src/report/Sequential.ts"
import { clusteredWilson, wilson } from "../src/report/Statistics.ts"

const close = (actual: number | undefined | null, expected: number, digits = 9) => expect(actual).toBeCloseTo(expected, digits)

/** ∫ N(d̂; θ, V) / N(d̂; 0, V) · N(θ; 0, τ²) dθ by Simpson's rule: the mixture likelihood ratio from its definition. */
const integratedRatio = (estimate: number, variance: number, tau: number, nullValue = 0) => {
  const density = (x: number, mean: number, sd: number) => Math.exp(-((x - mean) ** 2) / (2 * sd * sd)) / (sd * Math.sqrt(2 * Math.PI))
  const sd = Math.sqrt(variance)
  const integrand = (t: number) =>
    (density(estimate, nullValue + t, sd) / density(estimate, nullValue, sd)) * density(t, 0, tau)
  const [low, high, steps] = [-12 * tau, 12 * tau, 200_000]
  const h = (high - low) / steps
  let sum = integrand(low) + integrand(high)
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * integrand(low + i * h)
  return (sum * h) / 3
}

// The worked example: 120 of 1 000 against 160 of 1 000, every message to another client.
const [n, r1, r2] = [1000, 120, 160]
const [p1, p2] = [r1 / n, r2 / n]
const difference = p2 - p1
const variance = (p1 * (1 - p1)) / n + (p2 * (1 - p2)) / n

describe("the mixture sequential probability ratio test", () => {
  it("equals the mixture likelihood ratio integrated numerically, and the paper's closed form", () => {
    const tau = MIXTURE_SD
    const integrated = integratedRatio(difference, variance, tau)
    // The paper's form: Λ = √(2σ² / (2σ² + nτ²)) · exp(n²τ² (Ȳ − X̄)² / (4σ² (2σ² + nτ²))), 2σ² = σ1² + σ2².
    const sigma2 = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
    const paper = Math.sqrt((2 * sigma2) / (2 * sigma2 + n * tau * tau)) *
      Math.exp((n * n * tau * tau * difference ** 2) / (4 * sigma2 * (2 * sigma2 + n * tau * tau)))
    close(Math.exp(logMixtureRatio(difference, variance, tau)!), integrated, 9)
    close(Math.exp(logMixtureRatio(difference, variance, tau)!), paper, 9)
    // SciPy's quad over the same integrand gives 6.195513446226898.
    close(integrated, 6.195513446226898, 8)
    close(alwaysValidPValue(difference, variance), 1 / paper, 12)
    close(alwaysValidPValue(difference, variance), 0.16140712286065734, 9)
  })

  it("is stricter than the fixed-sample test on the same data, which gives p = 0.0099", () => {
    const z = difference / Math.sqrt(variance)
    close(2 * normalUpperTail(z), 0.009823, 5)
    expect(alwaysValidPValue(difference, variance)!).toBeGreaterThan(0.05)
  })

  it("caps the p-value at 1, for an estimate of zero, and needs a positive variance", () => {
    expect(alwaysValidPValue(0, variance)).toBe(1)
    expect(alwaysValidPValue(0.04, 0)).toBeUndefined()
    expect(confidenceSequence(0.04, Number.NaN, 0.05)).toBeUndefined()
    // Against a null other than zero: the ratio of the shifted estimate.
    close(Math.exp(logMixtureRatio(difference, variance, MIXTURE_SD, 0.01)!), integratedRatio(difference, variance, MIXTURE_SD, 0.01), 9)
  })

  it("its confidence sequence holds exactly the differences whose ratio stays below 1/α", () => {
    const cs = confidenceSequence(difference, variance, 0.05)!
    // At each bound the integrated ratio is 1/α = 20; just inside it is below, just outside above.
    close(integratedRatio(difference, variance, MIXTURE_SD, cs.low), 20, 6)
    close(integratedRatio(difference, variance, MIXTURE_SD, cs.high), 20, 6)
    expect(integratedRatio(difference, variance, MIXTURE_SD, cs.low + 1e-4)).toBeLessThan(20)
    expect(integratedRatio(difference, variance, MIXTURE_SD, cs.high + 1e-4)).toBeGreaterThan(20)
    close((cs.low + cs.high) / 2, difference, 12)
    // Wider than the fixed-sample 95% interval, and widening for a smaller α.
    expect(cs.high - difference).toBeGreaterThan(1.96 * Math.sqrt(variance))
    expect(boundary(variance, 0.05 / 3)).toBeGreaterThan(boundary(variance, 0.05))
  })
})

describe("the client-clustered variance", () => {
  // Five clients' decided messages of actions 1 and 2: [decided, reacted] per action.
  const clients: ReadonlyArray<{ readonly a: readonly [number, number]; readonly b: readonly [number, number] }> = [
    { a: [3, 3], b: [1, 1] },
    { a: [1, 0], b: [2, 0] },
    { a: [2, 1], b: [0, 0] },
    { a: [4, 0], b: [3, 2] },
    { a: [0, 0], b: [4, 4] }
  ]
  const sum = (f: (c: (typeof clients)[number]) => number) => clients.reduce((s, c) => s + f(c), 0)
  const arm = (x: "a" | "b") => ({
    decided: sum((c) => c[x][0]),
    reacted: sum((c) => c[x][1]),
    clusters: {
      reacted2: sum((c) => c[x][1] ** 2),
      decidedReacted: sum((c) => c[x][0] * c[x][1]),
      decided2: sum((c) => c[x][0] ** 2)
    }
  })
  const [a, b] = [arm("a"), arm("b")]

  it("is the sum over the clients of their residuals, computed one client at a time", () => {
    const [pa, pb] = [a.reacted / a.decided, b.reacted / b.decided]
    // Directly: Σ_c (reacted − rate × decided)², one client at a time.
    const squares = (x: "a" | "b", p: number) => sum((c) => (c[x][1] - p * c[x][0]) ** 2)
    close(clusterSquares(a), squares("a", pa), 12)
    close(clusterSquares(b), squares("b", pb), 12)
    const v = differenceVariance(a, b)!
    close(v.difference, pb - pa, 14)
    close(v.independent, (pa * (1 - pa)) / a.decided + (pb * (1 - pb)) / b.decided, 14)
    // Each action's clients once; here both vary more than independent messages would.
    expect(squares("a", pa) / a.decided ** 2).toBeGreaterThan((pa * (1 - pa)) / a.decided)
    expect(squares("b", pb) / b.decided ** 2).toBeGreaterThan((pb * (1 - pb)) / b.decided)
    close(v.variance, squares("a", pa) / a.decided ** 2 + squares("b", pb) / b.decided ** 2, 14)
  })

  it("is the independent variance when every client has one message, and never below it", () => {
    // 3 of 8 and 5 of 10, each message its own client.
    const own = (decided: number, reacted: number) => ({
      decided,
      reacted,
      clusters: { reacted2: reacted, decidedReacted: reacted, decided2: decided }
    })
    const v = differenceVariance(own(8, 3), own(10, 5))!
    close(v.variance, v.independent, 14)
    expect(differenceVariance({ ...own(8, 3), clusters: null }, own(10, 5))!.variance).toBe(v.variance)
    close(effectiveSize(own(8, 3)), 8, 12)
    // Clients more alike than chance (each of ten holds two successes of four): not narrower.
    const alike = { decided: 40, reacted: 20, clusters: { reacted2: 10 * 4, decidedReacted: 10 * 8, decided2: 10 * 16 } }
    close(differenceVariance(alike, alike)!.variance, differenceVariance(alike, alike)!.independent, 14)
    expect(effectiveSize(alike)).toBe(40)
  })

  it("gives the effective count at which the report's interval is Wilson's", () => {
    // Ten clients of four messages, three answering all four: worth ten messages.
    const clustered = { decided: 40, reacted: 12, clusters: { reacted2: 3 * 16, decidedReacted: 3 * 16, decided2: 10 * 16 } }
    const effective = effectiveSize(clustered)
    close(effective, 10, 12)
    const interval = clusteredWilson(12, 40, clustered.clusters)!
    const atEffective = wilson(0.3 * effective, effective)!
    close(interval.low, atEffective.low, 12)
    close(interval.high, atEffective.high, 12)
    expect(effectiveSize({ decided: 0, reacted: 0, clusters: null })).toBe(0)
  })
})

describe("sample sizes", () => {
  it("normal quantiles as in the tables", () => {
    close(normalQuantile(0.975), 1.959963984540054, 12)
    close(normalQuantile(0.8), 0.8416212335729143, 12)
    close(normalQuantile(1 - 0.05 / 6), 2.3939797998185104, 12)
    close(normalUpperTail(1), 0.15865525393145707, 14)
    close(normalUpperTail(-3), 1 - 0.0013498980316300933, 14)
  })

  it("the textbook formula: 0.65 against 0.85 at 5% with 80% power needs 70 per group", () => {
    // n = (z0.975 + z0.80)² (p1 q1 + p2 q2) / δ² = (1.96 + 0.84)² × 0.355 / 0.04 (Chow, Shao and Wang, §4.2).
    const n = fixedSampleSize(0.65, 0.85, 0.05, 0.8)
    close(n, (1.959963984540054 + 0.8416212335729143) ** 2 * (0.65 * 0.35 + 0.85 * 0.15) / 0.2 ** 2, 9)
    expect(Math.ceil(n)).toBe(70)
  })

  it("the always-valid test: at the size found, the estimate clears the boundary with the power asked", () => {
    const unitVariance = 2 * (0.2 * 0.8 + 0.23 * 0.77)
    const total = sequentialSampleSize({ unitVariance, difference: 0.03, alpha: 0.05, power: 0.8 })
    const v = unitVariance / total
    // P(d̂ ≥ boundary) for d̂ ~ N(0.03, v): 80% at the size found, less just before it.
    close(normalUpperTail((boundary(v, 0.05) - 0.03) / Math.sqrt(v)), 0.8, 6)
    const before = unitVariance / (total * 0.99)
    expect(normalUpperTail((boundary(before, 0.05) - 0.03) / Math.sqrt(before))).toBeLessThan(0.8)
    // More than a test planned in advance needs (two groups of the textbook n), fewer for a larger difference.
    expect(total).toBeGreaterThan(2 * fixedSampleSize(0.2, 0.23, 0.05, 0.8))
    expect(sequentialSampleSize({ unitVariance, difference: 0.05, alpha: 0.05, power: 0.8 })).toBeLessThan(total)
    expect(sequentialSampleSize({ unitVariance, difference: 0, alpha: 0.05, power: 0.8 })).toBe(Infinity)
  })
})

describe("decide", () => {
  /** Each message to a client of its own. */
  const own = (reacted: number, decided: number) => ({ reacted2: reacted, decidedReacted: reacted, decided2: decided })

  it("the worked example: always-valid p 0.161, undecided, and how many more messages it needs", () => {
    const d = decide({
      actions: [
        { action: 1, reacted: r1, none: n - r1, pending: 50, clusters: own(r1, n) },
        { action: 2, reacted: r2, none: n - r2, pending: 50, clusters: own(r2, n) }
      ],
      recent: [{ action: 1, sent: 280 }, { action: 2, sent: 280 }],
      windowDays: 14
    })
    const pair = d.pairs[0]!
    expect(pair.actions).toEqual([1, 2])
    expect(pair.outcome).toBe("undecided")
    close(pair.difference, 0.04, 12)
    close(pair.alwaysValid!.pValue, 0.16140712286065734, 9)
    close(pair.fixedSample!.pValue, 2 * normalUpperTail(difference / Math.sqrt(variance)), 12)
    close(pair.designEffect, 1, 12)
    expect(d.outcome).toBe("undecided")
    expect(d.verdict).toBe(
      "The data cannot tell yet whether the actions differ (action 1 12.0%, action 2 16.0%; always-valid p = 0.161). " +
        "Reading the report every day does not make this test wrong more often: keep sending and look again."
    )
    // 3 points around the pair's rate of 14%: 12.5% against 15.5%, half the messages each.
    const total = sequentialSampleSize({ unitVariance: 2 * (0.125 * 0.875 + 0.155 * 0.845), difference: 0.03, alpha: 0.05, power: 0.8 })
    expect(pair.needed).toMatchObject({ decidedNeeded: Math.ceil(total), decided: 2000, pending: 100, perDay: 20 })
    expect(pair.needed!.moreMessages).toBe(Math.ceil(total) - 2100)
    expect(pair.needed!.days).toBe(Math.ceil((Math.ceil(total) - 2100) / 20))
    expect(d.actions.map((a) => [a.action, a.decided, a.effectiveDecided, a.sentPerDay])).toEqual([
      [1, 1000, 1000, 10],
      [2, 1000, 1000, 10]
    ])
  })

  it("three actions: each pair at 5%/3, so a pair at p = 0.018 alone is not yet told apart", () => {
    const arm = (action: number, reacted: number) => ({ action, reacted, none: 1000 - reacted, pending: 0, clusters: null })
    const d = decide({ actions: [arm(1, 100), arm(2, 200), arm(3, 150)], recent: [], windowDays: 14 })
    const single = (pa: number, pb: number) => {
      const v = (pa * (1 - pa) + pb * (1 - pb)) / 1000
      return Math.sqrt((v + 0.0025) / v) * Math.exp((-0.0025 * (pb - pa) ** 2) / (2 * v * (v + 0.0025)))
    }
    expect(d.pairs.map((p) => [p.actions, p.outcome])).toEqual([[[1, 2], "different"], [[1, 3], "undecided"], [[2, 3], "undecided"]])
    close(single(0.1, 0.15), 0.0179, 3)
    close(d.pairs[1]!.alwaysValid!.pValue, 3 * single(0.1, 0.15), 12)
    close(d.pairs[2]!.alwaysValid!.pValue, 3 * single(0.2, 0.15), 12)
    // The confidence sequence at 5%/3: wider than at 5%.
    const v = (0.1 * 0.9 + 0.15 * 0.85) / 1000
    close(d.pairs[1]!.alwaysValid!.interval.high - 0.05, boundary(v, 0.05 / 3), 12)
    expect(d.outcome).toBe("different")
    expect(d.verdict).toMatch(
      /^Action 2 gets reactions more often than action 1: 20\.0% against 10\.0%, \+10\.0 pp \(always-valid 95% interval \+[\d.]+ \.\. \+[\d.]+ pp; always-valid p < 0\.001\)\. Not told apart yet: actions 1 and 3; 2 and 3\. This holds however often the report has been read: you can decide\.$/
    )
    expect(d.method).toContain("3 pairs, each at 5%/3")
    // Told apart: nothing more needed; the others say how long.
    expect(d.pairs[0]!.needed).toBeNull()
    expect(d.pairs[1]!.needed!.days).toBeNull()
  })
})
