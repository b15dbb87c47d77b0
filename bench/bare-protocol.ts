/**
 * The bare baseline of a run: exactly the statements the engine sends and the POSTs it makes, in
 * the same order and with the same concurrency, written by hand over node-postgres and `node:http`
 * with no library, no Effect, no decoding and no logging. What the engine costs above the protocol
 * is its time over this one's.
 *
 * Per page of candidates (1,000 orders; 50,000 clients): the selector's statement. Per block of 256: one rotation take per
 * action set, the plans (invite action 1 reads the balance), and the block's attempts recorded in
 * one statement on the run's own connection. Per message, on the connection a worker holds while
 * messages wait: BEGIN (sent with the previous message's COMMIT when there was one), the
 * actions (the order's mark; for an invite the gift's accrual and the client's mark), the POST's
 * start (recorded on the run's connection, those waiting at the same moment in one statement), the
 * POST, the notification flipped to sent with the COMMIT in one simple query. At the end, the run's attempts whose POST never
 * started are released.
 */
import * as http from "node:http"
import * as zlib from "node:zlib"
import pg from "pg"

export type BareKind = "feedback" | "invite"

export interface BareOptions {
  readonly databaseUrl: string
  readonly siteUrl: string
  readonly siteKey: string
  readonly kind: BareKind
  /** The run's instant. */
  readonly at: Date
  readonly inFlight: number
}

/** The engine's page sizes: feedback's orders, and the client kinds' (kinds/Kind.ts). */
const PAGE = 1_000
const CLIENT_PAGE = 50_000
const BLOCK = 256
const TZ = "Europe/Moscow"

interface Candidate {
  clientId: string
  phone: string
  orderUid: string | null
  actionSet: string
  trigger: string
  key: Array<unknown>
}

interface Item {
  candidate: Candidate
  phone: string
  chosen: number
  performed: number
  text: string
  id?: string
  bonus?: string
}

const FEEDBACK_TEXTS: Record<number, string> = {
  1: "Все понравилось? Оцени заказ и получи 50 баллов!",
  2: "Все понравилось? Оцени заказ в приложении и получи 100 баллов!"
}
const INVITE_TEXTS: Record<number, string> = {
  2: "Как насчет подарков? Дарим 100 бонусов на 2 недели",
  3: "Как насчет скидки? -10% по промокоду PRO10"
}

const feedbackPage = (at: Date, after: Array<unknown> | null) => ({
  text: `
    SELECT o.client_id::text AS "clientId", c.phone, o.uid::text AS "orderUid", 'feedback' AS "actionSet",
           o.uid::text AS trigger,
           to_char(o.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "closedAt"
    FROM jupiter.orders o JOIN jupiter.clients c ON c.id = o.client_id
    WHERE o.status = 'closed' AND o.is_delivery AND o.source IN ('site', 'app', 'new_app')
      AND o.closed_at > $1::timestamptz - make_interval(hours => 24) AND o.closed_at <= $1
      AND NOT EXISTS (SELECT 1 FROM pronto_notify.order_marks m WHERE m.order_uid = o.uid)
      AND NOT EXISTS (SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = 'feedback' AND n.trigger_key = o.uid::text)
      AND ${after === null ? "true" : "(o.closed_at, o.uid) > ($2::timestamptz, $3::uuid)"}
    ORDER BY o.closed_at, o.uid LIMIT ${PAGE}`,
  values: after === null ? [at] : [at, ...after],
  key: (r: Record<string, string>) => [r.closedAt, r.orderUid]
})

