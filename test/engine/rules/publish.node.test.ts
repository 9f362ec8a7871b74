/** RabbitMQ's publishing rules (features doc §4.6), driven through the Broker. */
import { describe, expect, test } from 'vitest'
import type { MessageProperties } from '../../../src/protocol/frames.js'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { bindQueue, declareQueue, publish, setup, takeAll } from './helpers.js'

describe('publisher confirms', () => {
  test('confirms: a routed publish is answered ok {routed: true}', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const reply = await c.call({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'm' })
    expect(reply).toEqual({ op: 'ok', id: expect.any(Number), result: { routed: true } })
  })

  test('each publish with an id gets exactly one reply, and casts get none', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await bindQueue(c, 'q', 'amq.fanout')
    const before = c.events.length
    for (let i = 0; i < 5; i++) c.cast({ op: 'basic.publish', exchange: 'amq.fanout', routingKey: '', properties: {}, body: i })
    const replies = await Promise.all([0, 1, 2].map(() => c.call({ op: 'basic.publish', exchange: 'amq.direct', routingKey: 'none', properties: {}, body: 'x' })))
    await settle()
    expect(replies.map((r) => r.op)).toEqual(['ok', 'ok', 'ok'])
    expect(c.events.slice(before)).toEqual(replies)
  })

  test('a persistent message the storage cannot keep is nacked', async () => {
    const storage = new MemoryStorage()
    const { c } = await setup({ storage })
    await declareQueue(c, 'q', { durable: true })
    storage.failApplies('quota')
    const error = await c.fails({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: { deliveryMode: 2 }, body: 'm' })
    expect(error.code).toBe('NACK')
    // A nack is not a channel error.
    expect(c.of('channel.closed')).toEqual([])
    expect(await publish(c, '', 'q', 'next', { deliveryMode: 2 })).toEqual({ routed: true })
  })
})

describe('mandatory and unroutable', () => {
  test('mandatory unroutable: basic.return with 312 comes BEFORE the ok', async () => {
    const { c } = await setup()
    const properties: MessageProperties = { contentType: 'text/plain', headers: { h: 1 }, messageId: 'id-1' }
    const reply = await c.call({ op: 'basic.publish', exchange: 'amq.direct', routingKey: 'nowhere', mandatory: true, properties, body: 'lost' })
    expect(reply).toMatchObject({ op: 'ok', result: { routed: false } })
    const returned = c.of('basic.return')
    expect(returned).toEqual([
      {
        op: 'basic.return',
        channel: 1,
        replyCode: 312,
        replyText: 'NO_ROUTE',
        exchange: 'amq.direct',
        routingKey: 'nowhere',
        properties,
        body: 'lost',
      },
    ])
    expect(c.events.indexOf(returned[0]!)).toBeLessThan(c.events.indexOf(reply))
  })

  test('mandatory unroutable through the default exchange is returned too', async () => {
    const { c } = await setup()
    expect(await publish(c, '', 'no-such-queue', 'm', {}, true)).toEqual({ routed: false })
    expect(c.of('basic.return')).toHaveLength(1)
  })

  test('non-mandatory unroutable: ok {routed: false} and no return', async () => {
    const { c } = await setup()
    expect(await publish(c, 'amq.direct', 'nowhere')).toEqual({ routed: false })
    expect(await publish(c, 'amq.direct', 'nowhere', 'm', {}, false)).toEqual({ routed: false })
    expect(c.of('basic.return')).toEqual([])
  })

  test('mandatory routed: no return', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    expect(await publish(c, '', 'q', 'm', {}, true)).toEqual({ routed: true })
    expect(c.of('basic.return')).toEqual([])
  })

  test('the return goes to the publishing channel', async () => {
    const { c } = await setup()
    await c.open(7)
    await c.ok({ op: 'basic.publish', exchange: 'amq.topic', routingKey: 'x', mandatory: true, properties: {}, body: 'm', channel: 7 })
    expect(c.of('basic.return').map((r) => r.channel)).toEqual([7])
  })
})

describe('publish errors', () => {
  test('publish to a missing exchange is 404 and closes the channel', async () => {
    const { c } = await setup()
    await c.open(2)
    const error = await c.fails({ op: 'basic.publish', exchange: 'nope', routingKey: '', properties: {}, body: 'm' })
    expect(error).toMatchObject({ replyCode: 404, closes: 'channel' })
    expect(c.of('channel.closed')).toEqual([{ op: 'channel.closed', channel: 1, error }])
    // The channel is gone; the connection and its other channels are not.
    expect((await c.fails({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: 'm' })).replyCode).toBe(504)
    expect(await c.ok({ op: 'basic.publish', exchange: 'amq.direct', routingKey: 'k', properties: {}, body: 'm', channel: 2 })).toEqual({ routed: false })
  })

  test.each(['-1', 'abc', '1.5', '', ' 10', '1e3', '99999999999999999999'])('invalid expiration %j is refused (406)', async (expiration) => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const error = await c.fails({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: { expiration }, body: 'm' })
    expect(error.replyCode).toBe(406)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  test.each(['0', '10', '60000'])('expiration %j is valid', async (expiration) => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    expect(await publish(c, '', 'q', 'm', { expiration })).toEqual({ routed: true })
  })

  test('an invalid expiration is refused even when the message is unroutable', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'basic.publish', exchange: 'amq.direct', routingKey: 'none', properties: { expiration: 'x' }, body: 'm' })).replyCode).toBe(406)
  })
})

