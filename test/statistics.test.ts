/**
 * Reference values: Newcombe (1998) "Two-sided confidence intervals for the single proportion"
 * (Table I, method 3) and "Interval estimation for the difference between independent
 * proportions" (Table II, method 10); chi-square critical values from the standard tables; and
 * the rest from SciPy 1.17 (scipy.stats.chi2.sf, scipy.special.gammainc, chi2_contingency with
 * correction=False).
 */
import { describe, expect, it } from "vitest"
import {
  chiSquareIndependence,
  chiSquarePValue,
  clusteredWilson,
  differenceOf,
  logGamma,
  newcombeDifference,
  regularizedGammaQ,
  standardized,
  wilson,
  Z_95
} from "../src/report/Statistics.ts"

const close = (actual: number | undefined, expected: number, digits = 4) => expect(actual).toBeCloseTo(expected, digits)

describe("wilson", () => {
  it("has no interval without trials", () => {
    expect(wilson(0, 0)).toBeUndefined()
  })

  it("matches Newcombe's published intervals", () => {
    const cases: ReadonlyArray<[number, number, number, number]> = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718]
    ]
    for (const [x, n, low, high] of cases) {
      const interval = wilson(x, n)!
      close(interval.low, low)
      close(interval.high, high)
    }
  })

  it("15 of 100 gives [0.0931, 0.2328]", () => {
    const interval = wilson(15, 100)!
    close(interval.low, 0.09305985283656631, 10)
    close(interval.high, 0.23283559590832364, 10)
  })

  it("is exactly 0 below a rate of 0 and exactly 1 above a rate of 1", () => {
    expect(wilson(0, 10)!.low).toBe(0)
    close(wilson(0, 10)!.high, 0.2775327998628892, 10)
    expect(wilson(10, 10)!.high).toBe(1)
    close(wilson(10, 10)!.low, 0.7224672001371107, 10)
    expect(wilson(1, 1)).toEqual({ low: expect.closeTo(0.20654931437723745, 10), high: 1 })
  })

  it("contains the observed rate and narrows as the sample grows", () => {
    const small = wilson(3, 10)!
    const large = wilson(300, 1000)!
    expect(small.low).toBeLessThan(0.3)
    expect(small.high).toBeGreaterThan(0.3)
    expect(large.high - large.low).toBeLessThan(small.high - small.low)
  })

  it("uses the two-sided 95% normal quantile", () => {
    close(Z_95, 1.959963984540054, 12)
  })
})

describe("newcombeDifference", () => {
  it("matches Newcombe's published method 10 intervals", () => {
    const cases: ReadonlyArray<[number, number, number, number, number, number]> = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.8090],
      [6, 7, 2, 7, 0.0582, 0.8062],
      [5, 56, 0, 29, -0.0381, 0.1926]
    ]
    for (const [x1, n1, x2, n2, low, high] of cases) {
      const d = newcombeDifference(x1, n1, x2, n2)!
      close(d.difference, x1 / n1 - x2 / n2, 12)
      close(d.low, low)
      close(d.high, high)
    }
  })

  it("is undefined when either side has no trials", () => {
    expect(newcombeDifference(0, 0, 1, 10)).toBeUndefined()
    expect(newcombeDifference(1, 10, 0, 0)).toBeUndefined()
  })

  it("stays within [-1, 1] at the extremes", () => {
    const d = newcombeDifference(10, 10, 0, 20)!
    expect(d.difference).toBe(1)
    close(d.low, 0.6790860371419147, 10)
    close(d.high, 1, 12)
    const none = newcombeDifference(0, 10, 0, 20)!
    expect(none.difference).toBe(0)
    close(none.low, -0.16112515805281938, 10)
    close(none.high, 0.2775327998628892, 10)
  })
})

describe("the gamma function and the chi-square distribution", () => {
  it("ln Γ at known points", () => {
    close(logGamma(1), 0, 12)
    close(logGamma(5), Math.log(24), 12)
    close(logGamma(0.5), 0.5 * Math.log(Math.PI), 12)
    close(logGamma(100.5), 361.43554046777757, 9)
  })

  it("regularized upper gamma on both sides of a + 1 (series and continued fraction)", () => {
    close(1 - regularizedGammaQ(2.5, 1.7), 0.36143007689620493, 12)
    close(1 - regularizedGammaQ(10, 3), 0.0011024881301154815, 12)
    close(1 - regularizedGammaQ(0.5, 20), 0.9999999997460371, 12)
    expect(regularizedGammaQ(3, 0)).toBe(1)
  })

  it("the table's 5% and 1% critical values give p = 0.05 and 0.01", () => {
    close(chiSquarePValue(3.841, 1), 0.05, 4)
    close(chiSquarePValue(5.991, 2), 0.05, 4)
    close(chiSquarePValue(7.815, 3), 0.05, 4)
    close(chiSquarePValue(18.307, 10), 0.05, 4)
    close(chiSquarePValue(6.635, 1), 0.01, 5)
  })

  it("agrees with closed forms and SciPy across the range", () => {
    // df = 2: P(X >= x) = exp(-x/2) exactly.
    for (const x of [0.1, 1, 4, 13.8]) close(chiSquarePValue(x, 2), Math.exp(-x / 2), 12)
    close(chiSquarePValue(1, 4), 0.9097959895689501, 12)
    close(chiSquarePValue(50, 30), 0.01240206071890054, 12)
    expect(chiSquarePValue(100, 1) / 1.5239706048320995e-23).toBeCloseTo(1, 6)
    expect(chiSquarePValue(0, 1)).toBe(1)
  })
})

