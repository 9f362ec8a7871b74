// Delayed delivery as RabbitMQ's delayed-message plugin: an `x-delayed-message` exchange with a
// required `x-delayed-type`; a message with a positive `x-delay` header (ms) is held and routed
// when due (x-delay then negated); without it the message is routed at once. One timer per
// exchange; held messages of a durable exchange survive a restart.
import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { FakeClock } from '../../../src/testing/fake-clock.js'
import { readyOf, setup } from './setup.js'

/** A delayed exchange 'later' routing as `type`, with queue 'q' bound under key 'k'. */
async function delayed(type = 'direct', options: Parameters<typeof setup>[0] = {}) {
  const t = await setup(options)
  await t.exchange('later', 'x-delayed-message', { 'x-delayed-type': type })
  await t.declare('q')
  await t.bind('q', 'later', 'k')
  const publishIn = (delay: unknown, body: unknown, extra: Record<string, unknown> = {}) =>
    t.publish('k', body, { ...extra, headers: { 'x-delay': delay, ...((extra.headers as object) ?? {}) } }, 'later')
  return { ...t, publishIn }
}

const pendingOf = (broker: { inspect(): { exchanges: { name: string; delayed: number }[] } }, name: string) =>
  broker.inspect().exchanges.find((e) => e.name === name)?.delayed