const invitePage = (at: Date, after: Array<unknown> | null) => ({
  text: `
    WITH lapsed AS (
      SELECT c.id, c.phone, c.last_order_at, ($1::timestamptz AT TIME ZONE '${TZ}')::date AS today,
             (c.last_order_at AT TIME ZONE '${TZ}')::date AS last_day
      FROM jupiter.clients c
      WHERE c.last_order_at > $1::timestamptz - make_interval(months => 3, days => 2)
        AND c.last_order_at < $1::timestamptz - make_interval(days => 13)
    ), banded AS (
      SELECT l.id, l.phone, l.last_order_at,
             CASE WHEN l.today - l.last_day > 28 AND l.last_day > (l.today - make_interval(months => 3))::date THEN 'A'
                  WHEN l.today - l.last_day > 14 AND l.today - l.last_day < 28 THEN 'B' END AS band,
             l.id::text || ':' || to_char(l.last_order_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS trigger
      FROM lapsed l
    )
    SELECT b.id::text AS "clientId", b.phone, NULL::text AS "orderUid", 'invite:' || b.band AS "actionSet", b.trigger, b.band
    FROM banded b LEFT JOIN pronto_notify.client_marks m ON m.client_id = b.id
    WHERE b.band IS NOT NULL AND m.invite_lapse IS DISTINCT FROM b.last_order_at
      AND NOT EXISTS (SELECT 1 FROM pronto_notify.notifications n WHERE n.kind = 'invite' AND n.trigger_key = b.trigger)
      AND ${after === null ? "true" : "(b.band, b.id) > ($2, $3::bigint)"}
    ORDER BY b.band, b.id LIMIT ${CLIENT_PAGE}`,
  values: after === null ? [at] : [at, ...after],
  key: (r: Record<string, string>) => [r.band, r.clientId]
})

const normalize = (phone: string): string | null => {
  const digits = phone.replace(/\D/g, "")
  if (digits.length === 11 && (digits[0] === "7" || digits[0] === "8")) return `8${digits.slice(1)}`
  if (digits.length === 10 && digits[0] === "9") return `8${digits}`
  return null
}

