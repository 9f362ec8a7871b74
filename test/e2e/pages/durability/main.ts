// Durability page: the broker's SharedWorker on IndexedDB, and a rig on `window.d` that
// publishes confirmed streams, consumes whole queues and records what happened, so a test
// can check across closed tabs, killed workers and browser restarts what survived.
import { Connection, Queue, registerTransport, type Message } from '../../../../src/index.js'
import { connectShared, useSharedWorker } from '../../../../src/transport/shared.js'

registerTransport('shared', () => connectShared)
useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))

const errorInfo = (error: unknown) => {
  const e = error as { name?: string; code?: string; message?: string }
  return { name: e?.name ?? 'Error', code: e?.code ?? '', message: e?.message ?? String(error) }
}

interface Seen {
  body: unknown
  redelivered: boolean
}

let conn: Connection | undefined
/** Bodies whose confirm resolved, in confirm order (readable while a stream runs). */
const confirmed: unknown[] = []
const failures: Array<{ body: unknown; code: string; message: string }> = []
const held: Message<unknown>[] = []

const queueOf = (name: string, args: Record<string, unknown> = {}) => new Queue(name, { durable: true, queueArguments: args })

const d = {
  async open() {
    conn = await Connection.open({ url: 'shared://', connectTimeout: 10_000 })
    return { epoch: conn.epoch, brokerId: conn.brokerId }
  },
  epoch: () => conn?.epoch ?? 0,
  confirmed: () => confirmed.length,
  confirmedBodies: () => confirmed.slice(),
  failures: () => failures.slice(),

  async declare(queue: string, args: Record<string, unknown> = {}) {
    const { messageCount } = await queueOf(queue, args).bind(conn!).queueDeclare()
    return messageCount
  },

  /**
   * Publishes bodies from..to-1 with at most `inFlight` unconfirmed; every `transientEvery`-th
   * one is transient (body 't<n>'). Bodies of persistent ones are numbers, of `size` bytes
   * of JSON padding if asked.
   */
  async publishStream(
    queue: string,
    from: number,
    to: number,
    options: { inFlight: number; transientEvery?: number; retry?: boolean; pad?: number; args?: Record<string, unknown>; record?: boolean },
  ) {
    const producer = conn!.producer({ retry: options.retry ?? false })
    await queueOf(queue, options.args).bind(conn!).queueDeclare()
    const pad = options.pad ? 'x'.repeat(options.pad) : undefined
    const record = options.record ?? true
    let inflight = 0
    let wake: (() => void) | undefined
    let ok = 0
    let failed = 0
    const started = performance.now()
    for (let n = from; n < to; n++) {
      while (inflight >= options.inFlight) await new Promise<void>((resolve) => (wake = resolve))
      inflight++
      const transient = options.transientEvery !== undefined && n % options.transientEvery === 0
      const body = transient ? `t${n}` : pad ? { n, pad } : n
      producer
        .publish(body, { routingKey: queue, deliveryMode: transient ? 1 : 2 })
        .then(
          () => {
            ok++
            if (record) confirmed.push(pad ? n : body)
          },
          (error: unknown) => {
            failed++
            failures.push({ body: pad ? n : body, ...errorInfo(error) })
          },
        )
        .finally(() => {
          inflight--
          const w = wake
          wake = undefined
          w?.()
        })
    }
    while (inflight > 0) await new Promise<void>((resolve) => (wake = resolve))
    const ms = performance.now() - started
    return record ? { ms, confirmed: confirmed.length, failed: failures.length } : { ms, confirmed: ok, failed }
  },

  /**
   * Consumes until `expected` messages arrived and nothing more came for `quietMs`. With
   * `ack: false` the messages stay unacked (held) until the connection goes.
   */
  async consumeAll(queue: string, options: { expected: number; ack: boolean; prefetch?: number; quietMs?: number; timeoutMs?: number }) {
    const seen: Seen[] = []
    let last = performance.now()
    const consumer = conn!.consumer(queueOf(queue), {
      // Holding needs no limit: every message must arrive unacked.
      prefetch: options.prefetch ?? (options.ack ? 1000 : 0),
      onMessage: (message) => {
        const body = message.body as { n?: number } | number | string
        seen.push({ body: typeof body === 'object' && body !== null ? body.n : body, redelivered: message.redelivered })
        last = performance.now()
        if (options.ack) message.ack()
        else held.push(message)
      },
    })
    await consumer.consume()
    const deadline = performance.now() + (options.timeoutMs ?? 60_000)
    const quiet = options.quietMs ?? 300
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
      if (seen.length >= options.expected && performance.now() - last > quiet) break
    }
    if (options.ack) await consumer.cancel()
    return seen
  },

  /**
   * Consumes and acks `expected` messages without keeping them (large backlogs): says
   * whether they came in order (numeric bodies) and all redelivered.
   */
  async consumeCount(queue: string, expected: number, options: { prefetch?: number; timeoutMs?: number } = {}) {
    let count = 0
    let inOrder = true
    let redelivered = 0
    let previous = -Infinity
    const started = performance.now()
    let done!: () => void
    const finished = new Promise<void>((resolve) => (done = resolve))
    const consumer = conn!.consumer(queueOf(queue), {
      prefetch: options.prefetch ?? 1000,
      onMessage: (message) => {
        const body = message.body as number
        if (!(body > previous)) inOrder = false
        previous = body
        if (message.redelivered) redelivered++
        message.ack()
        if (++count === expected) done()
      },
    })
    await consumer.consume()
    await Promise.race([finished, new Promise((r) => setTimeout(r, options.timeoutMs ?? 600_000))])
    const ms = performance.now() - started
    await consumer.cancel()
    return { count, inOrder, redelivered, ms }
  },

  /**
   * Reads `expected` messages of a stream queue from `offset` (x-stream-offset), acking as it
   * goes; returns their bodies and offsets (the x-stream-offset header of each delivery).
   */
  async readStream(queue: string, offset: 'first' | 'last' | 'next' | number, expected: number, options: { prefetch?: number; timeoutMs?: number } = {}) {
    const bodies: unknown[] = []
    const offsets: unknown[] = []
    const started = performance.now()
    let done!: () => void
    const finished = new Promise<void>((resolve) => (done = resolve))
    const consumer = conn!.consumer(queueOf(queue, { 'x-queue-type': 'stream' }), {
      prefetch: options.prefetch ?? 1000,
      offset,
      onMessage: (message) => {
        message.ack()
        // The prefetch may bring more before the cancel: record the first `expected` only.
        if (bodies.length === expected) return
        bodies.push(message.body)
        offsets.push(message.headers['x-stream-offset'])
        if (bodies.length === expected) done()
      },
    })
    await consumer.consume()
    await Promise.race([finished, new Promise((r) => setTimeout(r, options.timeoutMs ?? 60_000))])
    const ms = performance.now() - started
    await consumer.cancel()
    return { bodies, offsets, ms }
  },

  async deleteQueue(queue: string) {
    return queueOf(queue).bind(conn!).delete()
  },

  /** Acks what consumeAll held (a crash test leaves them unacked instead). */
  ackHeld() {
    for (const message of held.splice(0)) message.ack()
  },

  async close() {
    await conn?.close()
    conn = undefined
  },

  storage: {
    // Through the connection, as an app would: conn.storage.
    persist: () => conn!.storage.persist().then((v) => ({ ok: v }), (e: unknown) => ({ error: errorInfo(e) })),
    persisted: () => conn!.storage.persisted(),
    estimate: () => conn!.storage.estimate(),
  },

  /** Raw batched IndexedDB puts in a dedicated worker (the primitive under the broker). */
  rawPuts(records: number, batch: number): Promise<{ records: number; batch: number; ms: number; perSecond: number }> {
    const worker = new Worker(new URL('./raw-idb.worker.ts', import.meta.url), { type: 'module' })
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<{ result?: never; error?: string }>) => {
        worker.terminate()
        if (event.data.error) reject(new Error(event.data.error))
        else resolve(event.data.result!)
      }
      worker.postMessage({ records, batch })
    })
  },
}

declare global {
  interface Window {
    d: typeof d
  }
}
window.d = d
