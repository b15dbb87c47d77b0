/**
 * Loads the library under Deno and exercises what needs no database: the module graph resolves,
 * phones normalise, and a kind's texts are there. Needs no permission:
 *
 *   deno run deno-smoke.ts
 */
import { Kinds, Phone } from "@pronto/notify"
import { Option } from "effect"

const phone = Option.getOrElse(Phone.normalizePhone("+7 (909) 158-21-49"), () => "invalid")
console.log(JSON.stringify({ kinds: Kinds.KINDS, phone, feedback: Kinds.Feedback.rules.texts[1] }))
