// The workload of a reliability run, the same in a page and in a dedicated worker: producers
// that publish numbered messages with confirms and retry every publish whose outcome they do
// not know (a new attempt of the same publish id: the broker deduplicates or flags it; the
// attempt number in the body tells the checker which copy it sees), consumers that log a delivery and its ack to the harness BEFORE acking, and the
// final drain. Every event reaches the harness (Node) through `sink`; an event the checker
// relies on is awaited there before the broker hears of the act.
import { Connection, registerTransport, type Consumer, type Message, type Producer } from '../../../src/index.js'
import { connectShared } from '../../../src/transport/shared.js'
import type { HistoryEvent } from '../checker.js'
import { DLQ, deadLetterQueue, dlx, isWorkBody, workQueue, type WorkBody } from './workload.js'

registerTransport('shared', () => connectShared)

/** Harness-only events: a role's life, not part of the checked history. */
export interface RoleEvent {
  type: 'role'
  role: string
  event: 'started' | 'done' | 'error' | 'reopen' | 'gave-up' | 'stopped'
  detail?: string
  /** Producer: the ids it attempted (first attempts). */
  attempted?: number
}

export type WireEvent = HistoryEvent | RoleEvent

export type Sink = (events: WireEvent[]) => Promise<void>

export interface ProducerConfig {
  kind: 'producer'
  role: string
  url: string
  queues: string[]
  /** Ids to publish: `${role}.${i}` for i in [0, count). */
  count: number
  /** Publishes awaiting their confirm at most. */
  window: number
  /** Every n-th message asks its consumer to reject it (dead-lettered, reason rejected). */
  rejectEvery?: number
  /** Every n-th message expires after a few ms if not consumed (dead-lettered, reason expired). */
  expireEvery?: number
  /** Publish attempts per message before giving up. */
  maxAttempts?: number
  /** Let the client retry a publish lost with the link itself (Producer retry) before the role's own retry. */
  clientRetry?: boolean
}

export interface ConsumerConfig {
  kind: 'consumer'
  role: string
  url: string
  queues: string[]
  prefetch: number
  /** Simulated work per batch of deliveries, in ms (0–processMs at random). */
  processMs: number
}

export type RoleConfig = ProducerConfig | ConsumerConfig

export interface RunningRole {
  readonly done: Promise<void>
  stop(): Promise<void>
}

const errorCode = (error: unknown): string => {
  const e = error as { code?: unknown; name?: unknown }
  return typeof e?.code === 'string' && e.code ? e.code : typeof e?.name === 'string' ? e.name : 'UNKNOWN'
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Batches events to the harness; `now` resolves once the harness has them (and all before them). */
export class EventLog {
  #buffer: WireEvent[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #last: Promise<void> = Promise.resolve()

  constructor(private readonly sink: Sink) {}

  push(...events: WireEvent[]): void {
    this.#buffer.push(...events)
    this.#timer ??= setTimeout(() => void this.flush().catch(() => {}), 10)
  }

  now(...events: WireEvent[]): Promise<void> {
    this.#buffer.push(...events)
    return this.flush()
  }

  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#buffer.length === 0) return this.#last
    const batch = this.#buffer
    this.#buffer = []
    this.#last = this.sink(batch)
    return this.#last
  }
}

/** `?link=broadcast` on a scenario's URL: windows use the BroadcastChannel link too. */
export const linkOf = (url: string): { link?: 'broadcast' } => (/[?&]link=broadcast\b/.test(url) ? { link: 'broadcast' } : {})

async function openConnection(url: string, log: EventLog, role: string, stopped: () => boolean): Promise<Connection | undefined> {
  for (let attempt = 0; !stopped(); attempt++) {
    try {
      return await Connection.open({ url, ...linkOf(url), connectTimeout: 5000, requestTimeout: 15_000, name: role })
    } catch (error) {
      log.push({ type: 'role', role, event: 'reopen', detail: `open failed: ${errorCode(error)}` })
      await sleep(Math.min(1000, 100 * (attempt + 1)))
    }
  }
  return undefined
}

const now = () => performance.timeOrigin + performance.now()

// ---------------------------------------------------------------- producer

