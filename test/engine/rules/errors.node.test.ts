/** How the Broker fails (features doc §4.3): soft vs hard errors, error data, bad frames. */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { COMMAND_OPS } from '../../../src/protocol/guards.js'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { startBroker } from '../harness.js'
import { another, declareQueue, publish, queueExists, readyCount, setup, takeAll, type Client } from './helpers.js'

/** A client that still works: opens a fresh channel, declares, publishes, consumes and acks. */
async function works(c: Client, settle: () => Promise<void>, channel: number) {
  await c.open(channel)
  const { queue } = await c.ok({ op: 'queue.declare', queue: '', exclusive: true, channel })
  expect(await c.ok({ op: 'basic.publish', exchange: '', routingKey: queue, properties: {}, body: 'ping', channel })).toEqual({ routed: true })
  await c.ok({ op: 'basic.consume', queue, consumerTag: 'probe', channel })
  await settle()
  const delivery = c.deliveries(channel).find((d) => d.consumerTag === 'probe' && d.body === 'ping')
  expect(delivery).toBeDefined()
  await c.ok({ op: 'basic.ack', deliveryTag: delivery!.deliveryTag, channel })
  await c.ok({ op: 'channel.close', channel })
}

describe('soft errors', () => {
  test('soft errors close only the channel: channel.closed, and other channels are fine', async () => {
    const { c, settle } = await setup()
    await c.open(2)
    await declareQueue(c, 'q')
    const error = await c.fails({ op: 'queue.declare', queue: 'missing', passive: true })
    expect(c.of('channel.closed')).toEqual([{ op: 'channel.closed', channel: 1, error }])
    expect(c.of('connection.closed')).toEqual([])
    await c.ok({ op: 'queue.declare', queue: 'q', passive: true, channel: 2 })
    await works(c, settle, 3)
  })

  test('a soft error on a command without id still closes the channel and says why', async () => {
    const { c, broker } = await setup()
    c.cast({ op: 'basic.publish', exchange: 'nope', routingKey: '', properties: {}, body: 'm' })
    expect(c.of('error')).toEqual([])
    expect(c.of('channel.closed')).toEqual([{ op: 'channel.closed', channel: 1, error: expect.objectContaining({ replyCode: 404 }) }])
    expect(broker.hasClient(c.id)).toBe(true)
  })

  test('the channel number can be reused after a soft error', async () => {
    const { c, settle } = await setup()
    await c.fails({ op: 'exchange.declare', exchange: 'amq.nope', type: 'direct' })
    await works(c, settle, 1)
  })

  test("a soft error does not touch other connections' channels", async () => {
    const { c, settle, ...env } = await setup()
    const other = await another(env)
    await c.fails({ op: 'basic.ack', deliveryTag: 7 })
    expect(other.of('channel.closed')).toEqual([])
    await works(other, settle, 2)
  })
})

describe('hard errors', () => {
  test('hard errors emit connection.closed and disconnect the client; its exclusive queues go', async () => {
    const { c, ...env } = await setup()
    const { broker } = env
    await c.open(2)
    await declareQueue(c, 'mine', { exclusive: true })
    await declareQueue(c, 'shared')
    await publish(c, '', 'shared', 'held')
    await c.ok({ op: 'basic.get', queue: 'shared', channel: 2 })
    const error = await c.fails({ op: 'exchange.declare', exchange: 'x', type: 'nonsense' })
    expect(error.closes).toBe('connection')
    expect(c.of('connection.closed')).toEqual([{ op: 'connection.closed', error }])
    expect(c.of('channel.closed')).toEqual([])
    expect(broker.hasClient(c.id)).toBe(false)
    expect(queueExists(env, 'mine')).toBe(false)
    // Its unacked message went back to the queue.
    const other = await another(env)
    expect(await readyCount(other, 'shared')).toBe(1)
  })

  test('frames from a client closed by a hard error are dropped, with no reply', async () => {
    const { c, broker } = await setup()
    await c.fails({ op: 'basic.recover', requeue: false })
    const before = broker.stats.droppedFrames
    const count = c.events.length
    c.cast({ op: 'channel.open', channel: 5, id: 999 } as never)
    expect(broker.stats.droppedFrames).toBe(before + 1)
    expect(c.events).toHaveLength(count)
  })

  test('a hard error does not affect other clients', async () => {
    const { c, settle, ...env } = await setup()
    const other = await another(env)
    await declareQueue(other, 'q')
    await other.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'stay' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 't' })
    await c.fails({ op: 'basic.consume', queue: 'q', consumerTag: 't' })
    await publish(other, '', 'q', 'm')
    await settle()
    expect(other.deliveries().map((d) => d.consumerTag)).toEqual(['stay'])
    await works(other, settle, 2)
  })
})

