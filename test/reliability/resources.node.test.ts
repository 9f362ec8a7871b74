// Resource bounds at the engine: a publisher that never consumes cannot grow the broker's
// memory past the vhost's limits (publishes are nacked with RESOURCE_LIMIT instead), durable
// backlogs page out and are not limited, messages moving inside the broker are never refused;
// and 10,000 queues with 10,000 bindings work, also across a restart.
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { Broker, type BrokerOptions } from '../../src/engine/broker.js'
import type { ClientCommand, ServerEvent } from '../../src/protocol/frames.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { FakeClock } from '../../src/testing/fake-clock.js'

type Cmd = ClientCommand extends infer C ? (C extends ClientCommand ? Omit<C, 'id' | 'channel'> & { channel?: number } : never) : never

async function start(options: Partial<BrokerOptions> = {}) {
  const clock = new FakeClock()
  const broker = await Broker.start({ clock, brokerId: 'res', ...options })
  let n = 0
  const client = (id = `c${++n}`) => {
    const waiters = new Map<number, (e: ServerEvent) => void>()
    const deliveries: Array<Extract<ServerEvent, { op: 'basic.deliver' }>> = []
    let next = 1
    broker.connect(id, (event) => {
      if (event.op === 'ok' || event.op === 'error') {
        waiters.get(event.id)?.(event)
        waiters.delete(event.id)
      } else if (event.op === 'basic.deliver') deliveries.push(event)
    })
    const call = (cmd: Cmd) => {
      const rid = next++
      const reply = new Promise<ServerEvent>((resolve) => waiters.set(rid, resolve))
      broker.receive(id, { channel: 1, ...cmd, id: rid })
      return reply
    }
    const ok = async (cmd: Cmd) => {
      const reply = await call(cmd)
      if (reply.op !== 'ok') throw new Error(`${cmd.op}: ${JSON.stringify(reply)}`)
      return reply.result as Record<string, unknown>
    }
    const cast = (cmd: Cmd) => broker.receive(id, { channel: 1, ...cmd })
    return { call, ok, cast, deliveries }
  }
  return { broker, clock, client }
}

/** Outcomes of many publishes: 'ok' or the error code. */
async function publishMany(c: ReturnType<Awaited<ReturnType<typeof start>>['client']>, n: number, cmd: (i: number) => Cmd) {
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => c.call(cmd(i))))
  const outcomes: Record<string, number> = {}
  for (const r of replies) {
    const key = r.op === 'ok' ? 'ok' : r.op === 'error' ? r.error.code : r.op
    outcomes[key] = (outcomes[key] ?? 0) + 1
  }
  return outcomes
}

const publish = (queue: string, body: unknown, persistent = false): Cmd => ({
  op: 'basic.publish',
  exchange: '',
  routingKey: queue,
  properties: persistent ? { deliveryMode: 2 } : {},
  body,
})

const heapUsed = (() => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  return () => {
    gc()
    gc()
    return process.memoryUsage().heapUsed
  }
})()

