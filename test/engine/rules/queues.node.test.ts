/** RabbitMQ's queue rules (features doc §4.2), driven through the Broker. */
import { describe, expect, test } from 'vitest'
import { another, bindQueue, declareQueue, publish, queueExists, readyCount, setup, takeAll } from './helpers.js'

describe('queue.declare', () => {
  test('declare creates the queue and returns its name and counts', async () => {
    const { c, ...env } = await setup()
    expect(await declareQueue(c, 'q')).toEqual({ queue: 'q', messageCount: 0, consumerCount: 0 })
    expect(queueExists(env, 'q')).toBe(true)
  })

  test('redeclare with equal properties returns the current ready and consumer counts', async () => {
    const { c, settle } = await setup()
    const props = { durable: true, autoDelete: false, arguments: { 'x-max-length': 10, 'x-message-ttl': 1000 } }
    await declareQueue(c, 'q', props)
    await publish(c, '', 'q', 'a')
    await publish(c, '', 'q', 'b')
    await publish(c, '', 'q', 'c')
    await c.ok({ op: 'basic.get', queue: 'q' }) // one unacked: not counted
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.consume', queue: 'q' })
    await settle()
    // The consumer took one more; one is left ready.
    expect(await declareQueue(c, 'q', { ...props, arguments: { 'x-message-ttl': 1000, 'x-max-length': 10 } })).toEqual({
      queue: 'q',
      messageCount: 1,
      consumerCount: 1,
    })
  })

  test.each([
    ['durable', { durable: true }, 406],
    ['autoDelete', { autoDelete: true }, 406],
    ['an x-argument value', { arguments: { 'x-max-length': 5 } }, 406],
    ['an added x-argument', { arguments: { 'x-max-length': 10, 'x-message-ttl': 5 } }, 406],
    ['a removed x-argument', { arguments: {} }, 406],
    ['exclusive', { exclusive: true }, 405],
  ])('redeclare with a different %s is refused (%i)', async (_what, change, code) => {
    const { c } = await setup()
    await declareQueue(c, 'q', { arguments: { 'x-max-length': 10 } })
    const error = await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-max-length': 10 }, ...change })
    expect(error.replyCode).toBe(code)
    expect(error.closes).toBe('channel')
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  test('the owner redeclaring its exclusive queue as non-exclusive is 405', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q', { exclusive: true })
    expect((await c.fails({ op: 'queue.declare', queue: 'q' })).replyCode).toBe(405)
  })

  test('arguments RabbitMQ does not check are ignored on redeclare', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q', { arguments: { note: 'first' } })
    await declareQueue(c, 'q', { arguments: { note: 'second' } })
  })

  test('passive declare of a missing queue is 404 and creates nothing', async () => {
    const { c, ...env } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'nope', passive: true })).replyCode).toBe(404)
    expect(queueExists(env, 'nope')).toBe(false)
  })

  test('passive declare returns counts and ignores the other properties', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q', { durable: true })
    await publish(c, '', 'q')
    await publish(c, '', 'q')
    expect(await c.ok({ op: 'queue.declare', queue: 'q', passive: true, durable: false, autoDelete: true })).toEqual({
      queue: 'q',
      messageCount: 2,
      consumerCount: 0,
    })
  })

  test('server-named queues are amq.gen-… and unique', async () => {
    const { c } = await setup()
    const a = await declareQueue(c, '')
    const b = await declareQueue(c, '', { exclusive: true })
    expect(a.queue).toMatch(/^amq\.gen-/)
    expect(b.queue).toMatch(/^amq\.gen-/)
    expect(a.queue).not.toBe(b.queue)
    await publish(c, '', a.queue, 'hello')
    expect(await takeAll(c, a.queue)).toEqual(['hello'])
  })

  // Lenient on purpose: RabbitMQ checks the amq. prefix on every non-passive queue declare, so it
  // refuses this (403), which bites clients that re-declare a server-named queue by name.
  test('a server-named queue can be redeclared by its name', async () => {
    const { c } = await setup()
    const { queue } = await declareQueue(c, '')
    await declareQueue(c, queue)
  })

  test.each([
    ['x-message-ttl', -1],
    ['x-message-ttl', 'soon'],
    ['x-expires', 0],
    ['x-max-length', 1.5],
    ['x-max-length-bytes', -3],
    ['x-overflow', 'explode'],
    ['x-max-priority', 256],
    ['x-max-priority', 0],
    ['x-dead-letter-exchange', 7],
    ['x-single-active-consumer', 'yes'],
  ])('invalid x-argument %s = %j is refused (406)', async (key, value) => {
    const { c, ...env } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'q', arguments: { [key]: value } })).replyCode).toBe(406)
    expect(queueExists(env, 'q')).toBe(false)
  })

  test('x-dead-letter-routing-key without x-dead-letter-exchange is refused (406)', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-dead-letter-routing-key': 'k' } })).replyCode).toBe(406)
  })
})

