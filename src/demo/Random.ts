/**
 * A seeded pseudo-random generator (mulberry32) and a hash, so a simulation is the same on every
 * machine and every run.
 */
export interface Random {
  /** Uniform in [0, 1). */
  readonly next: () => number
  readonly int: (minInclusive: number, maxExclusive: number) => number
  readonly pick: <A>(items: ReadonlyArray<A>) => A
}

export const make = (seed: number): Random => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min)),
    pick: (items) => items[Math.floor(next() * items.length)]!
  }
}

/** A uniform number in [0, 1) determined by the seed and a key alone (FNV-1a, then mixed). */
export const uniform = (seed: number, key: string): number => {
  let h = 0x811c9dc5 ^ seed
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return make(h >>> 0).next()
}
