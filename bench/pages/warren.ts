// Warren through its public client API over shared:// (the broker in a SharedWorker), the
// way an app uses it: Connection, Producer, consumers with prefetch and acks.
import { Connection, Exchange, Queue, registerTransport, type Consumer, type Message } from '../../src/index.js'
import { connectShared, useSharedWorker } from '../../src/transport/shared.js'
import { makeMessage, now, percentile, sleep, YIELD_EVERY, yieldTask, type Envelope, type Size } from './shapes.js'
import type { Received } from './baselines.js'

registerTransport('shared', () => connectShared)
/** When this tab last created the broker's SharedWorker, and when that broker said it was ready. */
const brokerStart = { created: 0, ready: 0 }
useSharedWorker((name) => {
  brokerStart.created = performance.now()
  brokerStart.ready = 0
  const worker = new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name })
  worker.port.addEventListener('message', (event) => {
    if ((event.data as { op?: string } | null)?.op === 'ready' && brokerStart.ready === 0) brokerStart.ready = performance.now()
  })
  return worker
})

export type LinkKind = 'broadcast' | 'port'

const conns = new Map<string, Promise<Connection>>()

/** This tab's connection to `vhost` (one per vhost and link kind; default: the windows' default, the port). */
export function connection(vhost = 'bench', link: LinkKind = 'port'): Promise<Connection> {
  const key = `${vhost}|${link}`
  let conn = conns.get(key)
  if (!conn) {
    const url = `shared://${vhost}`
    // Explicit both ways (the public option): windows default to the port link, and the tables name the link.
    conn = Connection.open({ url, link, requestTimeout: 120_000 })
    conns.set(key, conn)
  }
  return conn
}

export async function closeAll(): Promise<void> {
  const all = [...conns.values()]
  conns.clear()
  for (const conn of all) await (await conn).close().catch(() => {})
}

export interface Target {
  /** A queue (default exchange) or a fanout exchange. */
  queue?: string
  fanout?: string
  durable?: boolean
  /** A stream queue (x-queue-type: stream; durable). */
  stream?: boolean
}

const STREAM_ARGS = { 'x-queue-type': 'stream' }
const targetQueue = (target: Target) =>
  new Queue(target.queue!, target.stream ? { durable: true, queueArguments: STREAM_ARGS } : { durable: target.durable ?? false })

const exchangeOf = (name: string) => new Exchange(name, 'fanout', { durable: false })

let pending: Promise<Received> | undefined
let consumer: Consumer<unknown> | undefined

/**
 * Arms a consumer for `n` messages on `target`: the named queue, or a server-named exclusive
 * queue bound to the fanout exchange. Acks each message unless `noAck`.
 */
export async function arm(target: Target, n: number, options: { prefetch: number; noAck?: boolean; link?: LinkKind; vhost?: string }): Promise<number> {
  const conn = await connection(options.vhost, options.link)
  const started = now()
  let count = 0
  let last = -1
  let outOfOrder = 0
  let resolve!: (r: Received) => void
  pending = new Promise<Received>((r) => (resolve = r))
  const queue = target.fanout
    ? new Queue('', { exchange: exchangeOf(target.fanout), exclusive: true })
    : new Queue(target.queue!, { durable: target.durable ?? false })
  const noAck = options.noAck ?? false
  consumer = await conn
    .consumer(queue, {
      prefetch: options.prefetch,
      noAck,
      onMessage: (message: Message<unknown>) => {
        const body = message.body as Envelope
        if (body.seq !== last + 1) outOfOrder++
        last = body.seq
        if (!noAck) message.ack()
        if (++count === n) resolve({ t: now(), count, outOfOrder })
      },
    })
    .consume()
  return started
}

export async function received(timeoutMs: number): Promise<Received | { error: string }> {
  const result = await Promise.race([pending!, sleep(timeoutMs).then(() => ({ error: 'timeout' }))])
  await consumer?.cancel().catch(() => {})
  consumer = undefined
  return result
}

