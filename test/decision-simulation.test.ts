/**
 * The decision read every simulated day (bench/DecisionSimulation.ts), with fewer seeds than
 * `npm run calibration`: with no true difference the always-valid test seldom ever declares one
 * while the fixed-sample test read daily often does; a true difference of 5 points at feedback's
 * volume is found the right way; with repeat clients the clustered interval of a rate holds the
 * truth where the one that counts every message as independent does not. Pure computation.
 */
import { describe, expect, it } from "vitest"
import { interceptFor, messagesOf, readAt, type Scenario, simulate } from "../bench/DecisionSimulation.ts"

// The demo's feedback: 49 messages a day at about 24%, 3 000 clients, some with many messages.
const FEEDBACK: Scenario = { name: "feedback", perDay: 49, rates: [0.24, 0.24], clients: 3000, repeat: 1, clientEffect: 1, days: 60 }

describe("the simulation", () => {
  it("draws what it declares: the mean chance over clients, the rotation, the windows", () => {
    // The intercept gives the declared mean over the client effect.
    const c = interceptFor(0.24, 1)
    let mean = 0
    for (let i = 0; i < 20_000; i++) {
      const z = -8 + (16 * (i + 0.5)) / 20_000
      mean += (Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI)) * (16 / 20_000) / (1 + Math.exp(-(c + z)))
    }
    expect(mean).toBeCloseTo(0.24, 6)
    const messages = messagesOf(FEEDBACK, 1)
    expect(messages.length).toBeGreaterThan(60 * 48)
    expect(messages.length).toBeLessThan(60 * 50 + 1)
    const ones = messages.filter((m) => m.action === 0).length
    expect(Math.abs(2 * ones - messages.length)).toBeLessThanOrEqual(1)
    expect(messages.every((m) => m.reacted === null || (m.reacted >= m.sent && m.reacted <= m.sent + 14))).toBe(true)
    // Read on day 60 every message is sent, and those of the last 14 days without a reaction are pending.
    const { figures } = readAt(messages, 2, 60)
    const pending = figures.reduce((n, f) => n + f.pending, 0)
    expect(pending).toBe(messages.filter((m) => m.reacted === null ? m.sent + 14 > 60 : m.reacted > 60).length)
    expect(readAt(messages, 2, 74).figures.reduce((n, f) => n + f.pending, 0)).toBe(0)
  })

  it("with no true difference, read every day for 60 days: the always-valid test ever declares one in at most 5% of 200 seeds", () => {
    const s = simulate(FEEDBACK, 200)
    expect(s.alwaysValidEver).toBeLessThanOrEqual(0.05)
    // Peeking at the fixed-sample test: far more than its nominal 5%.
    expect(s.fixedEver).toBeGreaterThan(0.1)
    expect(s.sequenceHeld).toBeGreaterThanOrEqual(0.95)
  }, 120_000)

  it("a true difference of 5 points at feedback's volume: found, and never the wrong way", () => {
    const s = simulate({ ...FEEDBACK, rates: [0.22, 0.27] }, 60)
    expect(s.alwaysValidEver).toBeGreaterThan(0.3)
    expect(s.wrongWay).toBe(0)
    expect(s.alwaysValidDays!.median).toBeLessThanOrEqual(60)
  }, 120_000)

  it("repeat clients: the clustered interval of a rate holds the truth, the independent one does not", () => {
    const s = simulate({ ...FEEDBACK, clients: 1000, repeat: 1.5, clientEffect: 1.5 }, 100)
    expect(s.coverage.rateClustered).toBeGreaterThanOrEqual(0.9)
    expect(s.coverage.rateIndependent).toBeLessThan(0.8)
  }, 120_000)
})
