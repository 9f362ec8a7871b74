/** A broker with a small queue window on a storage, one client, and the verbs the durability tests repeat. */
import { Broker } from '../../../src/engine/broker.js'
import type { FieldTable, MessageProperties, ServerEvent } from '../../../src/protocol/frames.js'
import type { Storage, StoredMessage } from '../../../src/storage/types.js'
import { FakeClock } from '../../../src/testing/fake-clock.js'

export type Deliver = Extract<ServerEvent, { op: 'basic.deliver' }>
export const PERSISTENT: MessageProperties = { deliveryMode: 2 }

/** Lets queued microtasks and storage promises run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

export async function start(storage: Storage, options: { window?: number; clock?: FakeClock } = {}) {
  const clock = options.clock ?? new FakeClock()
  const broker = await Broker.start({ clock, storage, brokerId: 'test', queueWindow: options.window ?? 10 })
  const events: ServerEvent[] = []
  const waiters = new Map<number, (event: ServerEvent) => void>()
  let nextId = 1
  broker.connect('c', (event) => {
    if ((event.op === 'ok' || event.op === 'error') && waiters.has(event.id)) {
      waiters.get(event.id)!(event)
      waiters.delete(event.id)
      return
    }
    events.push(event)
  })
  const call = (cmd: Record<string, unknown>): Promise<ServerEvent> => {
    const id = nextId++
    const reply = new Promise<ServerEvent>((resolve) => waiters.set(id, resolve))
    broker.receive('c', { channel: 1, ...cmd, id })
    return reply
  }
  const ok = async <T = any>(cmd: Record<string, unknown>): Promise<T> => {
    const reply = await call(cmd)
    if (reply.op !== 'ok') throw new Error(`expected ok for ${String(cmd.op)}, got ${JSON.stringify(reply)}`)
    return reply.result as T
  }
  await ok({ op: 'channel.open' })

  const declare = (queue: string, args: FieldTable = {}, durable = true) =>
    ok<{ queue: string; messageCount: number }>({ op: 'queue.declare', queue, durable, arguments: args })
  /** Publishes to the default exchange; resolves with the reply (ok = confirm, error = nack). */
  const publish = (queue: string, body: unknown, properties: MessageProperties = PERSISTENT) =>
    call({ op: 'basic.publish', exchange: '', routingKey: queue, properties, body })
  /** Publishes without waiting for the confirm (many in one turn, as a client with messages in flight). */
  const publishAll = (queue: string, bodies: unknown[], properties: (body: unknown) => MessageProperties = () => PERSISTENT) =>
    Promise.all(bodies.map((body) => publish(queue, body, properties(body))))
  const get = async (queue: string, noAck = true) =>
    (await ok<{ message: { body: unknown; deliveryTag: number; redelivered: boolean } | null; messageCount: number }>({ op: 'basic.get', queue, noAck })).message
  /** Every message left, in order, by no-ack gets. */
  const takeAll = async (queue: string) => {
    const out: { body: unknown; redelivered: boolean }[] = []
    for (let m = await get(queue); m; m = await get(queue)) out.push({ body: m.body, redelivered: m.redelivered })
    return out
  }
  const consume = (queue: string, options: { noAck?: boolean; prefetch?: number } = {}) =>
    (options.prefetch ? ok({ op: 'basic.qos', prefetchCount: options.prefetch }) : Promise.resolve()).then(() =>
      ok<{ consumerTag: string }>({ op: 'basic.consume', queue, noAck: options.noAck ?? false }),
    )
  const deliveries = () => events.filter((e): e is Deliver => e.op === 'basic.deliver')
  const ack = (deliveryTag: number, multiple = false) => broker.receive('c', { channel: 1, op: 'basic.ack', deliveryTag, multiple })
  const nack = (deliveryTag: number, requeue = true, multiple = false) =>
    broker.receive('c', { channel: 1, op: 'basic.nack', deliveryTag, requeue, multiple })
  const count = async (queue: string) => (await ok<{ messageCount: number }>({ op: 'queue.declare', queue, passive: true })).messageCount
  /** What the queue holds in memory (ready list and transient overflow), from the engine's state. */
  const inMemory = (queue: string) => {
    const q = broker.queues.get(queue)!
    return q.ready.length + (q.paging ? q.paging.size - q.paging.count : 0)
  }
  const paged = (queue: string) => broker.queues.get(queue)!.paging?.count ?? 0
  return { broker, clock, storage, events, call, ok, declare, publish, publishAll, get, takeAll, consume, deliveries, ack, nack, count, inMemory, paged }
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** Writes `n` persistent messages of `queue` straight into storage (a backlog left by an earlier broker). */
export async function seedBacklog(storage: Storage, queue: string, n: number, batch = 10_000): Promise<void> {
  await storage.open()
  await storage.apply([{ kind: 'queue.put', queue: { name: queue, durable: true, autoDelete: false, arguments: {} } }])
  for (let from = 1; from <= n; from += batch) {
    const ops = []
    for (let seq = from; seq < Math.min(n + 1, from + batch); seq++) ops.push({ kind: 'message.put' as const, message: stored(queue, seq) })
    await storage.apply(ops)
  }
  await storage.close()
}

export const stored = (queue: string, seq: number): StoredMessage => ({
  queue,
  seq,
  exchange: '',
  routingKey: queue,
  properties: { deliveryMode: 2 },
  body: seq,
  size: 8,
  redelivered: false,
  deliveryCount: 0,
})