describe('error data', () => {
  test.each([
    ['404', { op: 'queue.declare', queue: 'missing', passive: true }, { name: 'NotFoundError', code: 'NOT_FOUND', replyCode: 404, closes: 'channel' }],
    ['403', { op: 'exchange.delete', exchange: 'amq.direct' }, { name: 'AccessRefusedError', code: 'ACCESS_REFUSED', replyCode: 403, closes: 'channel' }],
    ['406', { op: 'basic.ack', deliveryTag: 3 }, { name: 'PreconditionFailedError', code: 'PRECONDITION_FAILED', replyCode: 406, closes: 'channel' }],
    ['503', { op: 'exchange.declare', exchange: 'x', type: 'bogus' }, { name: 'CommandInvalidError', code: 'COMMAND_INVALID', replyCode: 503, closes: 'connection' }],
    ['540', { op: 'basic.recover', requeue: false }, { name: 'NotImplementedError', code: 'NOT_IMPLEMENTED', replyCode: 540, closes: 'connection' }],
  ] as const)('error data carries name, code, replyCode and closes (%s)', async (_code, cmd, expected) => {
    const { c } = await setup()
    const error = await c.fails(cmd)
    expect(error).toMatchObject(expected)
    expect(error.message).toEqual(expect.any(String))
    expect(error.message.length).toBeGreaterThan(0)
  })

  test('error data for 405 and 530', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'ex', { exclusive: true })
    const other = await another(env)
    expect(await other.fails({ op: 'basic.get', queue: 'ex' })).toMatchObject({ name: 'ResourceLockedError', code: 'RESOURCE_LOCKED', replyCode: 405, closes: 'channel' })
    await c.ok({ op: 'basic.consume', queue: 'ex', consumerTag: 't' })
    expect(await c.fails({ op: 'basic.consume', queue: 'ex', consumerTag: 't' })).toMatchObject({
      name: 'NotAllowedError',
      code: 'NOT_ALLOWED',
      replyCode: 530,
      closes: 'connection',
    })
  })

  test('error messages name the resource', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'the-missing-queue', passive: true })).message).toContain("'the-missing-queue'")
  })
})

describe('channels that are not open', () => {
  test('a command on a channel that is not open gets a 504 error reply and breaks nothing', async () => {
    const { c, broker, settle } = await setup()
    await declareQueue(c, 'q')
    const error = await c.fails({ op: 'queue.declare', queue: 'q', passive: true, channel: 9 })
    expect(error.replyCode).toBe(504)
    // The wire says what the broker does: it closes nothing (RabbitMQ would close the connection).
    expect(error).toMatchObject({ name: 'ChannelStateError', code: 'CHANNEL_ERROR' })
    expect(error.closes).toBeUndefined()
    expect(c.of('channel.closed')).toEqual([])
    expect(c.of('connection.closed')).toEqual([])
    expect(broker.hasClient(c.id)).toBe(true)
    await c.ok({ op: 'queue.declare', queue: 'q', passive: true })
    await works(c, settle, 2)
  })

  test('a command on a closed channel gets 504', async () => {
    const { c } = await setup()
    await c.ok({ op: 'channel.close' })
    expect((await c.fails({ op: 'basic.qos', prefetchCount: 1 })).replyCode).toBe(504)
    expect((await c.fails({ op: 'channel.close' })).replyCode).toBe(504)
  })

  test('opening a channel that is already open is a 504 that closes nothing', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await publish(c, '', 'q', 'held')
    const got = await c.ok({ op: 'basic.get', queue: 'q' })
    expect((await c.fails({ op: 'channel.open', channel: 1 })).replyCode).toBe(504)
    // The open channel and its delivery are untouched.
    await c.ok({ op: 'basic.ack', deliveryTag: got.message.deliveryTag })
    await works(c, settle, 2)
  })

  test('a cast on a channel that is not open is ignored', async () => {
    const { c, settle } = await setup()
    const count = c.events.length
    c.cast({ op: 'basic.publish', exchange: 'nope', routingKey: '', properties: {}, body: 'm', channel: 4 })
    expect(c.events).toHaveLength(count)
    await works(c, settle, 2)
  })
})