describe('message content', () => {
  const properties: MessageProperties = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { a: 1, nested: { list: [1, 'two', { three: 3 }] }, flag: true, nothing: null },
    deliveryMode: 2,
    priority: 3,
    correlationId: 'corr',
    replyTo: 'reply-queue',
    expiration: '60000',
    messageId: 'msg-1',
    timestamp: 1_700_000_000,
    type: 'greeting',
    appId: 'app',
    userId: 'user',
  }

  test('properties pass through to the consumer unchanged', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.consume', queue: 'q', noAck: true })
    await settle()
    await publish(c, '', 'q', { hello: 'world' }, properties)
    const [delivery] = c.deliveries()
    expect(delivery).toMatchObject({ exchange: '', routingKey: 'q', redelivered: false, body: { hello: 'world' } })
    expect(delivery!.properties).toEqual(properties)
  })

  test('properties pass through basic.get unchanged', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await bindQueue(c, 'q', 'amq.topic', 'a.*')
    await publish(c, 'amq.topic', 'a.b', 'body', properties)
    const got = await c.ok({ op: 'basic.get', queue: 'q', noAck: true })
    expect(got.message).toMatchObject({ exchange: 'amq.topic', routingKey: 'a.b', body: 'body', redelivered: false })
    expect(got.message.properties).toEqual(properties)
  })

  test('unknown property fields are not passed on', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    c.cast({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: { contentType: 'x', bogus: 1 } as MessageProperties, body: 'm' })
    const got = await c.ok({ op: 'basic.get', queue: 'q', noAck: true })
    expect(got.message.properties).toEqual({ contentType: 'x' })
  })

  test('bodies of any structured-clone-able kind pass through', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const bodies = ['text', 42, null, [1, 2], { a: { b: 'c' } }, new Uint8Array([1, 2, 3])]
    for (const body of bodies) await publish(c, '', 'q', body)
    expect(await takeAll(c, 'q')).toEqual(bodies)
  })

  test('a message routed to several queues is a separate copy in each', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q1')
    await declareQueue(c, 'q2')
    await bindQueue(c, 'q1', 'amq.fanout')
    await bindQueue(c, 'q2', 'amq.fanout')
    await publish(c, 'amq.fanout', '', 'shared')
    const got = await c.ok({ op: 'basic.get', queue: 'q1' })
    await c.ok({ op: 'basic.reject', deliveryTag: got.message.deliveryTag, requeue: false })
    await settle()
    expect(await takeAll(c, 'q2')).toEqual(['shared'])
    expect(await takeAll(c, 'q1')).toEqual([])
  })
})

describe('ordering', () => {
  test('ordering: one channel → one queue → one consumer, in publish order', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await bindQueue(c, 'q', 'amq.direct', 'k')
    // Some wait in the queue before the consumer comes, the rest arrive while it consumes.
    for (let i = 0; i < 50; i++) c.cast({ op: 'basic.publish', exchange: 'amq.direct', routingKey: 'k', properties: {}, body: i })
    await c.ok({ op: 'basic.consume', queue: 'q', noAck: true })
    for (let i = 50; i < 100; i++) c.cast({ op: 'basic.publish', exchange: 'amq.direct', routingKey: 'k', properties: {}, body: i })
    await settle()
    expect(c.deliveries().map((d) => d.body)).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  test('ordering holds with acks and a prefetch window', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 3 })
    await c.ok({ op: 'basic.consume', queue: 'q' })
    for (let i = 0; i < 30; i++) c.cast({ op: 'basic.publish', exchange: '', routingKey: 'q', properties: {}, body: i })
    await settle()
    for (let acked = 0; acked < 30; ) {
      const pending = c.deliveries().slice(acked)
      expect(pending.length).toBeGreaterThan(0)
      expect(pending.length).toBeLessThanOrEqual(3)
      for (const d of pending) await c.ok({ op: 'basic.ack', deliveryTag: d.deliveryTag })
      acked += pending.length
      await settle()
    }
    expect(c.deliveries().map((d) => d.body)).toEqual(Array.from({ length: 30 }, (_, i) => i))
  })
})
