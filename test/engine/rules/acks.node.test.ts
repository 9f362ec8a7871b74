/** RabbitMQ's acknowledgement and requeue rules (features doc §4.5), driven through the Broker. */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { startBroker } from '../harness.js'
import { another, declareQueue, publish, readyCount, setup, takeAll } from './helpers.js'

type Env = Awaited<ReturnType<typeof setup>>

/** Publishes the bodies to queue q, then takes them all with acking gets; returns their delivery tags. */
async function getAll(c: Env['c'], bodies: unknown[], channel = 1): Promise<number[]> {
  for (const body of bodies) await publish(c, '', 'q', body)
  const tags: number[] = []
  for (let i = 0; i < bodies.length; i++) tags.push((await c.ok({ op: 'basic.get', queue: 'q', channel })).message.deliveryTag)
  return tags
}

/** What is ready in q: [body, redelivered] pairs, taken with no-ack gets. */
async function ready(c: Env['c'], channel = 1): Promise<[unknown, boolean][]> {
  const out: [unknown, boolean][] = []
  for (;;) {
    const got = await c.ok({ op: 'basic.get', queue: 'q', noAck: true, channel })
    if (!got.message) return out
    out.push([got.message.body, got.message.redelivered])
  }
}

describe('ack', () => {
  test('ack settles one delivery', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const [a, b] = await getAll(c, ['a', 'b'])
    await c.ok({ op: 'basic.ack', deliveryTag: b! })
    await c.ok({ op: 'channel.close' })
    await c.open()
    expect(await ready(c)).toEqual([['a', true]])
    expect(a).toBe(1)
  })

  test('ack multiple settles every outstanding tag up to and including it', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const tags = await getAll(c, ['a', 'b', 'c', 'd'])
    await c.ok({ op: 'basic.ack', deliveryTag: tags[0]! })
    await c.ok({ op: 'basic.ack', deliveryTag: tags[2]!, multiple: true })
    await c.ok({ op: 'channel.close' })
    await c.open()
    expect(await ready(c)).toEqual([['d', true]])
  })

  test('ack multiple with tag 0 settles everything outstanding', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await getAll(c, ['a', 'b', 'c'])
    await c.ok({ op: 'basic.ack', deliveryTag: 0, multiple: true })
    // Nothing is outstanding any more; 0 + multiple is still fine.
    await c.ok({ op: 'basic.ack', deliveryTag: 0, multiple: true })
    await c.ok({ op: 'channel.close' })
    await c.open()
    expect(await ready(c)).toEqual([])
  })

  test('ack of tag 0 without multiple is refused', async () => {
    const { c } = await setup()
    const error = await c.fails({ op: 'basic.ack', deliveryTag: 0 })
    expect(error.replyCode).toBeGreaterThanOrEqual(500)
  })
})

describe('unknown and double-settled tags', () => {
  test('ack of an unknown tag is 406', async () => {
    const { c } = await setup()
    const error = await c.fails({ op: 'basic.ack', deliveryTag: 99 })
    expect(error).toMatchObject({ replyCode: 406, closes: 'channel' })
    expect(c.of('channel.closed')).toEqual([{ op: 'channel.closed', channel: 1, error }])
  })

  test.each([
    ['ack', { op: 'basic.ack' }],
    ['nack', { op: 'basic.nack' }],
    ['reject', { op: 'basic.reject' }],
  ] as const)('%s of an already-settled tag is 406', async (_what, cmd) => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const [tag] = await getAll(c, ['a'])
    await c.ok({ op: 'basic.ack', deliveryTag: tag! })
    expect((await c.fails({ ...cmd, deliveryTag: tag! })).replyCode).toBe(406)
  })

  test('ack multiple naming a tag that is not outstanding is 406, even with smaller ones outstanding', async () => {
    // RabbitMQ (rabbit_channel:collect_acks) walks up to the tag and fails if it is not there.
    const { c } = await setup()
    await declareQueue(c, 'q')
    const tags = await getAll(c, ['a', 'b', 'c'])
    await c.ok({ op: 'basic.ack', deliveryTag: tags[2]! })
    expect((await c.fails({ op: 'basic.ack', deliveryTag: tags[2]!, multiple: true })).replyCode).toBe(406)
  })

  test('ack multiple past the last tag ever issued is 406', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await getAll(c, ['a', 'b'])
    expect((await c.fails({ op: 'basic.ack', deliveryTag: 50, multiple: true })).replyCode).toBe(406)
    // The channel closed: both deliveries went back.
    await c.open(2)
    expect(await ready(c, 2)).toEqual([
      ['a', true],
      ['b', true],
    ])
  })

  test('a 406 on ack closes only that channel: other channels keep working, its unacked are requeued', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await c.open(3)
    await getAll(c, ['on-1'])
    await publish(c, '', 'q', 'on-2')
    const kept = await c.ok({ op: 'basic.get', queue: 'q', channel: 2 })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'watcher', channel: 3 })
    await c.fails({ op: 'basic.ack', deliveryTag: 42 })
    await settle()
    expect(c.of('channel.closed').map((e) => e.channel)).toEqual([1])
    expect(c.of('connection.closed')).toEqual([])
    // Channel 1's unacked message came back, redelivered, and went to the consumer on channel 3.
    expect(c.deliveries(3).map((d) => [d.body, d.redelivered])).toEqual([['on-1', true]])
    // Channel 2 still holds and settles its own delivery.
    await c.ok({ op: 'basic.ack', deliveryTag: kept.message.deliveryTag, channel: 2 })
    expect(await c.ok({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'later', channel: 2 })).toEqual({ routed: true })
  })
})

