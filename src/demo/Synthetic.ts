/**
 * The synthetic chain's raw material, drawn from the seeded random source: order UIDs, phones in
 * the shapes the host stores them (1 in 100 one the Site cannot take), birthdays, order sources.
 */
import * as Random from "./Random.ts"

const DAY_MS = 86_400_000

const SOURCES = [["site", 0.3], ["app", 0.3], ["new_app", 0.15], ["jupiter", 0.15], ["aggregator", 0.1]] as const

export const uuidFrom = (random: Random.Random) => {
  const hex = Array.from({ length: 32 }, () => random.int(0, 16).toString(16)).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

export const phoneOf = (random: Random.Random, id: number) => {
  const local = `9${String(random.int(0, 1_000_000_000)).padStart(9, "0")}`
  const style = id % 100
  if (style === 0) return `12-${local.slice(0, 4)}` // the Site cannot take it
  if (style < 40) return `+7 (${local.slice(0, 3)}) ${local.slice(3, 6)}-${local.slice(6, 8)}-${local.slice(8)}`
  if (style < 70) return `8${local}`
  return local
}

export const birthdayOf = (random: Random.Random) => {
  const year = random.int(1965, 2006)
  if (random.next() < 0.01) return "1996-02-29"
  const day = new Date(Date.UTC(year, 0, 1) + random.int(0, 365) * DAY_MS)
  return day.toISOString().slice(0, 10)
}

export const pickSource = (random: Random.Random) => {
  let r = random.next()
  for (const [source, weight] of SOURCES) {
    if (r < weight) return source
    r -= weight
  }
  return "site"
}