describe('exclusive queues', () => {
  test.each([
    ['declare', { op: 'queue.declare', queue: 'ex' }],
    ['passive declare', { op: 'queue.declare', queue: 'ex', passive: true }],
    ['consume', { op: 'basic.consume', queue: 'ex' }],
    ['get', { op: 'basic.get', queue: 'ex' }],
    ['bind', { op: 'queue.bind', queue: 'ex', exchange: 'amq.direct', routingKey: 'k' }],
    ['unbind', { op: 'queue.unbind', queue: 'ex', exchange: 'amq.direct', routingKey: 'k' }],
    ['purge', { op: 'queue.purge', queue: 'ex' }],
    ['delete', { op: 'queue.delete', queue: 'ex' }],
  ] as const)('exclusive queue: another connection gets 405 on %s', async (_what, cmd) => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'ex', { exclusive: true })
    const other = await another(env)
    const error = await other.fails(cmd)
    expect(error.replyCode).toBe(405)
    expect(other.of('channel.closed')).toHaveLength(1)
    expect(queueExists(env, 'ex')).toBe(true)
  })

  test('exclusive queue: the owner may use it from any of its channels', async () => {
    const { c } = await setup()
    await declareQueue(c, 'ex', { exclusive: true })
    await c.open(2)
    await c.ok({ op: 'queue.bind', queue: 'ex', exchange: 'amq.direct', routingKey: 'k', channel: 2 })
    await c.ok({ op: 'queue.purge', queue: 'ex', channel: 2 })
    await c.ok({ op: 'basic.get', queue: 'ex', channel: 2 })
  })

  test('exclusive queue: anyone may publish to it', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'ex', { exclusive: true })
    const other = await another(env)
    expect(await publish(other, '', 'ex', 'hi')).toEqual({ routed: true })
    expect(await takeAll(c, 'ex')).toEqual(['hi'])
  })

  test('exclusive queue is deleted when its owner disconnects', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'ex', { exclusive: true })
    await bindQueue(c, 'ex', 'amq.fanout')
    env.broker.disconnect(c.id)
    expect(queueExists(env, 'ex')).toBe(false)
    const other = await another(env)
    expect(await publish(other, 'amq.fanout', '')).toEqual({ routed: false })
    await declareQueue(other, 'ex', { exclusive: true })
  })

  test('exclusive queue survives closing the channel that declared it', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'ex', { exclusive: true })
    await c.ok({ op: 'channel.close' })
    expect(queueExists(env, 'ex')).toBe(true)
  })

  test('exclusive queues are transient whatever durable says', async () => {
    const { c, broker } = await setup()
    await declareQueue(c, 'ex', { exclusive: true, durable: true })
    expect(broker.inspect().queues.find((q) => q.name === 'ex')).toMatchObject({ durable: false, exclusive: true })
    // The redeclare compares against the transient queue, so it is equivalent.
    await declareQueue(c, 'ex', { exclusive: true, durable: true })
  })
})

describe('auto-delete queues', () => {
  test('auto-delete queue is deleted when its last consumer cancels', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q', { autoDelete: true })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'b' })
    await c.ok({ op: 'basic.cancel', consumerTag: 'a' })
    expect(queueExists(env, 'q')).toBe(true)
    await c.ok({ op: 'basic.cancel', consumerTag: 'b' })
    expect(queueExists(env, 'q')).toBe(false)
  })

  test("auto-delete queue is deleted when its last consumer's channel closes", async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q', { autoDelete: true })
    await c.open(2)
    await c.ok({ op: 'basic.consume', queue: 'q', channel: 2 })
    await c.ok({ op: 'channel.close', channel: 2 })
    expect(queueExists(env, 'q')).toBe(false)
  })

  test("auto-delete queue is deleted when its last consumer's connection goes", async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q', { autoDelete: true })
    const other = await another(env)
    await other.ok({ op: 'basic.consume', queue: 'q' })
    env.broker.disconnect(other.id)
    expect(queueExists(env, 'q')).toBe(false)
  })

  test('auto-delete queue that never had a consumer is never deleted', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q', { autoDelete: true })
    await publish(c, '', 'q', 'a')
    expect(await takeAll(c, 'q')).toEqual(['a'])
    await c.ok({ op: 'channel.close' })
    env.broker.disconnect(c.id)
    expect(queueExists(env, 'q')).toBe(true)
  })
})