describe('delayed delivery (x-delayed-message)', () => {
  it('holds a message with x-delay and routes it when due', async () => {
    const { publishIn, clock, broker, get } = await delayed()
    const reply = await publishIn(1000, 'later')
    expect(reply).toMatchObject({ op: 'ok', result: { routed: true } })
    expect(pendingOf(broker, 'later')).toBe(1)
    clock.advance(999)
    expect(readyOf(broker, 'q')).toBe(0)
    clock.advance(1)
    expect(pendingOf(broker, 'later')).toBe(0)
    const m = await get('q')
    expect(m).toMatchObject({ body: 'later', exchange: 'later', routingKey: 'k', redelivered: false })
  })

  it('the released message carries x-delay negated (the plugin\'s mark), other headers untouched', async () => {
    const { publishIn, clock, get } = await delayed()
    await publishIn(250, 'm', { headers: { app: 'x' }, correlationId: 'c' })
    clock.advance(250)
    const m = await get('q')
    expect(m?.properties).toEqual({ correlationId: 'c', headers: { app: 'x', 'x-delay': -250 } })
  })

  it('without x-delay the message is routed at once, headers untouched', async () => {
    const { publish, get } = await delayed()
    await publish('k', 'now', { headers: { other: 1 } }, 'later')
    expect((await get('q'))?.properties.headers).toEqual({ other: 1 })
  })

  it.each([
    [0, 'zero'],
    [-500, 'negative'],
    [4_294_967_296, 'above the plugin\'s maximum'],
    ['soon', 'not a number'],
    [null, 'null'],
  ])('x-delay %j (%s) is routed at once', async (delay, _why) => {
    const { publishIn, broker } = await delayed()
    await publishIn(delay, 'm')
    expect(readyOf(broker, 'q')).toBe(1)
    expect(pendingOf(broker, 'later')).toBe(0)
  })

  it.each([
    ['500', 500],
    [100.9, 100],
  ])('x-delay %j is read as %d ms (strings parsed, floats truncated)', async (delay, ms) => {
    const { publishIn, broker, clock, get } = await delayed()
    await publishIn(delay, 'm')
    clock.advance(ms - 1)
    expect(readyOf(broker, 'q')).toBe(0)
    clock.advance(1)
    expect((await get('q'))?.properties.headers?.['x-delay']).toBe(-ms)
  })

  it('releases in due order, and in publish order for equal due times', async () => {
    const { publishIn, clock, drainBodies } = await delayed()
    await publishIn(300, 'c')
    await publishIn(100, 'a1')
    await publishIn(200, 'b')
    await publishIn(100, 'a2')
    clock.advance(1000)
    expect(await drainBodies('q')).toEqual(['a1', 'a2', 'b', 'c'])
  })

  it('routes by its x-delayed-type when due (topic)', async () => {
    const t = await setup()
    await t.exchange('later', 'x-delayed-message', { 'x-delayed-type': 'topic' })
    await t.declare('stock')
    await t.bind('stock', 'later', 'stock.#')
    await t.publish('stock.nyse.ibm', 'ibm', { headers: { 'x-delay': 50 } }, 'later')
    await t.publish('fx.eur', 'eur', { headers: { 'x-delay': 50 } }, 'later')
    t.clock.advance(50)
    expect(await t.drainBodies('stock')).toEqual(['ibm'])
  })

  it('routes by its x-delayed-type when due (headers, with binding validation)', async () => {
    const t = await setup()
    await t.exchange('later', 'x-delayed-message', { 'x-delayed-type': 'headers' })
    await t.declare('match')
    const bad = await t.c.fails({ op: 'queue.bind', queue: 'match', exchange: 'later', arguments: { 'x-match': 'most' } })
    expect(bad.replyCode).toBe(406)
    await t.c.open(1) // the 406 closed it
    await t.bind('match', 'later', '', { 'x-match': 'any', kind: 'a' })
    await t.publish('', 'yes', { headers: { 'x-delay': 10, kind: 'a' } }, 'later')
    await t.publish('', 'no', { headers: { 'x-delay': 10, kind: 'b' } }, 'later')
    t.clock.advance(10)
    expect(await t.drainBodies('match')).toEqual(['yes'])
  })

  it('one timer per exchange: a thousand held messages keep the pending timers at one', async () => {
    const { publishIn, clock, broker, drainBodies } = await delayed()
    const delays = Array.from({ length: 1000 }, (_, i) => 1 + ((i * 7919) % 5000))
    for (const [i, delay] of delays.entries()) await publishIn(delay, i)
    expect(clock.pending).toBe(1)
    expect(broker.delayed.timers).toBe(1)
    clock.advance(5000)
    expect(clock.pending).toBe(0)
    const order = await drainBodies('q')
    const expected = delays.map((delay, i) => [delay, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i)
    expect(order).toEqual(expected)
  })

  it('a held message with mandatory gets no basic.return (mandatory cannot be honoured later)', async () => {
    const t = await setup()
    await t.exchange('later', 'x-delayed-message', { 'x-delayed-type': 'direct' })
    const reply = await t.publish('nowhere', 'm', { headers: { 'x-delay': 10 } }, 'later', true)
    expect(reply).toMatchObject({ op: 'ok', result: { routed: true } })
    t.clock.advance(10)
    await t.settle()
    expect(t.c.of('basic.return')).toEqual([])
    // Without a delay, mandatory works as on any exchange.
    await t.publish('nowhere', 'm', {}, 'later', true)
    expect(t.c.of('basic.return')).toHaveLength(1)
  })

  it('uses the alternate exchange when nothing matches at release time', async () => {
    const t = await setup()
    await t.exchange('ae', 'fanout')
    await t.declare('unrouted')
    await t.bind('unrouted', 'ae')
    await t.exchange('later', 'x-delayed-message', { 'x-delayed-type': 'direct', 'alternate-exchange': 'ae' })
    await t.publish('nowhere', 'm', { headers: { 'x-delay': 10 } }, 'later')
    t.clock.advance(10)
    expect(await t.drainBodies('unrouted')).toEqual(['m'])
  })

  it('routes by the bindings of release time, not publish time', async () => {
    const { publishIn, clock, declare, bind, drainBodies } = await delayed()
    await publishIn(100, 'm')
    await declare('late')
    await bind('late', 'later', 'k')
    clock.advance(100)
    expect(await drainBodies('late')).toEqual(['m'])
  })

  it('message TTL counts from the release, in the queue', async () => {
    const { publishIn, clock, broker } = await delayed()
    await publishIn(1000, 'm', { expiration: '500' })
    clock.advance(1499)
    expect(readyOf(broker, 'q')).toBe(1)
    clock.advance(1)
    expect(readyOf(broker, 'q')).toBe(0)
  })

  it('an invalid expiration is refused at publish time (406), even when delayed', async () => {
    const { publishIn } = await delayed()
    const reply = await publishIn(100, 'm', { expiration: 'soon' })
    expect(reply.op === 'error' && reply.error.replyCode).toBe(406)
  })

  it('deleting the exchange drops what it holds and its timer', async () => {
    const { publishIn, clock, c, broker } = await delayed()
    await publishIn(100, 'm')
    await c.ok({ op: 'exchange.delete', exchange: 'later' })
    expect(clock.pending).toBe(0)
    clock.advance(100)
    expect(readyOf(broker, 'q')).toBe(0)
  })

  it('a non-delayed exchange ignores x-delay', async () => {
    const { declare, publish, broker } = await setup()
    await declare('q')
    await publish('q', 'm', { headers: { 'x-delay': 1000 } })
    expect(readyOf(broker, 'q')).toBe(1)
  })

  describe('declaring', () => {
    it('requires x-delayed-type (406 when missing or not a string)', async () => {
      for (const args of [{}, { 'x-delayed-type': 5 }]) {
        const { c } = await setup()
        const error = await c.fails({ op: 'exchange.declare', exchange: 'later', type: 'x-delayed-message', arguments: args })
        expect(error.replyCode).toBe(406)
      }
    })

    it('an x-delayed-type that is no exchange type is 503 (connection closed), as for any unknown type', async () => {
      const { c } = await setup()
      const error = await c.fails({ op: 'exchange.declare', exchange: 'later', type: 'x-delayed-message', arguments: { 'x-delayed-type': 'fast' } })
      expect(error.replyCode).toBe(503)
      expect(c.of('connection.closed')).toHaveLength(1)
    })

    it('cannot nest: x-delayed-type x-delayed-message is 406', async () => {
      const { c } = await setup()
      const error = await c.fails({ op: 'exchange.declare', exchange: 'later', type: 'x-delayed-message', arguments: { 'x-delayed-type': 'x-delayed-message' } })
      expect(error.replyCode).toBe(406)
    })

    it('redeclaring with another x-delayed-type is 406; the same declaration is fine', async () => {
      const { exchange, c, broker } = await setup()
      await exchange('later', 'x-delayed-message', { 'x-delayed-type': 'fanout' })
      await exchange('later', 'x-delayed-message', { 'x-delayed-type': 'fanout' })
      expect(broker.inspect().exchanges.find((e) => e.name === 'later')?.type).toBe('x-delayed-message')
      const error = await c.fails({ op: 'exchange.declare', exchange: 'later', type: 'x-delayed-message', arguments: { 'x-delayed-type': 'topic' } })
      expect(error.replyCode).toBe(406)
    })
  })

  describe('durability', () => {
    async function durableDelayed(storage: MemoryStorage, clock: FakeClock) {
      const t = await setup({ storage, clock })
      await t.exchange('later', 'x-delayed-message', { 'x-delayed-type': 'direct' }, true)
      await t.declare('q', {}, { durable: true })
      await t.bind('q', 'later', 'k')
      return t
    }

    it('persistent messages held by a durable exchange survive a restart and are routed when due', async () => {
      const storage = new MemoryStorage()
      const clock = new FakeClock()
      const first = await durableDelayed(storage, clock)
      await first.publish('k', 'persistent', { deliveryMode: 2, headers: { 'x-delay': 1000 } }, 'later')
      await first.publish('k', 'transient', { headers: { 'x-delay': 1000 } }, 'later')
      await first.broker.stop()
      clock.advance(400)
      const second = await setup({ storage, clock })
      expect(pendingOf(second.broker, 'later')).toBe(1)
      clock.advance(599)
      expect(readyOf(second.broker, 'q')).toBe(0)
      clock.advance(1)
      const m = await second.get('q')
      expect(m).toMatchObject({ body: 'persistent', properties: { deliveryMode: 2, headers: { 'x-delay': -1000 } } })
      expect(await second.get('q')).toBeNull()
      // Released into a durable queue, the message is stored there and no longer held.
      await second.settle()
      await second.broker.stop()
      const third = await setup({ storage, clock })
      expect(pendingOf(third.broker, 'later')).toBe(0)
    })

    it('a message overdue at restart is routed as soon as the broker starts', async () => {
      const storage = new MemoryStorage()
      const clock = new FakeClock()
      const first = await durableDelayed(storage, clock)
      await first.publish('k', 'overdue', { deliveryMode: 2, headers: { 'x-delay': 100 } }, 'later')
      await first.broker.stop()
      clock.advance(10_000) // time passes while no broker runs
      const second = await setup({ storage, clock })
      clock.advance(0)
      expect((await second.get('q'))?.body).toBe('overdue')
    })

    it('released persistent messages land in the durable queue\'s storage', async () => {
      const storage = new MemoryStorage()
      const clock = new FakeClock()
      const first = await durableDelayed(storage, clock)
      await first.publish('k', 'm', { deliveryMode: 2, headers: { 'x-delay': 100 } }, 'later')
      clock.advance(100)
      await first.settle()
      await first.broker.stop()
      const second = await setup({ storage, clock })
      expect(pendingOf(second.broker, 'later')).toBe(0)
      expect((await second.get('q'))?.body).toBe('m')
    })

    it('after a restart, newly held messages never reuse a stored seq', async () => {
      const storage = new MemoryStorage()
      const clock = new FakeClock()
      const first = await durableDelayed(storage, clock)
      await first.publish('k', 'a', { deliveryMode: 2, headers: { 'x-delay': 10 } }, 'later')
      await first.publish('k', 'b', { deliveryMode: 2, headers: { 'x-delay': 10 } }, 'later')
      clock.advance(10) // both released: nothing held any more
      await first.settle()
      await first.broker.stop()
      const second = await setup({ storage, clock })
      await second.publish('k', 'c', { deliveryMode: 2, headers: { 'x-delay': 10 } }, 'later')
      const held = await storage.loadMessages('amq.x-delayed-message/later', 0, 10)
      expect(held.map((m) => [m.body, m.seq])).toEqual([['c', 3]])
    })

    it('messages held by a non-durable exchange are not stored', async () => {
      const storage = new MemoryStorage()
      const clock = new FakeClock()
      const first = await setup({ storage, clock })
      await first.exchange('later', 'x-delayed-message', { 'x-delayed-type': 'direct' })
      await first.publish('k', 'm', { deliveryMode: 2, headers: { 'x-delay': 100 } }, 'later')
      await first.broker.stop()
      const second = await setup({ storage, clock })
      expect(second.broker.inspect().exchanges.some((e) => e.name === 'later')).toBe(false)
      expect(await storage.countMessages('amq.x-delayed-message/later')).toBe(0)
    })

    it('the confirm waits for the write: a failed write is a nack', async () => {
      const storage = new MemoryStorage()
      const clock = new FakeClock()
      const t = await durableDelayed(storage, clock)
      storage.failApplies('quota')
      const reply = await t.publish('k', 'm', { deliveryMode: 2, headers: { 'x-delay': 100 } }, 'later')
      expect(reply).toMatchObject({ op: 'error', error: { code: 'NACK' } })
    })

    it('deleting a durable delayed exchange forgets its held messages in storage', async () => {
      const storage = new MemoryStorage()
      const clock = new FakeClock()
      const t = await durableDelayed(storage, clock)
      await t.publish('k', 'm', { deliveryMode: 2, headers: { 'x-delay': 100 } }, 'later')
      expect(await storage.countMessages('amq.x-delayed-message/later')).toBe(1)
      await t.c.ok({ op: 'exchange.delete', exchange: 'later' })
      await t.settle()
      expect(await storage.countMessages('amq.x-delayed-message/later')).toBe(0)
    })
  })
})