describe('memory limits', () => {
  it('a publisher that never consumes is nacked with RESOURCE_LIMIT at the limit, and the heap stays bounded', async () => {
    const { broker, client } = await start({ maxReadyMessages: 10_000 })
    const c = client()
    await c.ok({ op: 'channel.open' })
    await c.ok({ op: 'queue.declare', queue: 'flood' })
    const body = 'x'.repeat(1000)
    expect(await publishMany(c, 10_000, () => publish('flood', body))).toEqual({ ok: 10_000 })
    const before = heapUsed()
    // Five times more after the limit: all refused, none kept.
    for (let round = 0; round < 5; round++) expect(await publishMany(c, 10_000, (i) => publish('flood', `${round}.${i}.${body}`))).toEqual({ RESOURCE_LIMIT: 10_000 })
    const grown = heapUsed() - before
    expect(broker.inspect().queues.find((q) => q.name === 'flood')!.ready).toBe(10_000)
    // 50,000 refused 1 kB bodies kept would be about 50 MB.
    expect(grown).toBeLessThan(5 * 1024 * 1024)
    const reply = await c.call(publish('flood', 'one more'))
    expect(reply).toMatchObject({ op: 'error', error: { name: 'ResourceLimitError', code: 'RESOURCE_LIMIT' } })
    console.log(`10,000 ready messages kept, 50,000 publishes refused: heap grew ${(grown / 1024 / 1024).toFixed(1)} MB`)
  }, 30_000)

  it('the byte limit counts body bytes; room made by consumers is used again', async () => {
    const { clock, client } = await start({ maxReadyBytes: 100_000 })
    const c = client()
    await c.ok({ op: 'channel.open' })
    await c.ok({ op: 'queue.declare', queue: 'bytes' })
    const outcomes = await publishMany(c, 20, () => publish('bytes', 'y'.repeat(10_000)))
    expect(outcomes).toEqual({ ok: 10, RESOURCE_LIMIT: 10 })
    // Take five: after the next recount, five fit again.
    for (let i = 0; i < 5; i++) expect((await c.ok({ op: 'basic.get', queue: 'bytes', noAck: true })).message).not.toBeNull()
    clock.advance(100)
    expect(await publishMany(c, 6, () => publish('bytes', 'z'.repeat(10_000)))).toEqual({ ok: 5, RESOURCE_LIMIT: 1 })
  })

  it('persistent messages on a durable queue page out past the window and are not limited; transient ones are', async () => {
    const { broker, client } = await start({ storage: new MemoryStorage(), queueWindow: 100, maxReadyMessages: 500 })
    const c = client()
    await c.ok({ op: 'channel.open' })
    await c.ok({ op: 'queue.declare', queue: 'durable', durable: true })
    await c.ok({ op: 'queue.declare', queue: 'transient' })
    expect(await publishMany(c, 5000, (i) => publish('durable', i, true))).toEqual({ ok: 5000 })
    expect(await publishMany(c, 1000, (i) => publish('transient', i))).toEqual({ ok: 400, RESOURCE_LIMIT: 600 })
    const queues = broker.inspect().queues
    expect(queues.find((q) => q.name === 'durable')).toMatchObject({ ready: 5000 })
  })

  it('a stream without storage keeps its log in memory and is limited; on storage it is not', async () => {
    const stream = { 'x-queue-type': 'stream' }
    const inMemory = await start({ maxReadyMessages: 300 })
    const c = inMemory.client()
    await c.ok({ op: 'channel.open' })
    await c.ok({ op: 'queue.declare', queue: 'log', durable: true, arguments: stream })
    expect(await publishMany(c, 500, (i) => publish('log', i))).toEqual({ ok: 300, RESOURCE_LIMIT: 200 })
    const stored = await start({ storage: new MemoryStorage(), maxReadyMessages: 300 })
    const d = stored.client()
    await d.ok({ op: 'channel.open' })
    await d.ok({ op: 'queue.declare', queue: 'log', durable: true, arguments: stream })
    expect(await publishMany(d, 500, (i) => publish('log', i))).toEqual({ ok: 500 })
  })

  it('dead-lettering and delayed releases are never refused, even at the limit', async () => {
    const { broker, client } = await start({ maxReadyMessages: 100 })
    const c = client()
    await c.ok({ op: 'channel.open' })
    await c.ok({ op: 'exchange.declare', exchange: 'dlx', type: 'fanout' })
    await c.ok({ op: 'queue.declare', queue: 'dead' })
    await c.ok({ op: 'queue.bind', queue: 'dead', exchange: 'dlx' })
    await c.ok({ op: 'queue.declare', queue: 'work', arguments: { 'x-dead-letter-exchange': 'dlx' } })
    expect(await publishMany(c, 150, (i) => publish('work', i))).toEqual({ ok: 100, RESOURCE_LIMIT: 50 })
    await c.ok({ op: 'basic.consume', queue: 'work', consumerTag: 'w' })
    await new Promise((r) => setTimeout(r, 0))
    expect(c.deliveries).toHaveLength(100)
    for (const d of c.deliveries) c.cast({ op: 'basic.reject', deliveryTag: d.deliveryTag, requeue: false })
    expect(broker.inspect().queues.find((q) => q.name === 'dead')).toMatchObject({ ready: 100 })
    // A delayed exchange holds messages in memory: it is limited as a queue is.
    await c.ok({ op: 'exchange.declare', exchange: 'later', type: 'x-delayed-message', arguments: { 'x-delayed-type': 'fanout' } })
    const held = await c.call({ op: 'basic.publish', exchange: 'later', routingKey: '', properties: { headers: { 'x-delay': 1000 } }, body: 1 })
    expect(held).toMatchObject({ op: 'error', error: { code: 'RESOURCE_LIMIT' } })
  })
})

