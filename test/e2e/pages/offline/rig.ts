// The offline/elected rig, the same in a page and in a dedicated worker: Warren's `warren`
// entry (so shared:// elects a host where no SharedWorker runs), with helpers that record what
// arrives and when, for a test to read back through page.evaluate.
import { Connection, Queue, wireWarren, type ConnectionStatus, type Message } from './warren.js'

wireWarren()

export interface Seen {
  body: unknown
  redelivered: boolean
  /** Date.now() at arrival (pages of one browser share the clock). */
  at: number
}

export const errorInfo = (error: unknown) => {
  const e = error as { name?: string; code?: string; message?: string }
  return { name: e?.name ?? 'Error', code: e?.code ?? '', message: e?.message ?? String(error) }
}

export function createRig() {
  const conns = new Map<string, Connection>()
  const statuses = new Map<string, string[]>()
  const seen = new Map<string, Seen[]>()
  const held = new Map<string, Message<unknown>[]>()
  const confirmed = new Map<string, unknown[]>()
  const loops = new Map<string, AbortController>()
  const get = (id: string) => {
    const conn = conns.get(id)
    if (!conn) throw new Error(`no connection ${id}`)
    return conn
  }
  const record = (key: string, message: Message<unknown>) => {
    const list = seen.get(key) ?? []
    list.push({ body: message.body, redelivered: message.redelivered, at: Date.now() })
    seen.set(key, list)
  }

  return {
    async open(url = 'shared://', options: { host?: 'auto' | 'elected' | 'shared-worker'; connectTimeout?: number } = {}) {
      const started = performance.now()
      try {
        const conn = await Connection.open({ url, connectTimeout: options.connectTimeout ?? 10_000, ...(options.host ? { host: options.host } : {}) })
        const ms = performance.now() - started
        conns.set(conn.clientId, conn)
        const log: string[] = []
        statuses.set(conn.clientId, log)
        void (async () => {
          for await (const status of conn.status as AsyncIterable<ConnectionStatus>)
            log.push(status.type === 'connected' ? `connected:${status.epoch}` : status.type)
        })()
        return { id: conn.clientId, epoch: conn.epoch, brokerId: conn.brokerId, ms }
      } catch (error) {
        return { error: errorInfo(error), ms: performance.now() - started }
      }
    },

    /** This context's elected-host candidate: its state, and the broker it serves, if it does. */
    async host(vhost = '/') {
      const { electedBroker } = await import('../../../../src/hosts/elected.js')
      const candidate = electedBroker(vhost)
      const serving = candidate?.serving
      return {
        state: candidate?.state ?? 'none',
        ...(serving ? { brokerId: serving.broker.brokerId, epoch: serving.broker.epoch, startMs: serving.startMs, told: serving.told } : {}),
      }
    },

    info: (id: string) => {
      const conn = get(id)
      return { epoch: conn.epoch, brokerId: conn.brokerId, state: conn.state }
    },
    statuses: (id: string) => statuses.get(id) ?? [],
    seen: (key: string) => seen.get(key) ?? [],
    confirmed: (key: string) => confirmed.get(key) ?? [],

    /** A work-queue consumer: acks at once, or holds its messages unacked. */
    async work(id: string, queue: string, key: string, options: { prefetch: number; hold?: boolean }) {
      await get(id)
        .consumer(new Queue(queue, { durable: true }), {
          prefetch: options.prefetch,
          onMessage: (message) => {
            record(key, message)
            if (!options.hold) return message.ack()
            const list = held.get(key) ?? []
            list.push(message)
            held.set(key, list)
          },
        })
        .consume()
    },

    /** Publishes persistent messages 0..n-1 (well, start..start+n-1); returns the confirmed ones. */
    async publishMany(id: string, queue: string, n: number, start = 0) {
      const producer = get(id).producer()
      const q = new Queue(queue, { durable: true })
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) => producer.publish(start + i, { routingKey: queue, declare: [q] }).then(() => start + i)),
      )
      return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    },

    /**
     * Publishes the time, every `interval` ms, one at a time (each waits for its confirm,
     * retried across a broker change); confirmed bodies are kept under `key`.
     */
    startPublishing(id: string, queue: string, key: string, interval: number) {
      const abort = new AbortController()
      loops.set(key, abort)
      const producer = get(id).producer({ retryPolicy: { maxRetries: 100, intervalStart: 10, intervalStep: 10, intervalMax: 50 } })
      const q = new Queue(queue, { durable: true })
      const list: unknown[] = []
      confirmed.set(key, list)
      void (async () => {
        for (let n = 0; !abort.signal.aborted; n++) {
          try {
            await producer.publish(n, { routingKey: queue, declare: [q], signal: abort.signal })
            list.push(n)
          } catch {
            // not confirmed: it does not count
          }
          await new Promise((r) => setTimeout(r, interval))
        }
      })()
    },

    stopPublishing(key: string) {
      loops.get(key)?.abort()
    },

    async counts(id: string, queue: string) {
      const { messageCount, consumerCount } = await new Queue(queue, { durable: true }).bind(get(id)).queueDeclare()
      return { messageCount, consumerCount }
    },

    async close(id: string) {
      await get(id).close()
      conns.delete(id)
    },
  }
}

export type Rig = ReturnType<typeof createRig>
