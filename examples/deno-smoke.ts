/**
 * Loads the library under Deno and exercises what needs no database: the module graph resolves,
 * phones normalise, and a kind's texts are there. `deno run examples/deno-smoke.ts`
 */
import { Option } from "effect"
import { Feedback, KINDS, normalizePhone } from "../src/index.ts"

const phone = Option.getOrElse(normalizePhone("+7 (909) 158-21-49"), () => "invalid")
console.log(JSON.stringify({ kinds: KINDS, phone, feedback: Feedback.rules.texts[1] }))
