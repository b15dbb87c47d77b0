/**
 * The engine on swapped-in fake layers, no database: a kind whose candidates are a list, and the
 * attempts, rotation, Sender and invalid phones in memory.
 */
import { Duration, Effect, Layer, Logger, LogLevel, Ref, Stream } from "effect"
import { InFlight } from "../../src/delivery/InFlight.ts"
import { Sender } from "../../src/delivery/Sender.ts"
import { Rotation } from "../../src/engine/Rotation.ts"
import { type Candidate, make, nothingGranted, ReactionRule } from "../../src/kinds/Kind.ts"
import { Attempts } from "../../src/store/Attempts.ts"
import { InvalidPhones } from "../../src/store/InvalidPhones.ts"
import { BusinessTimeZone } from "../../src/time/BusinessTime.ts"

/** `n` candidates of clients 1 … n, phones 8916000000x; those in `invalid` with a phone the Site cannot take. */
export const candidates = (n: number, invalid: ReadonlyArray<number> = []): ReadonlyArray<Candidate> =>
  Array.from({ length: n }, (_, i) => ({
    clientId: String(i + 1),
    phone: invalid.includes(i + 1) ? "12345" : `8916${String(i + 1).padStart(7, "0")}`,
    orderUid: null,
    actionSet: "fake",
    trigger: `${i + 1}@once`
  }))

/** A kind of two actions over a list of candidates; its actions do nothing but say so. */
export const listKind = (list: ReadonlyArray<Candidate>, performed?: Ref.Ref<ReadonlyArray<string>>, name = "fake") =>
  make({
    name,
    schedule: { cron: "0 12 * * *", words: "daily at 12:00", catchUp: Duration.hours(1), catchUpWords: "within the hour" },
    actionSets: [{ name: "fake", band: null, actions: 2 }],
    rules: {},
    reaction: ReactionRule.ClosedOrder(),
    select: () => Stream.fromIterable(list),
    plan: (_candidate, chosenAction) => Effect.succeed({ performedAction: chosenAction, text: `action ${chosenAction}` }),
    perform: (candidate) =>
      Effect.as(performed === undefined ? Effect.void : Ref.update(performed, (all) => [...all, candidate.clientId]), nothingGranted)
  })

export const fakes = (inFlight = 8) =>
  Layer.mergeAll(
    Attempts.layerTest,
    Rotation.layerTest,
    Sender.layerTest,
    InvalidPhones.layerTest,
    InFlight.layer(inFlight),
    BusinessTimeZone.layer("Europe/Moscow"),
    Logger.minimumLogLevel(LogLevel.None)
  )

export const phoneOf = (clientId: string) => `8916${clientId.padStart(7, "0")}`