describe("chiSquareIndependence", () => {
  it("two actions: the statistic is z² of the two-proportion test", () => {
    const test = chiSquareIndependence([[30, 70], [15, 85]])!
    close(test.statistic, 6.451612903225806, 10)
    expect(test.df).toBe(1)
    close(test.pValue, 0.011085166380602708, 10)
    close(test.minExpected, 22.5, 10)
    // z from the pooled two-proportion test.
    const pooled = 45 / 200
    const z = (0.3 - 0.15) / Math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    close(test.statistic, z * z, 10)
  })

  it("three actions: df 2", () => {
    const test = chiSquareIndependence([[30, 70], [20, 80], [10, 90]])!
    close(test.statistic, 12.5, 10)
    expect(test.df).toBe(2)
    close(test.pValue, 0.0019304541362277095, 10)
  })

  it("identical rates give 0 and p = 1", () => {
    const test = chiSquareIndependence([[10, 40], [20, 80]])!
    close(test.statistic, 0, 12)
    close(test.pValue, 1, 12)
  })

  it("reports the smallest expected count, for the small-sample guard", () => {
    close(chiSquareIndependence([[1, 9], [3, 7]])!.minExpected, 2, 12)
  })

  it("is undefined with one row, or a row or column that is all zero", () => {
    expect(chiSquareIndependence([[3, 7]])).toBeUndefined()
    expect(chiSquareIndependence([[3, 7], [0, 0]])).toBeUndefined()
    expect(chiSquareIndependence([[0, 7], [0, 5]])).toBeUndefined()
    expect(chiSquareIndependence([])).toBeUndefined()
  })
})

describe("clusteredWilson", () => {
  it("is the plain Wilson interval when every cluster holds one trial", () => {
    // 3 of 8, each its own client: Σ y² = 3, Σ n y = 3, Σ n² = 8.
    expect(clusteredWilson(3, 8, { reacted2: 3, decidedReacted: 3, decided2: 8 })).toEqual(wilson(3, 8))
  })

  it("widens to the effective count when clusters move together, never narrows", () => {
    // Ten clusters of four, three all successes: as wide as 3 of 10.
    const clustered = clusteredWilson(12, 40, { reacted2: 3 * 16, decidedReacted: 3 * 16, decided2: 10 * 16 })!
    close(clustered.low, wilson(3, 10)!.low, 12)
    close(clustered.high, wilson(3, 10)!.high, 12)
    // Clusters more alike than chance (each of ten holds two successes of four): the plain interval.
    expect(clusteredWilson(20, 40, { reacted2: 10 * 4, decidedReacted: 10 * 8, decided2: 10 * 16 })).toEqual(wilson(20, 40))
    expect(clusteredWilson(0, 0, { reacted2: 0, decidedReacted: 0, decided2: 0 })).toBeUndefined()
  })
})

describe("standardized", () => {
  it("with one stratum is the plain proportion and its Wilson interval", () => {
    const one = standardized([{ trials: 8, successes: 3, weight: 5 }])!
    close(one.proportion, 3 / 8, 12)
    close(one.effectiveTrials, 8, 9)
    close(one.interval.low, wilson(3, 8)!.low, 9)
    close(one.interval.high, wilson(3, 8)!.high, 9)
  })

  it("weights each stratum's proportion to the other population's mix, with the Wilson interval at the effective size", () => {
    // 1 of 2 and 1 of 4, weighted 2 : 1 : 1, the last moving to its nearest observed neighbour.
    const mixed = standardized([
      { trials: 2, successes: 1, weight: 2 },
      { trials: 4, successes: 1, weight: 1 },
      { trials: 0, successes: 0, weight: 1 }
    ])!
    close(mixed.proportion, 0.375, 12)
    close(mixed.effectiveTrials, 0.375 * 0.625 / (0.25 * 0.125 + 0.25 * 0.046875), 9)
    close(mixed.interval.low, 0.11118556298415427, 9)
    close(mixed.interval.high, 0.742123845740142, 9)
  })

  it("moves a weight to the lower of two equally near strata, and needs observations and weight", () => {
    const tie = standardized([
      { trials: 10, successes: 2, weight: 0 },
      { trials: 0, successes: 0, weight: 1 },
      { trials: 10, successes: 8, weight: 0 }
    ])!
    close(tie.proportion, 0.2, 12)
    expect(standardized([{ trials: 0, successes: 0, weight: 3 }])).toBeUndefined()
    expect(standardized([{ trials: 5, successes: 1, weight: 0 }])).toBeUndefined()
  })
})

describe("differenceOf", () => {
  it("is Newcombe's interval when both sides are plain counts", () => {
    const [p1, p2] = [56 / 70, 48 / 80]
    const d = differenceOf(p1, wilson(56, 70)!, p2, wilson(48, 80)!)
    const n = newcombeDifference(56, 70, 48, 80)!
    close(d.difference, n.difference, 12)
    close(d.low, 0.0524)
    close(d.high, 0.3339)
  })
})
