/**
 * Queue types (features doc §4.11): x-queue-type validated and part of the equivalence check,
 * and quorum queues' rules as RabbitMQ 4.0-4.2 apply them, driven through the Broker.
 */
import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { startBroker } from '../harness.js'
import { bindQueue, declareExchange, declareQueue, publish, readyCount, setup, takeAll, type Client, type Env } from './helpers.js'

const QUORUM = { 'x-queue-type': 'quorum' }

/** A durable quorum queue q (extra arguments merged), dead-lettering to queue dlq through exchange dlx. */
async function quorumWithDlq(c: Client, args: Record<string, unknown> = {}) {
  await declareExchange(c, 'dlx', 'fanout')
  await declareQueue(c, 'dlq')
  await bindQueue(c, 'dlq', 'dlx')
  await declareQueue(c, 'q', { durable: true, arguments: { ...QUORUM, 'x-dead-letter-exchange': 'dlx', ...args } })
}

/** One acking basic.get from q: its tag and headers. */
async function getOne(c: Client) {
  const got = await c.ok({ op: 'basic.get', queue: 'q' })
  return { tag: got.message.deliveryTag as number, headers: got.message.properties.headers as Record<string, unknown> | undefined, body: got.message.body }
}

/** x-death reason of the first message in dlq. */
async function deathReason(c: Client) {
  const got = await c.ok({ op: 'basic.get', queue: 'dlq', noAck: true })
  return got.message?.properties.headers?.['x-death']?.[0]?.reason
}

describe('x-queue-type', () => {
  test('an unknown queue type is refused with 406', async () => {
    const { c, broker } = await setup()
    const error = await c.fails({ op: 'queue.declare', queue: 'q', durable: true, arguments: { 'x-queue-type': 'lazy' } })
    expect(error.replyCode).toBe(406)
    expect(broker.queues.has('q')).toBe(false)
  })

  test('a queue type that is not a string is refused with 406', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'q', arguments: { 'x-queue-type': 1 } })).replyCode).toBe(406)
  })

  test('the type takes part in the equivalence check on redeclare; absent means classic', async () => {
    const { c } = await setup()
    await declareQueue(c, 'classic', { durable: true })
    await declareQueue(c, 'classic', { durable: true, arguments: { 'x-queue-type': 'classic' } })
    expect((await c.fails({ op: 'queue.declare', queue: 'classic', durable: true, arguments: QUORUM })).replyCode).toBe(406)
    await c.open()
    await declareQueue(c, 'quorum', { durable: true, arguments: QUORUM })
    await declareQueue(c, 'quorum', { durable: true, arguments: QUORUM })
    expect((await c.fails({ op: 'queue.declare', queue: 'quorum', durable: true })).replyCode).toBe(406)
  })

  test('the broker reports each queue type', async () => {
    const { c, broker } = await setup()
    await declareQueue(c, 'a')
    await declareQueue(c, 'b', { durable: true, arguments: QUORUM })
    expect(broker.inspect().queues.map((q) => [q.name, q.type])).toEqual([['a', 'classic'], ['b', 'quorum']])
  })
})