describe('10,000 queues and 10,000 bindings', () => {
  it('declare, bind, route to each, consume each, and recover them all after a restart', async () => {
    const storage = new MemoryStorage()
    const { broker, client } = await start({ storage })
    const c = client()
    await c.ok({ op: 'channel.open' })
    await c.ok({ op: 'exchange.declare', exchange: 'many', type: 'topic', durable: true })
    const n = 10_000
    const t0 = performance.now()
    await Promise.all(Array.from({ length: n }, (_, i) => c.ok({ op: 'queue.declare', queue: `q.${i}`, durable: true })))
    await Promise.all(Array.from({ length: n }, (_, i) => c.ok({ op: 'queue.bind', queue: `q.${i}`, exchange: 'many', routingKey: `key.${i}.*` })))
    const t1 = performance.now()
    const outcomes = await publishMany(c, n, (i) => ({ op: 'basic.publish', exchange: 'many', routingKey: `key.${i}.x`, properties: { deliveryMode: 2 }, body: i }))
    expect(outcomes).toEqual({ ok: n })
    const t2 = performance.now()
    const snapshot = broker.inspect()
    expect(snapshot.queues.filter((q) => q.name.startsWith('q.'))).toHaveLength(n)
    expect(snapshot.queues.filter((q) => q.name.startsWith('q.')).every((q) => q.ready === 1)).toBe(true)
    expect(snapshot.exchanges.find((e) => e.name === 'many')!.bindings).toHaveLength(n)
    await broker.stop()

    const again = await Broker.start({ clock: new FakeClock(), storage, brokerId: 'res2' })
    const t3 = performance.now()
    const recovered = again.inspect()
    expect(recovered.queues.filter((q) => q.name.startsWith('q.') && q.ready === 1)).toHaveLength(n)
    expect(recovered.exchanges.find((e) => e.name === 'many')!.bindings).toHaveLength(n)
    // Each queue hands its one message to a consumer of its own.
    let delivered = 0
    again.connect('d', (event) => {
      if (event.op === 'basic.deliver') {
        delivered++
        again.receive('d', { op: 'basic.ack', channel: 1, deliveryTag: event.deliveryTag })
      }
    })
    again.receive('d', { op: 'channel.open', channel: 1 })
    for (let i = 0; i < n; i++) again.receive('d', { op: 'basic.consume', channel: 1, queue: `q.${i}` })
    await new Promise((r) => setTimeout(r, 0))
    expect(delivered).toBe(n)
    const t4 = performance.now()
    console.log(
      `10,000 durable queues declared and bound in ${Math.round(t1 - t0)} ms, 10,000 routed publishes in ${Math.round(t2 - t1)} ms, recovery ${Math.round(t3 - t2)} ms, consume and ack all in ${Math.round(t4 - t3)} ms`,
    )
    await again.stop()
  }, 60_000)
})