describe('queue.purge', () => {
  test('purge returns the ready count and leaves unacked messages', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    for (const body of ['a', 'b', 'c']) await publish(c, '', 'q', body)
    const got = await c.ok({ op: 'basic.get', queue: 'q' })
    expect(await c.ok({ op: 'queue.purge', queue: 'q' })).toEqual({ messageCount: 2 })
    expect(await readyCount(c, 'q')).toBe(0)
    // The unacked one is still held and comes back on requeue.
    await c.ok({ op: 'basic.reject', deliveryTag: got.message.deliveryTag, requeue: true })
    expect(await takeAll(c, 'q')).toEqual(['a'])
  })

  test('purge of an empty queue returns 0; of a missing queue 404', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    expect(await c.ok({ op: 'queue.purge', queue: 'q' })).toEqual({ messageCount: 0 })
    expect((await c.fails({ op: 'queue.purge', queue: 'nope' })).replyCode).toBe(404)
  })
})

describe('queue.delete', () => {
  test('delete returns the number of ready messages dropped', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q')
    await publish(c, '', 'q')
    await publish(c, '', 'q')
    expect(await c.ok({ op: 'queue.delete', queue: 'q' })).toEqual({ messageCount: 2 })
    expect(queueExists(env, 'q')).toBe(false)
  })

  test('delete ifUnused of a queue with consumers is 406', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await c.ok({ op: 'basic.consume', queue: 'q', channel: 2 })
    expect((await c.fails({ op: 'queue.delete', queue: 'q', ifUnused: true })).replyCode).toBe(406)
    expect(queueExists(env, 'q')).toBe(true)
  })

  test('delete ifEmpty of a queue with ready messages is 406', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q')
    await publish(c, '', 'q')
    expect((await c.fails({ op: 'queue.delete', queue: 'q', ifEmpty: true })).replyCode).toBe(406)
    expect(queueExists(env, 'q')).toBe(true)
  })

  test('delete ifEmpty counts ready messages only, not unacked ones', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q')
    await publish(c, '', 'q')
    await c.ok({ op: 'basic.get', queue: 'q' })
    await c.ok({ op: 'queue.delete', queue: 'q', ifEmpty: true, ifUnused: true })
    expect(queueExists(env, 'q')).toBe(false)
  })

  test('deleting a missing queue succeeds', async () => {
    const { c } = await setup()
    expect(await c.ok({ op: 'queue.delete', queue: 'never-was', ifEmpty: true, ifUnused: true })).toEqual({ messageCount: 0 })
  })

  test('consumers of a deleted queue get basic.cancel-notify', async () => {
    const { c, settle, ...env } = await setup()
    await declareQueue(c, 'q')
    const other = await another(env)
    await other.open(2)
    await other.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'one' })
    await other.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'two', channel: 2 })
    await c.ok({ op: 'queue.delete', queue: 'q' })
    expect(other.of('basic.cancel-notify')).toEqual([
      { op: 'basic.cancel-notify', channel: 1, consumerTag: 'one' },
      { op: 'basic.cancel-notify', channel: 2, consumerTag: 'two' },
    ])
    // The channels stay open and the tags are free again; a late cancel is not an error.
    await other.ok({ op: 'basic.cancel', consumerTag: 'one' })
    await declareQueue(other, 'q2')
    await other.ok({ op: 'basic.consume', queue: 'q2', consumerTag: 'one' })
    await settle()
    expect(other.of('channel.closed')).toEqual([])
  })

  test('unacked deliveries of a deleted queue can still be acked', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await publish(c, '', 'q', 'a')
    await c.ok({ op: 'basic.consume', queue: 'q' })
    await settle()
    const [delivery] = c.deliveries()
    await c.ok({ op: 'queue.delete', queue: 'q' })
    await c.ok({ op: 'basic.ack', deliveryTag: delivery!.deliveryTag })
    expect(c.of('channel.closed')).toEqual([])
  })

  test('a deleted queue is gone from the default exchange and its bindings', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await bindQueue(c, 'q', 'amq.fanout')
    await c.ok({ op: 'queue.delete', queue: 'q' })
    expect(await publish(c, '', 'q')).toEqual({ routed: false })
    expect(await publish(c, 'amq.fanout', '')).toEqual({ routed: false })
  })
})
