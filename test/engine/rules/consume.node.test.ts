/** RabbitMQ's consuming, prefetch and dispatch rules (features doc §4.4), driven through the Broker. */
import { describe, expect, test } from 'vitest'
import { another, declareQueue, publish, readyCount, setup } from './helpers.js'

type Env = Awaited<ReturnType<typeof setup>>

/** Publishes bodies 0..n-1 to queue q through the default exchange. */
async function fill(c: Env['c'], n: number, queue = 'q') {
  for (let i = 0; i < n; i++) await publish(c, '', queue, i)
}

/** Bodies delivered to one consumer tag. */
const bodiesOf = (c: Env['c'], tag: string) => c.deliveries().filter((d) => d.consumerTag === tag).map((d) => d.body)

describe('consumer tags', () => {
  test('consumer tags: a generated tag starts with amq.ctag-', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    const a = await c.ok({ op: 'basic.consume', queue: 'q' })
    const b = await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: '' })
    expect(a.consumerTag).toMatch(/^amq\.ctag-/)
    expect(b.consumerTag).toMatch(/^amq\.ctag-/)
    expect(a.consumerTag).not.toBe(b.consumerTag)
  })

  test('consumer tags: an explicit tag is used as given and carried by deliveries', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    expect(await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'mine' })).toEqual({ consumerTag: 'mine' })
    await publish(c, '', 'q')
    await settle()
    expect(c.deliveries().map((d) => d.consumerTag)).toEqual(['mine'])
  })

  test('consumer tags: reusing a tag on the same channel is a 530 connection error', async () => {
    const { c, broker } = await setup()
    await declareQueue(c, 'q')
    await declareQueue(c, 'ex', { exclusive: true })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 't' })
    const error = await c.fails({ op: 'basic.consume', queue: 'q', consumerTag: 't' })
    expect(error).toMatchObject({ replyCode: 530, closes: 'connection' })
    expect(c.of('connection.closed')).toHaveLength(1)
    expect(broker.hasClient(c.id)).toBe(false)
    expect(broker.queues.has('ex')).toBe(false)
  })

  test('consumer tags are per channel: the same tag on another channel is fine', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 't' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 't', channel: 2 })
  })

  test('a cancelled tag can be used again', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 't' })
    await c.ok({ op: 'basic.cancel', consumerTag: 't' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 't' })
  })

  test('consume on a missing queue is 404', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'basic.consume', queue: 'nope' })).replyCode).toBe(404)
  })
})

describe('noAck', () => {
  test('noAck: messages are settled on delivery and prefetch does not apply', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.qos', prefetchCount: 1, global: true })
    await c.ok({ op: 'basic.consume', queue: 'q', noAck: true })
    await fill(c, 5)
    await settle()
    expect(c.deliveries().map((d) => d.body)).toEqual([0, 1, 2, 3, 4])
    expect((await c.ok({ op: 'queue.declare', queue: 'q', passive: true })).messageCount).toBe(0)
    // Nothing is outstanding: the tag of a no-ack delivery is unknown to ack.
    expect((await c.fails({ op: 'basic.ack', deliveryTag: c.deliveries()[0]!.deliveryTag })).replyCode).toBe(406)
  })

  test('noAck deliveries are not requeued when the channel closes', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await c.ok({ op: 'basic.consume', queue: 'q', noAck: true, channel: 2 })
    await fill(c, 3)
    await settle()
    await c.ok({ op: 'channel.close', channel: 2 })
    expect(await readyCount(c, 'q')).toBe(0)
  })
})

describe('exclusive consumers', () => {
  test('exclusive consumer: refused (403) when other consumers exist', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q')
    const other = await another(env)
    await other.ok({ op: 'basic.consume', queue: 'q' })
    const error = await c.fails({ op: 'basic.consume', queue: 'q', exclusive: true })
    expect(error.replyCode).toBe(403)
    expect(c.of('channel.closed')).toHaveLength(1)
  })

  test('exclusive consumer: others get 403 while it exists, and may consume after it cancels', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.consume', queue: 'q', exclusive: true, consumerTag: 'only' })
    const other = await another(env)
    await other.open(2)
    expect((await other.fails({ op: 'basic.consume', queue: 'q' })).replyCode).toBe(403)
    // Even the same channel cannot add a second consumer.
    await c.open(3)
    expect((await c.fails({ op: 'basic.consume', queue: 'q', channel: 3 })).replyCode).toBe(403)
    await c.ok({ op: 'basic.cancel', consumerTag: 'only' })
    await other.ok({ op: 'basic.consume', queue: 'q', channel: 2 })
  })

  test('exclusive consumer gets every message', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.consume', queue: 'q', exclusive: true, noAck: true })
    await fill(c, 3)
    await settle()
    expect(c.deliveries().map((d) => d.body)).toEqual([0, 1, 2])
  })

  test('basic.get still works on a queue with an exclusive consumer', async () => {
    const { c, ...env } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.consume', queue: 'q', exclusive: true })
    await fill(c, 2)
    const other = await another(env)
    expect((await other.ok({ op: 'basic.get', queue: 'q', noAck: true })).message.body).toBe(1)
  })
})