/** Deletes a queue (between reps, so every rep starts empty). */
export async function deleteQueue(name: string, vhost = 'bench'): Promise<number> {
  const conn = await connection(vhost)
  return new Queue(name).bind(conn).delete()
}

/**
 * Publishes `n` messages (transient unless `persistent`) with publisher confirms; at most
 * `window` unconfirmed at once (0: no limit, yielding like the bare senders). Returns when
 * it started and when the last confirm came.
 */
export async function send(target: Target, n: number, size: Size, options: { window?: number; persistent?: boolean; link?: LinkKind; vhost?: string } = {}) {
  const conn = await connection(options.vhost, options.link)
  const producer = conn.producer()
  const template = makeMessage(size, 0)
  const every = YIELD_EVERY[size]
  const declare = target.fanout ? [exchangeOf(target.fanout)] : [targetQueue(target)]
  const publishOptions = {
    ...(target.fanout ? { exchange: exchangeOf(target.fanout) } : { routingKey: target.queue! }),
    declare,
    deliveryMode: options.persistent ? (2 as const) : (1 as const),
  }
  // Declare first, so the timed loop measures publishing only.
  for (const entity of declare) await conn.maybeDeclare(entity)
  const window = options.window ?? 0
  let failed = 0
  const t0 = now()
  if (window === 0) {
    const confirms: Promise<unknown>[] = []
    for (let i = 0; i < n; i++) {
      confirms.push(producer.publish({ ...template, seq: i }, publishOptions).catch(() => void failed++))
      if (i % every === every - 1) await yieldTask()
    }
    await Promise.all(confirms)
  } else {
    let next = 0
    const lane = async () => {
      while (next < n) {
        const seq = next++
        await producer.publish({ ...template, seq }, publishOptions).catch(() => void failed++)
      }
    }
    await Promise.all(Array.from({ length: Math.min(window, n) }, lane))
  }
  return { t0, t1: now(), failed }
}

// ------------------------------------------------------------------ round trips

let echoConsumer: Consumer<unknown> | undefined

/** Echoes every message of queue `inbox` to queue `replyTo` (transient; acked). */
export async function echo(inbox: string, replyTo: string, link: LinkKind = 'broadcast', noAck = false): Promise<void> {
  const conn = await connection('bench', link)
  const producer = conn.producer()
  const reply = new Queue(replyTo)
  await conn.maybeDeclare(reply)
  echoConsumer = await conn
    .consumer(new Queue(inbox), {
      prefetch: 100,
      noAck,
      onMessage: (message: Message<unknown>) => {
        void producer.publish(message.body, { routingKey: replyTo, deliveryMode: 1 })
        if (!noAck) message.ack()
      },
    })
    .consume()
}

export async function echoStop(): Promise<void> {
  await echoConsumer?.cancel()
  echoConsumer = undefined
}

/** Ping-pong through the broker: publish to `to`, wait for the echo on `inbox`. */
export async function ping(inbox: string, to: string, size: Size, iterations: number, warmup: number, link: LinkKind = 'broadcast', noAck = false) {
  const conn = await connection('bench', link)
  const producer = conn.producer()
  const template = makeMessage(size, 0)
  const target = new Queue(to)
  await conn.maybeDeclare(target)
  let wake: (() => void) | undefined
  const back = await conn
    .consumer(new Queue(inbox), {
      prefetch: 100,
      noAck,
      onMessage: (message: Message<unknown>) => {
        if (!noAck) message.ack()
        wake?.()
      },
    })
    .consume()
  const rtts: number[] = []
  for (let i = 0; i < warmup + iterations; i++) {
    const arrived = new Promise<void>((resolve) => (wake = resolve))
    const t0 = performance.now()
    void producer.publish({ ...template, seq: i }, { routingKey: to, deliveryMode: 1 })
    await arrived
    if (i >= warmup) rtts.push(performance.now() - t0)
  }
  await back.cancel()
  rtts.sort((a, b) => a - b)
  return { p50: percentile(rtts, 50), p99: percentile(rtts, 99), n: rtts.length }
}

// ------------------------------------------------------------------ background load