export function runProducer(config: ProducerConfig, sink: Sink): RunningRole {
  const { role, queues, count, window: size } = config
  const log = new EventLog(sink)
  const maxAttempts = config.maxAttempts ?? 100
  let stopping = false
  let conn: Connection | undefined
  let opening: Promise<Connection | undefined> | undefined
  const entities = queues.map(workQueue)
  const declare = [dlx(), deadLetterQueue(), ...entities]
  const producers = new WeakMap<Connection, Producer<WorkBody>>()
  const producerOf = (c: Connection) => {
    let producer = producers.get(c)
    if (!producer) {
      const retry = config.clientRetry ? { retry: true, retryPolicy: { maxRetries: 50, intervalStart: 20, intervalStep: 20, intervalMax: 500 } } : { retry: false }
      producers.set(c, (producer = c.producer<WorkBody>(retry)))
    }
    return producer
  }

  /** The live connection; a closed one is replaced (a hard error or a link that gave up). */
  const connection = async (): Promise<Connection | undefined> => {
    if (conn && !conn.isClosed) return conn
    opening ??= openConnection(config.url, log, role, () => stopping).then((c) => {
      conn = c
      opening = undefined
      return c
    })
    return opening
  }

  const publishUntilConfirmed = async (index: number): Promise<void> => {
    const id = `${role}.${index}`
    const queue = entities[index % entities.length]!
    const body: WorkBody = { id, a: 1 }
    if (config.rejectEvery && index % config.rejectEvery === config.rejectEvery - 1) body.f = 'r'
    const expire = config.expireEvery !== undefined && index % config.expireEvery === config.expireEvery - 1
    // The client's own retries (clientRetry) are counted, not logged as attempts: the body stays the same.
    let retries = 0
    const retryPolicy = { onRetry: () => void retries++ }
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await log.now({ type: 'publish-attempt', id, attempt, producer: role })
      const c = await connection()
      if (!c) return
      try {
        const confirm = await producerOf(c).publish(
          { ...body, a: attempt },
          { routingKey: queue.name, declare, publishId: id, repeated: attempt > 1, retryPolicy, ...(expire ? { expiration: 3 } : {}) },
        )
        log.push({ type: 'publish-confirmed', id, attempt, ...(retries > 0 ? { retried: true } : {}), ...(confirm.duplicate ? { duplicate: true } : {}) })
        return
      } catch (error) {
        log.push({ type: 'publish-failed', id, attempt, code: errorCode(error) })
        if (stopping) return
        await sleep(Math.min(500, 20 * attempt))
        await c.whenReady(10_000).catch(() => {})
      }
    }
    log.push({ type: 'role', role, event: 'gave-up', detail: id })
  }

  const done = (async () => {
    await log.now({ type: 'role', role, event: 'started' })
    const inflight = new Set<Promise<void>>()
    let next = 0
    while (next < count && !stopping) {
      const room = size - inflight.size
      if (room <= 0) {
        await Promise.race(inflight)
        continue
      }
      const n = Math.min(room, Math.max(1, size >> 1), count - next)
      const batch = Array.from({ length: n }, (_, i) => next + i)
      next += n
      // The harness knows of every attempt before the broker can.
      await log.now(...batch.map((i): WireEvent => ({ type: 'publish-attempt', id: `${role}.${i}`, attempt: 1, producer: role })))
      for (const index of batch) {
        const p: Promise<void> = publishUntilConfirmed(index).finally(() => inflight.delete(p))
        inflight.add(p)
      }
    }
    await Promise.all(inflight)
    await log.now({ type: 'role', role, event: stopping ? 'stopped' : 'done', attempted: next })
    await conn?.close().catch(() => {})
  })().catch(async (error: unknown) => {
    await log.now({ type: 'role', role, event: 'error', detail: String((error as Error)?.stack ?? error) }).catch(() => {})
  })

  return {
    done,
    async stop() {
      stopping = true
      await done
    },
  }
}

// ---------------------------------------------------------------- consumer

const deathReason = (message: Message<unknown>): string => {
  const headers = message.headers
  const first = headers['x-first-death-reason']
  if (typeof first === 'string') return first
  const deaths = headers['x-death']
  const reason = Array.isArray(deaths) ? (deaths[0] as { reason?: unknown } | undefined)?.reason : undefined
  return typeof reason === 'string' ? reason : 'unknown'
}

const junkId = (body: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(body) ?? String(body)
  } catch {
    text = String(body)
  }
  return `junk:${text.slice(0, 60)}`
}

/** What a consumer logs for one delivery, and how it settles it. */
function account(message: Message<unknown>, queue: string, role: string, at: number): { events: WireEvent[]; reject: boolean } {
  let body: unknown
  try {
    body = message.body
  } catch {
    body = message.rawBody
  }
  const redelivered = message.redelivered
  if (!isWorkBody(body)) {
    const id = junkId(body)
    return { events: [{ type: 'delivered', id, redelivered, consumer: role, queue, at }, { type: 'acked', id, consumer: role, queue }], reject: false }
  }
  const { id, a: attempt } = body
  if (queue === DLQ)
    return { events: [{ type: 'dead-lettered', id, attempt, reason: deathReason(message), redelivered, consumer: role, queue, at }], reject: false }
  const delivered: WireEvent = { type: 'delivered', id, attempt, redelivered, consumer: role, queue, at }
  if (body.f === 'r') return { events: [delivered], reject: true }
  return { events: [delivered, { type: 'acked', id, attempt, consumer: role, queue }], reject: false }
}