describe('nack and reject', () => {
  test('reject requeue=true puts the message back', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const [tag] = await getAll(c, ['a'])
    await c.ok({ op: 'basic.reject', deliveryTag: tag!, requeue: true })
    expect(await ready(c)).toEqual([['a', true]])
  })

  test('reject and nack requeue by default', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const [a, b] = await getAll(c, ['a', 'b'])
    await c.ok({ op: 'basic.reject', deliveryTag: a! })
    await c.ok({ op: 'basic.nack', deliveryTag: b! })
    expect(await ready(c)).toEqual([
      ['a', true],
      ['b', true],
    ])
  })

  test('nack multiple requeues every outstanding tag up to it', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const tags = await getAll(c, ['a', 'b', 'c'])
    await c.ok({ op: 'basic.nack', deliveryTag: tags[1]!, multiple: true, requeue: true })
    expect(await ready(c)).toEqual([
      ['a', true],
      ['b', true],
    ])
    await c.ok({ op: 'basic.ack', deliveryTag: tags[2]! })
  })

  test('nack multiple with tag 0 covers everything outstanding', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await getAll(c, ['a', 'b'])
    await c.ok({ op: 'basic.nack', deliveryTag: 0, multiple: true, requeue: false })
    await c.ok({ op: 'channel.close' })
    await c.open()
    expect(await ready(c)).toEqual([])
  })

  test('nack requeue=false without a DLX discards', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const [a, b] = await getAll(c, ['a', 'b'])
    await c.ok({ op: 'basic.nack', deliveryTag: a!, requeue: false })
    await c.ok({ op: 'basic.reject', deliveryTag: b!, requeue: false })
    await c.ok({ op: 'channel.close' })
    await c.open()
    expect(await ready(c)).toEqual([])
  })
})

describe('requeue position and redelivered', () => {
  test('requeue goes back to the ORIGINAL position with redelivered=true', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const tags = await getAll(c, ['a', 'b', 'c'])
    await publish(c, '', 'q', 'd')
    await publish(c, '', 'q', 'e')
    await c.ok({ op: 'basic.reject', deliveryTag: tags[2]!, requeue: true })
    await c.ok({ op: 'basic.reject', deliveryTag: tags[0]!, requeue: true })
    expect(await ready(c)).toEqual([
      ['a', true],
      ['c', true],
      ['d', false],
      ['e', false],
    ])
    await c.ok({ op: 'basic.ack', deliveryTag: tags[1]! })
  })

  test('requeued messages are redelivered to a consumer ahead of newer ones', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    const tags = await getAll(c, ['a', 'b'])
    await publish(c, '', 'q', 'c')
    await c.ok({ op: 'basic.nack', deliveryTag: tags[1]!, multiple: true })
    await c.ok({ op: 'basic.consume', queue: 'q', noAck: true, channel: 2 })
    await settle()
    expect(c.deliveries(2).map((d) => [d.body, d.redelivered])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
    ])
  })

  test('first deliveries have redelivered=false', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.consume', queue: 'q' })
    await publish(c, '', 'q', 'a')
    await settle()
    expect(c.deliveries()[0]!.redelivered).toBe(false)
  })
})