/** Runs one bare run; how many messages were sent. */
export const run = async (options: BareOptions): Promise<{ sent: number }> => {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.inFlight + 2 })
  // An idle connection closed by the server (the scratch database dropped) is no failure of the run.
  pool.on("error", () => undefined)
  const session = new pg.Client({ connectionString: options.databaseUrl })
  await session.connect()
  const token = Number((await session.query("SELECT nextval('pronto_notify.run_tokens')::int AS t")).rows[0].t)
  await session.query("SELECT pg_try_advisory_lock(hashtext('pronto_notify runs'), $1)", [token])
  const agent = new http.Agent({ keepAlive: true, timeout: 2_000 })
  const url = new URL("bonus/send-sms.html", `${options.siteUrl}/`)
  url.searchParams.set("key", options.siteKey)
  const at = options.at

  // The run's connection runs one statement at a time; POST starts waiting together go in one.
  let sessionBusy: Promise<unknown> = Promise.resolve()
  const onSession = <T>(f: () => Promise<T>): Promise<T> => {
    const next = sessionBusy.then(f, f)
    sessionBusy = next.catch(() => undefined)
    return next
  }
  // POST starts waiting together go in one statement, on the run's connection and, with many in
  // flight, on more connections of their own (one per 16 in flight), each lane one batch at a time.
  const extraLanes = await Promise.all(Array.from({ length: Math.ceil(options.inFlight / 16) - 1 }, async () => {
    const client = new pg.Client({ connectionString: options.databaseUrl })
    await client.connect()
    return client
  }))
  const lanes: Array<<T>(f: (client: pg.Client) => Promise<T>) => Promise<T>> = [
    (f) => onSession(() => f(session)),
    ...extraLanes.map((client) => <T>(f: (c: pg.Client) => Promise<T>) => f(client))
  ]
  const idleLanes = [...lanes]
  let waiting: Array<{ id: string; resolve: (started: boolean) => void }> = []
  const flush = () => {
    while (waiting.length > 0 && idleLanes.length > 0) {
      const lane = idleLanes.pop()!
      const batch = waiting
      waiting = []
      void lane((client) =>
        client.query(
          `UPDATE pronto_notify.notifications SET post_started_at = $2
           WHERE id = ANY($1::bigint[]) AND status = 'in_doubt' AND post_started_at IS NULL RETURNING id::text AS id`,
          [batch.map((w) => w.id), new Date()]
        )
      ).then((started) => {
        const ids = new Set(started.rows.map((r) => r.id as string))
        for (const w of batch) w.resolve(ids.has(w.id))
        idleLanes.push(lane)
        flush()
      })
    }
  }
  const startPost = (id: string) =>
    new Promise<boolean>((resolve) => {
      waiting.push({ id, resolve })
      flush()
    })

  const post = (phone: string, text: string) =>
    new Promise<void>((resolve, reject) => {
      const form = new URLSearchParams({ phones: phone, text }).toString()
      const req = http.request(url, {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(form),
          "accept-encoding": "gzip"
        }
      })
      req.on("error", reject)
      req.on("response", (res) => {
        const body = /gzip/.test(String(res.headers["content-encoding"])) ? res.pipe(zlib.createGunzip()) : res
        const chunks: Array<Buffer> = []
        body.on("data", (c: Buffer) => chunks.push(c))
        body.on("error", reject)
        body.on("end", () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { mesages_sent: number }
          return res.statusCode === 200 && answer.mesages_sent >= 1 ? resolve() : reject(new Error("not sent"))
        })
      })
      req.end(form)
    })

  const plan = async (c: Candidate, chosen: number): Promise<{ performed: number; text: string }> => {
    if (options.kind === "feedback") return { performed: chosen, text: FEEDBACK_TEXTS[chosen]! }
    if (chosen !== 1) return { performed: chosen, text: INVITE_TEXTS[chosen]! }
    const { rows } = await pool.query(
      `SELECT round(100 * (
         coalesce((SELECT sum(amount) FROM jupiter.bonus_permanent WHERE client_id = $1 AND created_at <= $2), 0)
         + coalesce((SELECT sum(amount) FROM jupiter.bonus_temporary
                     WHERE client_id = $1 AND created_at <= $2 AND expires_at > $2), 0)))::text AS cents`,
      [c.clientId, at]
    )
    const shown = Math.floor(Number(rows[0].cents) / 100)
    return shown > 0
      ? { performed: 1, text: `На счету ${shown} бонусов! Потрать их в новом заказе` }
      : { performed: 2, text: INVITE_TEXTS[2]! }
  }

  const perform = async (client: pg.PoolClient, item: Item) => {
    if (options.kind === "feedback") {
      await client.query("INSERT INTO pronto_notify.order_marks (order_uid, notification_id) VALUES ($1, $2)", [
        item.candidate.orderUid,
        item.id
      ])
      return
    }
    if (item.performed === 2) {
      const now = new Date()
      const { rows } = await client.query(
        `INSERT INTO jupiter.bonus_temporary (client_id, amount, reason, created_at, expires_at)
         VALUES ($1, $2::numeric, $3, $4, $5) RETURNING id::text AS id`,
        [item.candidate.clientId, "100.00", "invite", now, new Date(now.getTime() + 14 * 86_400_000)]
      )
      item.bonus = `temporary:${rows[0].id}`
    }
    await client.query(
      `INSERT INTO pronto_notify.client_marks (client_id, invite_lapse) VALUES ($1, $2::timestamptz)
       ON CONFLICT (client_id) DO UPDATE SET invite_lapse = EXCLUDED.invite_lapse`,
      [item.candidate.clientId, item.candidate.trigger.slice(item.candidate.trigger.indexOf(":") + 1)]
    )
  }

  let sent = 0
  /** One message on a worker's connection; whether a transaction is open on it afterwards. */
  const deliver = async (client: pg.PoolClient, open: boolean, item: Item): Promise<boolean> => {
    try {
      if (!open) await client.query("BEGIN")
      await perform(client, item)
      if (!(await startPost(item.id!))) throw new Error("released")
      await post(item.phone, item.text)
      // The flip to sent travels with the COMMIT (and the next BEGIN) in one simple query.
      const granted = item.bonus === undefined ? "" : `, bonus_granted = 100::numeric, bonus_operation = E'${item.bonus}'`
      const next = queue.length > 0
      await client.query(
        `UPDATE pronto_notify.notifications SET status = 'sent', sent_at = '${new Date().toISOString()}'::timestamptz${granted} ` +
          `WHERE id = ${item.id}::bigint; COMMIT${next ? "; BEGIN" : ""}`
      )
      sent++
      return next
    } catch (error) {
      await client.query("ROLLBACK")
      throw error
    }
  }

  const prepare = async (block: Array<{ candidate: Candidate; phone: string }>): Promise<Array<Item>> => {
    const counts = new Map<string, number>()
    for (const r of block) counts.set(r.candidate.actionSet, (counts.get(r.candidate.actionSet) ?? 0) + 1)
    const next = new Map<string, number>()
    for (const [set, count] of counts) {
      const { rows } = await pool.query(
        `INSERT INTO pronto_notify.rotation AS r (action_set, next_turn) VALUES ($1, $2)
         ON CONFLICT (action_set) DO UPDATE SET next_turn = r.next_turn + $2 RETURNING (next_turn - $2)::text AS first`,
        [set, count]
      )
      next.set(set, Number(rows[0].first))
    }
    const actions = (set: string) => (set === "feedback" ? 2 : set === "invite:A" ? 3 : 2)
    const chosen = block.map((r) => {
      const turn = next.get(r.candidate.actionSet)!
      next.set(r.candidate.actionSet, turn + 1)
      return (turn % actions(r.candidate.actionSet)) + 1
    })
    const items: Array<Item> = new Array(block.length)
    let i = 0
    await Promise.all(Array.from({ length: options.inFlight }, async () => {
      while (i < block.length) {
        const k = i++
        const r = block[k]!
        items[k] = { candidate: r.candidate, phone: r.phone, chosen: chosen[k]!, ...(await plan(r.candidate, chosen[k]!)) }
      }
    }))
    const attempts = JSON.stringify(items.map((it) => ({
      kind: options.kind,
      action_set: it.candidate.actionSet,
      trigger_key: it.candidate.trigger,
      client_id: it.candidate.clientId,
      order_uid: it.candidate.orderUid,
      phone: it.phone,
      chosen_action: it.chosen,
      performed_action: it.performed,
      text: it.text
    })))
    const { rows } = await onSession(() =>
      session.query(
        `INSERT INTO pronto_notify.notifications
           (kind, action_set, trigger_key, client_id, order_uid, phone, chosen_action, performed_action, text, status,
            attempted_at, run_token)
         SELECT a.kind, a.action_set, a.trigger_key, a.client_id, a.order_uid, a.phone, a.chosen_action, a.performed_action,
                a.text, 'in_doubt', $2, $3
         FROM jsonb_to_recordset($1::jsonb) AS a(kind text, action_set text, trigger_key text, client_id bigint,
           order_uid uuid, phone text, chosen_action integer, performed_action integer, text text)
         ON CONFLICT ON CONSTRAINT notifications_one_per_trigger DO NOTHING
         RETURNING id::text AS id, trigger_key`,
        [attempts, new Date(), token]
      )
    )
    const ids = new Map(rows.map((r) => [r.trigger_key as string, r.id as string]))
    return items.flatMap((it) => {
      const id = ids.get(it.candidate.trigger)
      return id === undefined ? [] : [{ ...it, id }]
    })
  }

  // The workers take the prepared messages in order; the next block is prepared meanwhile.
  const queue: Array<Item> = []
  let selectionDone = false
  const idle: Array<() => void> = []
  const wakeAll = () => {
    for (const wake of idle.splice(0)) wake()
  }
  // Each worker keeps its connection while messages wait (a commit begins the next transaction).
  const workers = Array.from({ length: options.inFlight }, async () => {
    let client: pg.PoolClient | undefined
    let open = false
    for (;;) {
      const item = queue.shift()
      if (item !== undefined) {
        client ??= await pool.connect()
        open = await deliver(client, open, item)
        continue
      }
      if (client !== undefined) {
        if (open) await client.query("ROLLBACK")
        open = false
        client.release()
        client = undefined
      }
      if (selectionDone) return
      await new Promise<void>((resolve) => idle.push(resolve))
    }
  })
  const page = options.kind === "feedback" ? feedbackPage : invitePage
  let after: Array<unknown> | null = null
  let block: Array<{ candidate: Candidate; phone: string }> = []
  for (;;) {
    const q = page(at, after)
    const { rows } = await pool.query(q.text, q.values)
    for (const row of rows) {
      const phone = normalize(row.phone)
      if (phone !== null) block.push({ candidate: row as Candidate, phone })
      if (block.length === BLOCK) {
        // The engine prepares one block ahead of the messages in flight.
        while (queue.length > BLOCK) await new Promise((r) => setTimeout(r, 1))
        queue.push(...(await prepare(block)))
        block = []
        wakeAll()
      }
    }
    if (rows.length < (options.kind === "feedback" ? PAGE : CLIENT_PAGE)) break
    after = q.key(rows[rows.length - 1])
  }
  if (block.length > 0) queue.push(...(await prepare(block)))
  selectionDone = true
  wakeAll()
  await Promise.all(workers)
  await onSession(() =>
    session.query(
      "DELETE FROM pronto_notify.notifications WHERE run_token = $1 AND status = 'in_doubt' AND post_started_at IS NULL",
      [token]
    )
  )
  await session.end()
  await Promise.all(extraLanes.map((client) => client.end()))
  await pool.end()
  agent.destroy()
  return { sent }
}
