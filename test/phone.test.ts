import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { maskPhone, normalizePhone } from "../src/delivery/Phone.ts"

describe("phones", () => {
  it.each([
    ["9091582149", "89091582149"],
    ["+7 (909) 158-21-49", "89091582149"],
    ["79091582149", "89091582149"],
    ["89091582149", "89091582149"],
    ["8 909 158 21 49", "89091582149"]
  ])("%s is sent as %s", (raw, sent) => {
    expect(normalizePhone(raw)).toEqual(Option.some(sent))
  })

  it.each([
    ["8091582149", "10 digits not starting with 9"],
    ["99091582149", "11 digits starting with 9"],
    ["909158214", "9 digits"],
    ["890915821499", "12 digits"],
    ["", "nothing"],
    ["phone", "no digits"]
  ])("%s is not sent (%s)", (raw) => {
    expect(normalizePhone(raw)).toEqual(Option.none())
  })

  it("masks all but the first four and last two digits", () => {
    expect(maskPhone("89091582149")).toBe("8909*****49")
    expect(maskPhone("+7 (909) 158-21-49")).toBe("7909*****49")
    expect(maskPhone("12345")).toBe("*****")
  })

  it("keeps a mask short however long the number: at most 9 stars, then the count of digits", () => {
    expect(maskPhone("890915821491234")).toBe("8909*********34")
    expect(maskPhone("8909158214912345")).toBe("8909*********…45 (16 digits)")
    const huge = maskPhone("8".repeat(99_999) + "7")
    expect(huge).toBe("8888*********…87 (100000 digits)")
    expect(huge.length).toBeLessThan(40)
  })
})