describe('malformed frames', () => {
  test('a malformed frame with an id gets a syntax error reply and closes nothing', async () => {
    const { c, broker, settle } = await setup()
    const rejected = broker.stats.rejectedFrames
    broker.receive(c.id, { op: 'queue.declare', channel: 1, id: 500, queue: 42 })
    const reply = c.events.at(-1)!
    expect(reply).toMatchObject({ op: 'error', id: 500, error: { replyCode: 502 } })
    expect(broker.stats.rejectedFrames).toBe(rejected + 1)
    broker.receive(c.id, { op: 'no.such.op', channel: 1, id: 501 })
    expect(c.events.at(-1)).toMatchObject({ op: 'error', id: 501, error: { replyCode: 503 } })
    expect(c.of('channel.closed')).toEqual([])
    expect(c.of('connection.closed')).toEqual([])
    await works(c, settle, 2)
  })

  test('a malformed frame without a readable id is dropped and counted', async () => {
    const { c, broker } = await setup()
    const dropped = broker.stats.droppedFrames
    const count = c.events.length
    broker.receive(c.id, 'garbage')
    broker.receive(c.id, null)
    broker.receive(c.id, { op: 'basic.ack', channel: 1, id: -1, deliveryTag: 'x' })
    expect(broker.stats.droppedFrames).toBe(dropped + 3)
    expect(c.events).toHaveLength(count)
  })

  test('hostile objects (throwing getters, proxies, cycles) do not throw out of receive', async () => {
    const { c, broker, settle } = await setup()
    const throwing = Object.defineProperty({ channel: 1, id: 1 }, 'op', {
      get() {
        throw new Error('boom')
      },
    })
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('trap')
        },
        ownKeys() {
          throw new Error('trap')
        },
      },
    )
    const cyclic: Record<string, unknown> = { op: 'basic.publish', channel: 1, exchange: '', routingKey: 'q', properties: {} }
    cyclic.body = cyclic
    const headersProxy = { op: 'basic.publish', channel: 1, exchange: '', routingKey: 'q', properties: { headers: proxy } }
    const deepArgs = { op: 'queue.declare', channel: 1, queue: 'q2', arguments: { 'x-max-length': { valueOf: () => 3 } } }
    for (const frame of [throwing, proxy, cyclic, headersProxy, deepArgs, Object.create(null), [], 1n, Symbol('s'), () => 1])
      expect(() => broker.receive(c.id, frame)).not.toThrow()
    await settle()
    await works(c, settle, 5)
  })

  test('frames from unknown clients are dropped and counted', async () => {
    const { broker } = await startBroker()
    const before = broker.stats.droppedFrames
    broker.receive('stranger', { op: 'channel.open', channel: 1, id: 1 })
    broker.receive('stranger', 'garbage')
    expect(broker.stats.droppedFrames).toBe(before + 2)
    expect(broker.hasClient('stranger')).toBe(false)
  })

  test('frames after stop are dropped', async () => {
    const { c, broker } = await setup()
    await broker.stop()
    const before = broker.stats.droppedFrames
    const count = c.events.length
    broker.receive(c.id, { op: 'queue.declare', channel: 1, id: 77, queue: 'q' })
    expect(broker.stats.droppedFrames).toBe(before + 1)
    expect(c.events).toHaveLength(count)
  })

  test('no reply reaches a client after it disconnected', async () => {
    const storage = new MemoryStorage()
    const { c, broker, settle } = await setup({ storage })
    const count = c.events.length
    // A durable declare replies after the storage write, by which time the client is gone.
    c.cast({ op: 'queue.declare', queue: 'dq', durable: true, id: 1000 } as never)
    broker.disconnect(c.id)
    await settle()
    expect(c.events).toHaveLength(count)
  })

  test('no confirm nack reaches a client after it disconnected', async () => {
    const storage = new MemoryStorage()
    const { c, broker, settle } = await setup({ storage })
    await declareQueue(c, 'dq', { durable: true })
    const count = c.events.length
    storage.failApplies('quota')
    c.cast({ op: 'basic.publish', exchange: '', routingKey: 'dq', properties: { deliveryMode: 2 }, body: 'm', id: 1000 } as never)
    broker.disconnect(c.id)
    await settle()
    expect(c.events).toHaveLength(count)
  })

  // fast-check: any sequence of arbitrary frames leaves the broker usable.
  const names = fc.constantFrom('', 'q', 'ex', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'x', 'amq.gen-1')
  const junk = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined))
  const either = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 40, arbitrary: arb }, { weight: 1, arbitrary: junk })
  const frame = fc.oneof(
    { weight: 1, arbitrary: fc.anything() },
    {
      weight: 6,
      arbitrary: fc.record(
        {
          op: either(fc.constantFrom(...COMMAND_OPS, 'hello', 'no.such')),
          channel: either(fc.constantFrom(1, 1, 1, 1, 2, 2, 3, 0)),
          id: either(fc.nat({ max: 1000 })),
          exchange: either(names),
          queue: either(names),
          source: either(names),
          destination: either(names),
          routingKey: either(fc.constantFrom('', 'q', 'a.b', '#', '*')),
          type: either(fc.constantFrom('direct', 'fanout', 'topic', 'headers', 'x-weird')),
          durable: either(fc.boolean()),
          autoDelete: either(fc.boolean()),
          exclusive: either(fc.boolean()),
          internal: either(fc.boolean()),
          passive: either(fc.boolean()),
          ifUnused: either(fc.boolean()),
          ifEmpty: either(fc.boolean()),
          mandatory: either(fc.boolean()),
          noAck: either(fc.boolean()),
          multiple: either(fc.boolean()),
          requeue: either(fc.boolean()),
          global: either(fc.boolean()),
          prefetchCount: either(fc.nat({ max: 5 })),
          deliveryTag: either(fc.nat({ max: 8 })),
          consumerTag: either(fc.constantFrom('a', 'b', '')),
          arguments: either(
            fc.dictionary(
              fc.constantFrom('x-match', 'x-message-ttl', 'x-max-length', 'x-overflow', 'x-max-priority', 'x-expires', 'alternate-exchange', 'x-priority', 'x-dead-letter-exchange', 'a'),
              fc.oneof(fc.constantFrom('all', 'any', 'reject-publish', 'amq.fanout'), fc.integer({ min: -2, max: 300 }), fc.boolean(), junk),
            ),
          ),
          properties: either(
            fc.record(
              {
                expiration: either(fc.constantFrom('0', '10', '-1', 'x')),
                priority: either(fc.nat({ max: 300 })),
                deliveryMode: either(fc.constantFrom(1, 2, 3)),
                headers: either(fc.dictionary(fc.string({ maxLength: 3 }), junk)),
              },
              { requiredKeys: [] },
            ),
          ),
          body: junk,
        },
        { requiredKeys: ['op'] },
      ),
    },
  )

  test('for arbitrary inputs broker.receive does not throw and a normal client keeps working', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { maxLength: 40 }), async (frames) => {
        const env = await startBroker()
        const normal = env.client('normal')
        await normal.open()
        await declareQueue(normal, 'q')
        for (let i = 0; i < 3; i++) await publish(normal, '', 'q', i)
        let fuzzer = env.client('fuzzer')
        await fuzzer.open(1)
        await fuzzer.open(2)
        for (const raw of frames) {
          if (!env.broker.hasClient('fuzzer')) {
            fuzzer = env.client('fuzzer')
            await fuzzer.open(1)
          }
          expect(() => env.broker.receive('fuzzer', raw)).not.toThrow()
        }
        await env.settle()
        env.clock.advance(60_000)
        await env.settle()
        expect(() => env.broker.inspect()).not.toThrow()
        await works(normal, env.settle, 9)
        env.broker.disconnect('fuzzer')
        // Whatever happened to q, it is consistent: takeAll ends.
        if (env.broker.queues.has('q')) await takeAll(normal, 'q')
      }),
      { numRuns: 100 },
    )
  }, 60_000)
})