export function runConsumer(config: ConsumerConfig, sink: Sink): RunningRole {
  const { role } = config
  const log = new EventLog(sink)
  let stopping = false
  let conn: Connection | undefined
  const consumers: Consumer<unknown>[] = []
  let pending: Array<{ message: Message<unknown>; queue: string; at: number }> = []
  let working: Promise<void> = Promise.resolve()
  let scheduled = false

  /** Logs a batch of deliveries (and the acks about to be sent), waits for the harness, then settles. */
  const work = async () => {
    scheduled = false
    const batch = pending
    pending = []
    if (batch.length === 0) return
    const settle: Array<{ message: Message<unknown>; reject: boolean }> = []
    const events: WireEvent[] = []
    for (const { message, queue, at } of batch) {
      const outcome = account(message, queue, role, at)
      events.push(...outcome.events)
      settle.push({ message, reject: outcome.reject })
    }
    await log.now(...events)
    if (config.processMs > 0) await sleep(Math.random() * config.processMs)
    for (const { message, reject } of settle) {
      try {
        if (reject) message.reject({ requeue: false })
        else message.ack()
      } catch {
        // Already settled, or its channel is gone: the broker redelivers it.
      }
    }
  }

  const onMessage = (queue: string) => (message: Message<unknown>) => {
    pending.push({ message, queue, at: now() })
    if (!scheduled) {
      scheduled = true
      working = working.then(work, work)
    }
  }

  const start = async (): Promise<void> => {
    conn = await openConnection(config.url, log, role, () => stopping)
    if (!conn) return
    consumers.length = 0
    for (const name of config.queues) {
      const queue = name === DLQ ? deadLetterQueue() : workQueue(name)
      consumers.push(conn.consumer(queue, { prefetch: config.prefetch, onMessage: onMessage(name) }))
    }
    await dlx().bind(conn).declare()
  }

  /** Keeps the consumers consuming: a closed connection is reopened, a stopped consumer restarted. */
  const supervise = async () => {
    while (!stopping) {
      try {
        if (!conn || conn.isClosed) {
          if (conn) log.push({ type: 'role', role, event: 'reopen', detail: 'connection closed' })
          await start()
        }
        for (const consumer of consumers) if (!consumer.active && !stopping) await consumer.consume()
      } catch (error) {
        log.push({ type: 'role', role, event: 'reopen', detail: `consume failed: ${errorCode(error)}` })
      }
      await sleep(250)
    }
  }

  const done = (async () => {
    await log.now({ type: 'role', role, event: 'started' })
    await supervise()
  })().catch(async (error: unknown) => {
    await log.now({ type: 'role', role, event: 'error', detail: String((error as Error)?.stack ?? error) }).catch(() => {})
  })

  return {
    done,
    async stop() {
      stopping = true
      await done
      await Promise.allSettled(consumers.map((consumer) => consumer.cancel()))
      await working
      await work()
      // Closing returns whatever is still unacked to its queue, flagged redelivered.
      await conn?.close().catch(() => {})
      await log.now({ type: 'role', role, event: 'stopped' })
    },
  }
}

// ---------------------------------------------------------------- final drain

/** Takes every message left in `queues` (after all consumers stopped), logs it, acks it. */
export async function drain(url: string, queues: string[], sink: Sink): Promise<Record<string, number>> {
  const log = new EventLog(sink)
  const conn = await Connection.open({ url, ...linkOf(url), connectTimeout: 10_000, requestTimeout: 30_000, name: 'drain' })
  const counts: Record<string, number> = {}
  try {
    const channel = await conn.channel()
    for (const name of queues) {
      const queue = (name === DLQ ? deadLetterQueue() : workQueue(name)).bind(channel)
      await queue.declare()
      counts[name] = 0
      for (;;) {
        const got: Message<unknown>[] = []
        while (got.length < 200) {
          const message = await queue.get()
          if (!message) break
          got.push(message)
        }
        if (got.length === 0) break
        const at = now()
        await log.now(
          ...got.map((message): WireEvent => {
            let body: unknown
            try {
              body = message.body
            } catch {
              body = message.rawBody
            }
            if (!isWorkBody(body)) return { type: 'final-drain', id: junkId(body), redelivered: message.redelivered, queue: name, at }
            return { type: 'final-drain', id: body.id, attempt: body.a, redelivered: message.redelivered, queue: name, at }
          }),
        )
        for (const message of got) message.ack()
        counts[name] += got.length
      }
    }
    await channel.close()
  } finally {
    await conn.close()
  }
  return counts
}

/** Declares the run's exchange and queues once, before any producer starts. */
export async function setup(url: string, queues: string[]): Promise<void> {
  const conn = await Connection.open({ url, ...linkOf(url), connectTimeout: 10_000 })
  try {
    await dlx().bind(conn).declare()
    await deadLetterQueue().bind(conn).declare()
    for (const name of queues) await workQueue(name).bind(conn).declare()
  } finally {
    await conn.close()
  }
}

export function runRole(config: RoleConfig, sink: Sink): RunningRole {
  return config.kind === 'producer' ? runProducer(config, sink) : runConsumer(config, sink)
}