describe('quorum queues: declaring', () => {
  test.each([
    ['non-durable', { durable: false }],
    ['exclusive', { durable: true, exclusive: true }],
    ['auto-delete', { durable: true, autoDelete: true }],
  ])('a %s quorum queue is refused with 406', async (_what, flags) => {
    const { c, broker } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'q', arguments: QUORUM, ...flags })).replyCode).toBe(406)
    expect(broker.queues.has('q')).toBe(false)
  })

  test('a server-named quorum queue is refused with 406', async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: '', durable: true, arguments: QUORUM })).replyCode).toBe(406)
  })

  test.each([
    ['x-max-priority', 10],
    ['x-queue-mode', 'lazy'],
    ['x-queue-master-locator', 'min-masters'],
    ['x-queue-version', 2],
    ['x-max-age', '7D'],
    ['x-stream-max-segment-size-bytes', 1000],
  ])('arguments quorum queues do not take are refused with 406: %s', async (key, value) => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'q', durable: true, arguments: { ...QUORUM, [key]: value } })).replyCode).toBe(406)
  })

  test("overflow 'reject-publish-dlx' is not supported by quorum queues (406); reject-publish and drop-head are", async () => {
    const { c } = await setup()
    expect((await c.fails({ op: 'queue.declare', queue: 'q', durable: true, arguments: { ...QUORUM, 'x-overflow': 'reject-publish-dlx' } })).replyCode).toBe(406)
    await c.open()
    await declareQueue(c, 'a', { durable: true, arguments: { ...QUORUM, 'x-overflow': 'reject-publish' } })
    await declareQueue(c, 'b', { durable: true, arguments: { ...QUORUM, 'x-overflow': 'drop-head' } })
  })

  test('arguments quorum queues share with classic ones work: x-max-length, x-message-ttl, x-single-active-consumer', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q', { durable: true, arguments: { ...QUORUM, 'x-max-length': 2 } })
    for (const body of ['a', 'b', 'c']) await publish(c, '', 'q', body)
    expect(await takeAll(c, 'q')).toEqual(['b', 'c'])
  })
})

describe('quorum queues: deliveries and returns', () => {
  test('x-delivery-count on every delivery and get after the first', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q', { durable: true, arguments: QUORUM })
    await publish(c, '', 'q', 'a')
    const first = await getOne(c)
    expect(first.headers?.['x-delivery-count']).toBeUndefined()
    await c.ok({ op: 'basic.nack', deliveryTag: first.tag, requeue: true })
    const second = await getOne(c)
    expect(second.headers?.['x-delivery-count']).toBe(1)
    await c.ok({ op: 'basic.reject', deliveryTag: second.tag, requeue: true })
    await c.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'k' })
    await expect.poll(() => c.deliveries().length).toBe(1)
    expect(c.deliveries()[0]!.properties.headers?.['x-delivery-count']).toBe(2)
    expect(c.deliveries()[0]!.redelivered).toBe(true)
  })

  test('a classic queue without x-delivery-limit hands back the published properties', async () => {
    const { c } = await setup()
    await declareQueue(c, 'q')
    await publish(c, '', 'q', 'a')
    await c.ok({ op: 'basic.reject', deliveryTag: (await getOne(c)).tag, requeue: true })
    expect((await getOne(c)).headers).toBeUndefined()
  })

  test.each([
    ['basic.reject with requeue', async (c: Client, tag: number) => c.ok({ op: 'basic.reject', deliveryTag: tag, requeue: true })],
    ['basic.nack with requeue', async (c: Client, tag: number) => c.ok({ op: 'basic.nack', deliveryTag: tag, requeue: true })],
    ['basic.recover', async (c: Client) => c.ok({ op: 'basic.recover', requeue: true })],
    [
      'a closed channel',
      async (c: Client) => {
        await c.ok({ op: 'channel.close' })
        await c.open()
      },
    ],
  ])('every return counts toward x-delivery-limit, then the message is dead-lettered with reason delivery_limit: %s', async (_how, giveBack) => {
    const { c } = await setup()
    await quorumWithDlq(c, { 'x-delivery-limit': 2 })
    await publish(c, '', 'q', 'poison')
    for (let returned = 0; returned < 2; returned++) {
      const { tag } = await getOne(c)
      await giveBack(c, tag)
      expect(await readyCount(c, 'q')).toBe(1)
    }
    const { tag, headers } = await getOne(c)
    expect(headers?.['x-delivery-count']).toBe(2)
    await giveBack(c, tag)
    expect(await readyCount(c, 'q')).toBe(0)
    expect(await deathReason(c)).toBe('delivery_limit')
  })

  test('a dead consumer (its connection gone) returns its messages, and that counts too', async () => {
    const env = await setup()
    const { c } = env
    await quorumWithDlq(c, { 'x-delivery-limit': 0 })
    await publish(c, '', 'q', 'poison')
    const worker = env.client('worker')
    await worker.open()
    await worker.ok({ op: 'basic.consume', queue: 'q', consumerTag: 'w' })
    await expect.poll(() => worker.deliveries().length).toBe(1)
    env.broker.disconnect('worker')
    expect(await readyCount(c, 'q')).toBe(0)
    expect(await deathReason(c)).toBe('delivery_limit')
  })

  test('x-delivery-limit defaults to 20 (RabbitMQ 4): the 21st return dead-letters', async () => {
    const { c } = await setup()
    await quorumWithDlq(c)
    await publish(c, '', 'q', 'poison')
    for (let returned = 0; returned < 20; returned++) await c.ok({ op: 'basic.reject', deliveryTag: (await getOne(c)).tag, requeue: true })
    expect(await readyCount(c, 'q')).toBe(1)
    await c.ok({ op: 'basic.reject', deliveryTag: (await getOne(c)).tag, requeue: true })
    expect(await deathReason(c)).toBe('delivery_limit')
  })

  test('x-delivery-limit -1 means no limit', async () => {
    const { c } = await setup()
    await quorumWithDlq(c, { 'x-delivery-limit': -1 })
    await publish(c, '', 'q', 'a')
    for (let returned = 0; returned < 25; returned++) await c.ok({ op: 'basic.reject', deliveryTag: (await getOne(c)).tag, requeue: true })
    expect(await readyCount(c, 'q')).toBe(1)
  })

  test('a returned message goes to the back of a quorum queue (a classic queue puts it back at its original position)', async () => {
    for (const [args, expected] of [
      [QUORUM, ['b', 'c', 'a']],
      [{}, ['a', 'b', 'c']],
    ] as const) {
      const { c } = await setup()
      await declareQueue(c, 'q', { durable: true, arguments: args })
      for (const body of ['a', 'b', 'c']) await publish(c, '', 'q', body)
      const { tag, body } = await getOne(c)
      expect(body).toBe('a')
      await c.ok({ op: 'basic.reject', deliveryTag: tag, requeue: true })
      expect(await takeAll(c, 'q')).toEqual(expected)
    }
  })
})