describe('recover and automatic requeue', () => {
  test('recover(requeue=true) requeues every unacked delivery of the channel', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 2 })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    for (const body of ['x', 'y', 'z']) await publish(c, '', 'q', body)
    await settle()
    expect(c.deliveries().map((d) => d.body)).toEqual(['x', 'y'])
    await c.ok({ op: 'basic.recover', requeue: true })
    await settle()
    // They come back, flagged, in queue order, to the same consumer (the only one).
    expect(c.deliveries().slice(2).map((d) => [d.body, d.redelivered])).toEqual([
      ['x', true],
      ['y', true],
    ])
    // The old tags are gone.
    expect((await c.fails({ op: 'basic.ack', deliveryTag: 1 })).replyCode).toBe(406)
  })

  test('recover without requeue defaults to requeue=true', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await getAll(c, ['a'])
    await c.ok({ op: 'basic.recover' })
    expect(await ready(c)).toEqual([['a', true]])
  })

  test('recover(requeue=false) is not implemented (540, a connection error)', async () => {
    const { c, broker } = await setup()
    const error = await c.fails({ op: 'basic.recover', requeue: false })
    expect(error).toMatchObject({ replyCode: 540, closes: 'connection' })
    expect(c.of('connection.closed')).toHaveLength(1)
    expect(broker.hasClient(c.id)).toBe(false)
  })

  test('closing a channel requeues its unacked deliveries with redelivered', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await c.ok({ op: 'basic.consume', queue: 'q', channel: 2 })
    await publish(c, '', 'q', 'a')
    await publish(c, '', 'q', 'b')
    await settle()
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries(2)[0]!.deliveryTag, channel: 2 })
    await c.ok({ op: 'channel.close', channel: 2 })
    expect(await ready(c)).toEqual([['b', true]])
  })

  test('disconnecting requeues the unacked deliveries of every channel, with redelivered', async () => {
    const { c, settle, ...env } = await setup()
    await declareQueue(c, 'q')
    const other = await another(env)
    await other.open(2)
    await other.ok({ op: 'basic.consume', queue: 'q' })
    await publish(c, '', 'q', 'a')
    await publish(c, '', 'q', 'b')
    await publish(c, '', 'q', 'c')
    await settle()
    await other.ok({ op: 'basic.get', queue: 'q', channel: 2 })
    expect(await readyCount(c, 'q')).toBe(0)
    env.broker.disconnect(other.id)
    expect(await ready(c)).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
    ])
  })

  test('requeued messages from a closed channel go to the remaining consumers', async () => {
    const { c, settle, ...env } = await setup()
    await declareQueue(c, 'q')
    const leaving = await another(env)
    await leaving.ok({ op: 'basic.consume', queue: 'q' })
    await publish(c, '', 'q', 'a')
    await settle()
    await c.ok({ op: 'basic.consume', queue: 'q', noAck: true, consumerTag: 'stays' })
    env.broker.disconnect(leaving.id)
    expect(c.deliveries().map((d) => [d.consumerTag, d.body, d.redelivered])).toEqual([['stays', 'a', true]])
    expect(await takeAll(c, 'q')).toEqual([])
  })
})

describe('fast-check: settling never loses, duplicates or reorders', () => {
  // Random settle traffic from one client on two channels; everything that is not acked
  // must end up back in the queue exactly once, in publish order, once the client is gone.
  const step = fc.oneof(
    fc.record({ op: fc.constant('basic.consume' as const), queue: fc.constant('q'), channel: fc.constantFrom(1, 2), consumerTag: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ op: fc.constant('basic.cancel' as const), channel: fc.constantFrom(1, 2), consumerTag: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ op: fc.constant('basic.get' as const), queue: fc.constant('q'), channel: fc.constantFrom(1, 2) }),
    fc.record({ op: fc.constant('basic.qos' as const), channel: fc.constantFrom(1, 2), prefetchCount: fc.nat({ max: 3 }), global: fc.boolean() }),
    fc.record({ op: fc.constant('basic.ack' as const), channel: fc.constantFrom(1, 2), deliveryTag: fc.nat({ max: 12 }), multiple: fc.boolean() }),
    fc.record({ op: fc.constant('basic.nack' as const), channel: fc.constantFrom(1, 2), deliveryTag: fc.nat({ max: 12 }), multiple: fc.boolean() }),
    fc.record({ op: fc.constant('basic.reject' as const), channel: fc.constantFrom(1, 2), deliveryTag: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ op: fc.constant('basic.recover' as const), channel: fc.constantFrom(1, 2) }),
    fc.record({ op: fc.constant('channel.close' as const), channel: fc.constantFrom(1, 2) }),
    fc.record({ op: fc.constant('channel.open' as const), channel: fc.constantFrom(1, 2) }),
    fc.record({ op: fc.constant('publish' as const) }),
  )

  test('random consume/get/ack/nack/reject/recover/close sequences keep every unacked message once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const env = await startBroker()
        const admin = env.client('admin')
        await admin.open()
        await declareQueue(admin, 'q')
        let published = 0
        for (; published < 5; published++) await publish(admin, '', 'q', published)
        const connect = async () => {
          const c = env.client('fuzzer')
          await c.open(1)
          await c.open(2)
          return c
        }
        let c = await connect()
        for (const s of steps) {
          // Reusing a consumer tag is a connection error (530): come back as a new connection.
          if (!env.broker.hasClient('fuzzer')) c = await connect()
          if (s.op === 'publish') await publish(admin, '', 'q', published++)
          else await c.call(s)
          if (s.op === 'basic.consume' || s.op === 'basic.qos') await env.settle()
        }
        await env.settle()
        const acked = env.broker.inspect().queues.find((q) => q.name === 'q')!.counters.acked
        env.broker.disconnect('fuzzer')
        const left = (await takeAll(admin, 'q')) as number[]
        expect(left).toEqual([...left].sort((x, y) => x - y))
        expect(new Set(left).size).toBe(left.length)
        expect(left.length).toBe(published - acked)
      }),
      { numRuns: 100 },
    )
  }, 60_000)
})
