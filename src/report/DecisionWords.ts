/**
 * The decision in words (Decision.ts): the verdict, and for a pair not yet told apart how long
 * until it can be. Shared by the text, the page and the JSON, and kept apart from the renderers so
 * that the decision does not depend on them.
 */
import type { Decision, DecisionAction, DecisionOutcome, PairDecision } from "./DecisionData.ts"

const percent = (x: number) => `${(x * 100).toFixed(1)}%`
/** A difference in signed percentage points, as the text tables write it: +7.7, -0.4. */
export const signedPoints = (x: number) => `${x >= 0 ? "+" : "-"}${Math.abs(x * 100).toFixed(1)}`
export const formatP = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`)
/** A count for reading: thousands apart with a thin space. */
export const formatCount = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009")

const rateOf = (a: DecisionAction) => a.reacted / (a.reacted + a.none)

const differentSentence = (pair: PairDecision, actions: ReadonlyArray<DecisionAction>) => {
  const [a, b] = pair.actions.map((n) => actions.find((x) => x.action === n)!)
  const [better, worse] = rateOf(b!) > rateOf(a!) ? [b!, a!] : [a!, b!]
  const sign = better === b ? 1 : -1
  const interval = pair.alwaysValid!.interval
  const [low, high] = sign > 0 ? [interval.low, interval.high] : [-interval.high, -interval.low]
  return `Action ${better.action} gets reactions more often than action ${worse.action}: ${percent(rateOf(better))} ` +
    `against ${percent(rateOf(worse))}, ${signedPoints(sign * pair.difference!)} pp (always-valid 95% interval ` +
    `${signedPoints(low)} .. ${signedPoints(high)} pp; always-valid ${formatP(pair.alwaysValid!.pValue)}).`
}

/** The verdict in plain words; it names a winner only where the always-valid test has told the actions apart. */
export const verdictOf = (o: {
  readonly outcome: DecisionOutcome
  readonly actions: ReadonlyArray<DecisionAction>
  readonly pairs: ReadonlyArray<PairDecision>
  readonly minExpected: number
}): string => {
  const decided = o.actions.filter((a) => a.reacted + a.none > 0)
  const rates = decided.map((a) => `action ${a.action} ${percent(rateOf(a))}`).join(", ")
  switch (o.outcome) {
    case "nothing-to-compare":
      return o.actions.length < 2
        ? "One action only: nothing to compare."
        : "Fewer than two actions have decided messages: nothing to compare yet."
    case "too-few":
      return `Too few decided messages to compare the actions yet (${rates}): the always-valid test needs an expected ` +
        `count of at least ${o.minExpected} reacted and ${o.minExpected} not reacted per action.`
    case "undecided": {
      const closest = Math.min(...o.pairs.flatMap((p) => (p.alwaysValid === null ? [] : [p.alwaysValid.pValue])))
      return `The data cannot tell yet whether the actions differ (${rates}; always-valid ${formatP(closest)}${
        o.pairs.length > 1 ? " for the pair closest to a verdict" : ""
      }). Reading the report every day does not make this test wrong more often: keep sending and look again.`
    }
    case "different": {
      const told = o.pairs.filter((p) => p.outcome === "different").map((p) => differentSentence(p, o.actions))
      const open = o.pairs.filter((p) => p.outcome !== "different").map((p) => `${p.actions[0]} and ${p.actions[1]}`)
      return [
        ...told,
        ...(open.length > 0 ? [`Not told apart yet: actions ${open.join("; ")}.`] : []),
        "This holds however often the report has been read: you can decide."
      ].join(" ")
    }
  }
}

/** How long until a pair not yet told apart can be, in words; null for a pair told apart. */
export const describeNeeded = (
  pair: PairDecision,
  decision: Pick<Decision, "detectable" | "power" | "windowDays">
): string | null => {
  const { detectable, power, windowDays } = decision
  const n = pair.needed
  if (n === null) return null
  const head = `Actions ${pair.actions[0]} and ${pair.actions[1]}: to tell a difference of ${Math.round(detectable * 100)} ` +
    `points with ${Math.round(power * 100)}% power`
  if (n.decidedNeeded === null || n.moreMessages === null) return `${head}, no number of messages will do at these rates.`
  if (n.decided >= n.decidedNeeded) {
    return `${head}: enough messages are decided (${formatCount(n.decidedNeeded)} needed, ${formatCount(n.decided)} ` +
      "decided) and no difference was found: any difference is likely smaller than that."
  }
  if (n.moreMessages === 0) {
    return `${head}: enough messages are sent (${formatCount(n.decidedNeeded)} decided needed, ${formatCount(n.decided)} ` +
      `decided, ${formatCount(n.pending)} pending); wait up to ${windowDays} days for the pending ones' reactions.`
  }
  const pace = n.days === null
    ? "none of them were sent in the last four weeks, so at that pace never"
    : `about ${formatCount(n.days)} days at the last four weeks' pace (${n.perDay.toFixed(1)} a day), then up to ` +
      `${windowDays} days for their reactions`
  return `${head}: about ${formatCount(n.moreMessages)} more messages (${formatCount(n.decidedNeeded)} decided in all, ` +
    `${formatCount(n.decided)} so far); ${pace}.`
}