describe('quorum queues: persistence', () => {
  async function durableSetup() {
    const storage = new MemoryStorage()
    const first = await setup({ storage })
    const restart = async (env: Env) => {
      await env.settle()
      await env.broker.stop()
      const next = await startBroker({ storage })
      const c = next.client()
      await c.open()
      return { ...next, c }
    }
    return { ...first, storage, restart }
  }

  test('messages to a quorum queue are stored even if published transient (a classic queue keeps them in memory)', async () => {
    const env = await durableSetup()
    await declareQueue(env.c, 'quorum', { durable: true, arguments: QUORUM })
    await declareQueue(env.c, 'classic', { durable: true })
    await publish(env.c, '', 'quorum', 'transient')
    await publish(env.c, '', 'classic', 'transient')
    const after = await env.restart(env)
    expect(await takeAll(after.c, 'quorum')).toEqual(['transient'])
    expect(await takeAll(after.c, 'classic')).toEqual([])
    expect(after.broker.queues.get('quorum')!.type.name).toBe('quorum')
  })

  test('a message returned to the back keeps its delivery count across a restart', async () => {
    const env = await durableSetup()
    await declareQueue(env.c, 'q', { durable: true, arguments: QUORUM })
    for (const body of ['a', 'b']) await publish(env.c, '', 'q', body)
    await env.c.ok({ op: 'basic.reject', deliveryTag: (await getOne(env.c)).tag, requeue: true })
    const after = await env.restart(env)
    const first = await getOne(after.c)
    const second = await getOne(after.c)
    expect([first.body, second.body]).toEqual(['b', 'a'])
    expect(second.headers?.['x-delivery-count']).toBe(1)
  })
})