describe('prefetch', () => {
  test('per-consumer prefetch (global=false) limits each consumer created after qos', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 2 })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'b' })
    await fill(c, 10)
    await settle()
    expect(bodiesOf(c, 'a')).toHaveLength(2)
    expect(bodiesOf(c, 'b')).toHaveLength(2)
    expect(await readyCount(c, 'q')).toBe(6)
  })

  test('per-consumer prefetch does not apply to consumers created before qos', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'before' })
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await fill(c, 4)
    await settle()
    expect(bodiesOf(c, 'before')).toEqual([0, 1, 2, 3])
  })

  test('a later qos (global=false) does not change an existing consumer', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await c.ok({ op: 'basic.qos', prefetchCount: 10 })
    await fill(c, 4)
    await settle()
    expect(bodiesOf(c, 'a')).toEqual([0])
  })

  test('channel-wide prefetch (global=true) is shared by all consumers of the channel', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q1')
    await declareQueue(c, 'q2')
    await c.ok({ op: 'basic.qos', prefetchCount: 3, global: true })
    await c.ok({ op: 'basic.consume', queue: 'q1', consumerTag: 'a' })
    await c.ok({ op: 'basic.consume', queue: 'q2', consumerTag: 'b' })
    await fill(c, 5, 'q1')
    await fill(c, 5, 'q2')
    await settle()
    expect(c.deliveries()).toHaveLength(3)
    // Acking one delivery frees one slot, whichever queue it came from.
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries()[0]!.deliveryTag })
    await settle()
    expect(c.deliveries()).toHaveLength(4)
  })

  test('channel-wide prefetch applies to consumers that already exist', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 1, global: true })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await fill(c, 5)
    await settle()
    expect(c.deliveries()).toHaveLength(1)
    // Raising the channel limit lets the existing consumer take more at once.
    await c.ok({ op: 'basic.qos', prefetchCount: 3, global: true })
    await settle()
    expect(c.deliveries()).toHaveLength(3)
  })

  test('channel-wide prefetch of one channel does not limit another channel', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await c.ok({ op: 'basic.qos', prefetchCount: 1, global: true })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'limited' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'free', channel: 2 })
    await fill(c, 6)
    await settle()
    expect(bodiesOf(c, 'limited')).toHaveLength(1)
    expect(bodiesOf(c, 'free')).toHaveLength(5)
  })

  test('both limits at once: a delivery is blocked when either is full', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 2 })
    await c.ok({ op: 'basic.qos', prefetchCount: 3, global: true })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'b' })
    await fill(c, 10)
    await settle()
    // Round-robin a, b, a, then the channel limit (3) stops b from getting a second one.
    expect(bodiesOf(c, 'a')).toEqual([0, 2])
    expect(bodiesOf(c, 'b')).toEqual([1])
    // Acking one of b's frees the channel slot; a is at its own limit, so b gets the next.
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries().find((d) => d.consumerTag === 'b')!.deliveryTag })
    await settle()
    expect(bodiesOf(c, 'a')).toEqual([0, 2])
    expect(bodiesOf(c, 'b')).toEqual([1, 3])
  })

  test('prefetch 0 means unlimited', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.qos', prefetchCount: 0 })
    await c.ok({ op: 'basic.qos', prefetchCount: 0, global: true })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await fill(c, 20)
    await settle()
    expect(bodiesOf(c, 'a')).toHaveLength(20)
  })

  test('acking frees credit and the consumer gets the next message', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await fill(c, 3)
    await settle()
    expect(bodiesOf(c, 'a')).toEqual([0])
    await c.ok({ op: 'basic.ack', deliveryTag: c.deliveries()[0]!.deliveryTag })
    await settle()
    expect(bodiesOf(c, 'a')).toEqual([0, 1])
  })
})