let loadTimer: ReturnType<typeof setInterval> | undefined
let sinkConsumer: Consumer<unknown> | undefined
export let sinkCount = 0

/** Publishes `rate` transient messages/s to `queue` in chunks every 10 ms, until stopped. */
export async function loadStart(queue: string, rate: number, size: Size): Promise<void> {
  const conn = await connection()
  const producer = conn.producer()
  const q = new Queue(queue)
  await conn.maybeDeclare(q)
  const template = makeMessage(size, 0)
  let seq = 0
  const perTick = Math.max(1, Math.round(rate / 100))
  loadTimer = setInterval(() => {
    for (let i = 0; i < perTick; i++) void producer.publish({ ...template, seq: seq++ }, { routingKey: queue, deliveryMode: 1 })
  }, 10)
}

export function loadStopNow(): void {
  clearInterval(loadTimer)
  loadTimer = undefined
}

export async function loadSink(queue: string): Promise<void> {
  const conn = await connection()
  sinkCount = 0
  sinkConsumer = await conn
    .consumer(new Queue(queue), {
      prefetch: 100,
      onMessage: (message: Message<unknown>) => {
        sinkCount++
        message.ack()
      },
    })
    .consume()
}

export async function loadSinkStop(): Promise<number> {
  await sinkConsumer?.cancel()
  sinkConsumer = undefined
  return sinkCount
}

// ------------------------------------------------------------------ startup

/**
 * A fresh tab's first delivery: Connection.open, consume the durable `queue` (prefetch 100)
 * and, when `publishOne`, publish one persistent message to it. Times from before open().
 */
export async function startup(vhost: string, queue: string, publishOne: boolean) {
  const t0 = performance.now()
  const conn = await Connection.open({ url: `shared://${vhost}`, requestTimeout: 120_000, connectTimeout: 60_000 })
  const opened = performance.now()
  conns.set(`${vhost}|broadcast`, Promise.resolve(conn))
  let first!: () => void
  const delivered = new Promise<void>((resolve) => (first = resolve))
  const q = new Queue(queue, { durable: true })
  let count = 0
  const c = await conn
    .consumer(q, {
      prefetch: 100,
      onMessage: (message: Message<unknown>) => {
        if (++count === 1) first()
        message.ack()
      },
    })
    .consume()
  if (publishOne) void conn.producer().publish(makeMessage('small', 0), { routingKey: queue, deliveryMode: 2 })
  await delivered
  const t1 = performance.now()
  await c.cancel()
  const readyMs = brokerStart.ready > 0 && brokerStart.created >= t0 ? brokerStart.ready - t0 : NaN
  return { openMs: opened - t0, firstMs: t1 - t0, readyMs }
}

/**
 * Reads `n` messages of stream `queue` from its first offset with `prefetch` credit, acking
 * each; on a new connection when `fresh` (after a restart: includes open and recovery).
 * Returns ms from the start to the n-th message, and whether they came in offset order.
 */
export async function streamRead(vhost: string, queue: string, n: number, prefetch: number, fresh: boolean) {
  const t0 = performance.now()
  const conn = fresh ? await Connection.open({ url: `shared://${vhost}`, requestTimeout: 120_000, connectTimeout: 60_000 }) : await connection(vhost)
  if (fresh) conns.set(`${vhost}|broadcast`, Promise.resolve(conn))
  let count = 0
  let inOrder = true
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  const c = await conn
    .consumer(new Queue(queue, { durable: true, queueArguments: STREAM_ARGS }), {
      prefetch,
      offset: 'first',
      onMessage: (message: Message<unknown>) => {
        if (message.headers['x-stream-offset'] !== count) inOrder = false
        message.ack()
        if (++count === n) done()
      },
    })
    .consume()
  await finished
  const ms = performance.now() - t0
  await c.cancel()
  return { ms, inOrder }
}

/** Declares a durable queue and returns its message count. */
export async function count(queue: string, vhost = 'bench'): Promise<number> {
  const conn = await connection(vhost)
  const { messageCount } = await new Queue(queue, { durable: true }).bind(conn).queueDeclare()
  return messageCount
}
