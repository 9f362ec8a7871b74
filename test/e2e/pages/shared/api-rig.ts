// API-level rig, the same in a page and in a dedicated worker: Warren's public client API
// (Connection, Exchange, Queue, Producer, consumers, rpc) over shared://, with scenario
// helpers that record what arrives so a test can read it back through page.evaluate.
import {
  Connection,
  Exchange,
  Queue,
  registerTransport,
  type ConnectionStatus,
  type Message,
} from '../../../../src/index.js'
import { connectShared } from '../../../../src/transport/shared.js'

registerTransport('shared', () => connectShared)

interface Seen {
  body: unknown
  redelivered: boolean
  routingKey: string
}

const errorInfo = (error: unknown) => {
  const e = error as { name?: string; code?: string; message?: string }
  return { name: e?.name ?? 'Error', code: e?.code ?? '', message: e?.message ?? String(error) }
}

const exchangeOf = (spec: { name: string; type: string }) => new Exchange(spec.name, spec.type, { durable: false })

export function createApiRig() {
  const conns = new Map<string, Connection>()
  const statuses = new Map<string, Array<ConnectionStatus['type'] | string>>()
  const seen = new Map<string, Seen[]>()
  const held = new Map<string, Message<unknown>[]>()
  const get = (id: string) => {
    const conn = conns.get(id)
    if (!conn) throw new Error(`no connection ${id}`)
    return conn
  }
  const record = (key: string, message: Message<unknown>) => {
    const list = seen.get(key) ?? []
    list.push({ body: message.body, redelivered: message.redelivered, routingKey: message.routingKey })
    seen.set(key, list)
  }

  const rig = {
    async open(url = 'shared://', connectTimeout = 5000) {
      const started = performance.now()
      try {
        const conn = await Connection.open({ url, connectTimeout })
        const ms = performance.now() - started
        conns.set(conn.clientId, conn)
        const log: string[] = []
        statuses.set(conn.clientId, log)
        void (async () => {
          for await (const status of conn.status) log.push(status.type === 'connected' ? `connected:${status.epoch}` : status.type)
        })()
        return { id: conn.clientId, epoch: conn.epoch, brokerId: conn.brokerId, ms }
      } catch (error) {
        return { error: errorInfo(error), ms: performance.now() - started }
      }
    },

    statuses: (id: string) => statuses.get(id) ?? [],
    seen: (key: string) => seen.get(key) ?? [],
    epoch: (id: string) => get(id).epoch,

    /** A work-queue consumer: acks each message after `delay` ms (or holds them unacked). */
    async work(id: string, queue: string, key: string, options: { prefetch: number; delay?: number; hold?: boolean; transient?: boolean }) {
      const conn = get(id)
      const q = new Queue(queue, { durable: !options.transient })
      await conn
        .consumer(q, {
          prefetch: options.prefetch,
          onMessage: async (message) => {
            record(key, message)
            if (options.hold) {
              const list = held.get(key) ?? []
              list.push(message)
              held.set(key, list)
              return
            }
            if (options.delay) await new Promise((r) => setTimeout(r, options.delay))
            message.ack()
          },
        })
        .consume()
    },

    /** Subscribes an exclusive server-named queue bound to `exchange` with `routingKey` or header arguments. */
    async subscribe(id: string, key: string, exchange: { name: string; type: string }, bind: { routingKey?: string; arguments?: Record<string, unknown> }) {
      const conn = get(id)
      const q = new Queue('', {
        exchange: exchangeOf(exchange),
        exclusive: true,
        ...(bind.routingKey !== undefined ? { routingKey: bind.routingKey } : {}),
        ...(bind.arguments ? { bindingArguments: bind.arguments } : {}),
      })
      await conn
        .consumer(q, {
          onMessage: (message) => {
            record(key, message)
            message.ack()
          },
        })
        .consume()
    },

    async publish(
      id: string,
      body: unknown,
      options: { exchange?: { name: string; type: string }; routingKey?: string; headers?: Record<string, unknown>; declareQueue?: string },
    ) {
      const conn = get(id)
      try {
        const confirm = await conn.producer().publish(body, {
          ...(options.exchange ? { exchange: exchangeOf(options.exchange), declare: [exchangeOf(options.exchange)] } : {}),
          ...(options.declareQueue ? { declare: [new Queue(options.declareQueue, { durable: true })] } : {}),
          routingKey: options.routingKey ?? '',
          ...(options.headers ? { headers: options.headers } : {}),
        })
        return { ok: confirm }
      } catch (error) {
        return { error: errorInfo(error) }
      }
    },

    /** Publishes `n` messages to a queue, one turn's worth at a time; tallies outcomes. */
    async publishMany(id: string, queue: string, n: number, options: { retry?: boolean; transient?: boolean } = {}) {
      const conn = get(id)
      const producer = conn.producer({ retry: options.retry ?? false })
      const q = new Queue(queue, { durable: !options.transient })
      const started = performance.now()
      const outcomes: Record<string, number> = {}
      const all: Promise<void>[] = []
      for (let i = 0; i < n; i++) {
        all.push(
          producer.publish(i, { routingKey: queue, declare: [q], ...(options.transient ? { deliveryMode: 1 as const } : {}) }).then(
            () => void (outcomes.confirmed = (outcomes.confirmed ?? 0) + 1),
            (error) => {
              const code = errorInfo(error).code
              outcomes[code] = (outcomes[code] ?? 0) + 1
            },
          ),
        )
        if (i % 200 === 199) await new Promise((r) => setTimeout(r, 0))
      }
      await Promise.all(all)
      return { outcomes, ms: performance.now() - started }
    },

    async serve(id: string, queue: string, who: string) {
      await get(id).serve(new Queue(queue, { durable: false, autoDelete: true }), (body: unknown) => ({ echo: body, by: who }))
    },

    async rpc(id: string, queue: string, body: unknown, timeout = 5000) {
      try {
        return { ok: await get(id).rpc(queue, body, { timeout }) }
      } catch (error) {
        return { error: errorInfo(error) }
      }
    },

    /**
     * A quorum queue `name` (deliveryLimit 1, dead-lettering to `${name}.dead`) with one
     * transient message, returned twice (nack, then reject with requeue): what each get saw,
     * what was dead-lettered and why, and how a non-durable quorum declare was answered.
     */
    async quorumPoison(id: string, name: string) {
      const conn = get(id)
      const dlx = new Exchange(`${name}.dlx`, 'fanout', { durable: true })
      const dead = new Queue(`${name}.dead`, { exchange: dlx, durable: true }).bind(conn)
      const queue = new Queue(name, { queueType: 'quorum', deliveryLimit: 1, deadLetterExchange: dlx }).bind(conn)
      await dead.declare()
      await queue.declare()
      await conn.producer().publish('poison', { routingKey: name, deliveryMode: 'transient' })
      const until = async (check: () => Promise<boolean>) => {
        const deadline = performance.now() + 5000
        while (!(await check())) {
          if (performance.now() > deadline) throw new Error('condition not reached in 5 s')
          await new Promise((r) => setTimeout(r, 10))
        }
      }
      const ready = async (q: typeof queue) => (await q.queueDeclare({ passive: true })).messageCount
      const deliveryCounts: unknown[] = []
      for (const giveBack of ['nack', 'reject'] as const) {
        await until(async () => (await ready(queue)) === 1)
        const message = await queue.get()
        deliveryCounts.push(message?.headers['x-delivery-count'] ?? null)
        if (giveBack === 'nack') message!.nack({ requeue: true })
        else message!.reject({ requeue: true })
      }
      await until(async () => (await ready(dead)) === 1)
      const deadLettered = await dead.get({ noAck: true })
      const deaths = deadLettered?.headers['x-death'] as Array<{ reason: string }> | undefined
      const refused = await new Queue(`${name}.transient`, { queueType: 'quorum', durable: false })
        .bind(conn)
        .declare()
        .then(() => null, (error: unknown) => (error as { replyCode?: number }).replyCode ?? errorInfo(error).message)
      return { deliveryCounts, left: await ready(queue), deadReason: deaths?.[0]?.reason, deadBody: deadLettered?.body, refused }
    },

    /** Declares a durable queue and reports its counts. */
    async counts(id: string, queue: string) {
      const { messageCount, consumerCount } = await new Queue(queue, { durable: true }).bind(get(id)).queueDeclare()
      return { messageCount, consumerCount }
    },

    async close(id: string) {
      await get(id).close()
      conns.delete(id)
    },
  }
  return rig
}

export type ApiRig = ReturnType<typeof createApiRig>