describe('dispatch', () => {
  test('round-robin over consumers with credit, in registration order', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    for (const tag of ['a', 'b', 'c']) await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: tag, noAck: true })
    await fill(c, 7)
    await settle()
    expect(c.deliveries().map((d) => `${d.consumerTag}${d.body}`)).toEqual(['a0', 'b1', 'c2', 'a3', 'b4', 'c5', 'a6'])
  })

  test('round-robin spreads a backlog when a consumer arrives', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 2 })
    await fill(c, 6)
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'b' })
    await settle()
    expect(bodiesOf(c, 'a')).toHaveLength(2)
    expect(bodiesOf(c, 'b')).toHaveLength(2)
  })

  test('a blocked consumer is skipped and the queue does not wait for it', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'slow' })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'fast', channel: 2 })
    await fill(c, 5)
    await settle()
    expect(bodiesOf(c, 'slow')).toEqual([0])
    expect(bodiesOf(c, 'fast')).toEqual([1, 2, 3, 4])
  })

  test('a cancelled consumer gets nothing more; its unacked deliveries stay with the channel', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'a' })
    await fill(c, 2)
    await settle()
    await c.ok({ op: 'basic.cancel', consumerTag: 'a' })
    await fill(c, 2)
    await settle()
    expect(bodiesOf(c, 'a')).toEqual([0, 1])
    expect(await readyCount(c, 'q')).toBe(2)
    for (const d of c.deliveries()) await c.ok({ op: 'basic.ack', deliveryTag: d.deliveryTag })
    expect(c.of('channel.closed')).toEqual([])
  })

  test('cancel of an unknown consumer tag succeeds', async () => {
    const { c } = await setup()
    await c.ok({ op: 'basic.cancel', consumerTag: 'never' })
  })
})

describe('basic.get', () => {
  test('basic.get returns the head and the remaining message count', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await fill(c, 3)
    const first = await c.ok({ op: 'basic.get', queue: 'q' })
    expect(first).toEqual({
      message: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', properties: {}, body: 0 },
      messageCount: 2,
    })
    expect((await c.ok({ op: 'basic.get', queue: 'q' })).messageCount).toBe(1)
    expect((await c.ok({ op: 'basic.get', queue: 'q' })).messageCount).toBe(0)
  })

  test('basic.get on an empty queue is get-empty', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    expect(await c.ok({ op: 'basic.get', queue: 'q' })).toEqual({ message: null, messageCount: 0 })
  })

  test('basic.get on a missing queue is 404', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'basic.get', queue: 'nope' })).replyCode).toBe(404)
  })

  test('basic.get is not limited by prefetch', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await c.ok({ op: 'basic.qos', prefetchCount: 1 })
    await c.ok({ op: 'basic.qos', prefetchCount: 1, global: true })
    await fill(c, 3)
    for (let i = 0; i < 3; i++) expect((await c.ok({ op: 'basic.get', queue: 'q' })).message.body).toBe(i)
  })

  test('a basic.get delivery must be acked: unacked, it returns on channel close', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await fill(c, 1)
    await c.ok({ op: 'basic.get', queue: 'q', channel: 2 })
    expect(await readyCount(c, 'q')).toBe(0)
    await c.ok({ op: 'channel.close', channel: 2 })
    const again = await c.ok({ op: 'basic.get', queue: 'q', noAck: true })
    expect(again.message).toMatchObject({ body: 0, redelivered: true })
  })

  test('a basic.get delivery is settled by ack', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await fill(c, 1)
    const got = await c.ok({ op: 'basic.get', queue: 'q' })
    await c.ok({ op: 'basic.ack', deliveryTag: got.message.deliveryTag })
    await c.ok({ op: 'channel.close' })
    await c.open(1)
    expect(await readyCount(c, 'q')).toBe(0)
  })
})

describe('delivery tags', () => {
  test('delivery tags are per channel from 1, shared by consume and get', async () => {
    const { c, settle } = await setup()
    await declareQueue(c, 'q')
    await declareQueue(c, 'r')
    await c.open(2)
    await fill(c, 2, 'q')
    expect((await c.ok({ op: 'basic.get', queue: 'q' })).message.deliveryTag).toBe(1)
    await c.ok({ op: 'basic.consume', queue: 'r', consumerTag: 'r' })
    await publish(c, '', 'r', 'x')
    await settle()
    expect(c.deliveries(1).map((d) => d.deliveryTag)).toEqual([2])
    expect((await c.ok({ op: 'basic.get', queue: 'q', noAck: true })).message.deliveryTag).toBe(3)
    // Another channel counts on its own.
    await publish(c, '', 'q', 'y')
    expect((await c.ok({ op: 'basic.get', queue: 'q', channel: 2 })).message.deliveryTag).toBe(1)
  })

  test('a delivery tag is valid only on the channel that received it (406 elsewhere)', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await c.open(2)
    await fill(c, 1)
    const got = await c.ok({ op: 'basic.get', queue: 'q' })
    expect((await c.fails({ op: 'basic.ack', deliveryTag: got.message.deliveryTag, channel: 2 })).replyCode).toBe(406)
    await c.ok({ op: 'basic.ack', deliveryTag: got.message.deliveryTag })
  })

  test('delivery tags restart at 1 on a reopened channel', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await fill(c, 2)
    await c.ok({ op: 'basic.get', queue: 'q', noAck: true })
    await c.ok({ op: 'channel.close' })
    await c.open(1)
    expect((await c.ok({ op: 'basic.get', queue: 'q', noAck: true })).message.deliveryTag).toBe(1)
  })
})
