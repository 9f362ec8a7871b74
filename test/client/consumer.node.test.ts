// Consumer: callbacks and drainEvents, async iteration, prefetch, cancel, broker cancel, recover.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Consumer, Queue, TimeoutError, WarrenError, type Message } from '../../src/index.js'
import { setup, tick, type Setup } from './helpers.js'

describe('Consumer', () => {
  let env: Setup
  beforeEach(async () => {
    env = await setup()
  })
  afterEach(() => env.close())

  const fill = async (name: string, bodies: unknown[], options = {}) => {
    const conn = await env.connect()
    const queue = new Queue(name, options)
    const producer = conn.producer({ routingKey: name })
    await producer.publish(bodies[0], { declare: [queue] })
    for (const body of bodies.slice(1)) await producer.publish(body)
    return { conn, queue }
  }

  it('calls every callback with the body and the message, in order', async () => {
    const { conn, queue } = await fill('cb', [1, 2, 3])
    const seen: Array<[unknown, number]> = []
    const consumer = new Consumer<number>(conn, {
      queues: [queue as Queue<number>],
      callbacks: [(body, message) => seen.push([body, message.deliveryTag]), (_body, message) => message.ack()],
    })
    await consumer.consume()
    while (seen.length < 3) await conn.drainEvents({ timeout: 1000 })
    expect(seen.map(([body]) => body)).toEqual([1, 2, 3])
    expect(seen.map(([, tag]) => tag)).toEqual([1, 2, 3])
    expect(consumer.active).toBe(true)
    await consumer.cancel()
    expect(consumer.active).toBe(false)
  })

  it('onMessage gets undecoded messages', async () => {
    const { conn, queue } = await fill('raw', ['{"a":1}'], {})
    const messages: Message<unknown>[] = []
    await conn.consumer(queue, { onMessage: (m) => (messages.push(m), m.ack()) }).consume()
    await conn.drainEvents({ timeout: 1000 })
    expect(messages[0]!.rawBody).toBe('"{\\"a\\":1}"')
  })

  it('drainEvents rejects with TimeoutError when nothing arrives', async () => {
    const conn = await env.connect()
    const error = await conn.drainEvents({ timeout: 20 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).stack).toContain('consumer.node.test.ts')
  })

  it('reports a throwing callback on status and to drainEvents', async () => {
    const { conn, queue } = await fill('throws', ['x'])
    await conn
      .consumer(queue, {
        callbacks: [
          () => {
            throw new Error('handler bug')
          },
        ],
      })
      .consume()
    await expect(conn.drainEvents({ timeout: 1000 })).rejects.toThrow('handler bug')
  })

  it('a callback consumer cannot be iterated', async () => {
    const conn = await env.connect()
    const consumer = conn.consumer('q', { callbacks: [() => {}] })
    expect(() => consumer[Symbol.asyncIterator]()).toThrow(WarrenError)
  })

  it('iterates messages and requeues the unread ones when the loop breaks', async () => {
    const { conn, queue } = await fill('iter', [1, 2, 3, 4])
    const got: unknown[] = []
    for await (const message of conn.consume(queue as Queue<number>, { prefetch: 2 })) {
      got.push(message.body)
      message.ack()
      if (got.length === 2) break
    }
    expect(got).toEqual([1, 2])
    await tick()
    const rest: unknown[] = []
    for await (const message of conn.consume(queue as Queue<number>)) {
      rest.push(message.body)
      // They had been delivered (prefetched) to the first loop, so they come back redelivered.
      expect(message.redelivered).toBe(true)
      message.ack()
      if (rest.length === 2) break
    }
    expect(rest).toEqual([3, 4])
  })

  it('prefetch limits unacked deliveries per consumer', async () => {
    const { conn, queue } = await fill('prefetch', [1, 2, 3, 4, 5])
    const held: Message<unknown>[] = []
    const consumer = await conn.consumer(queue, { prefetch: 2, onMessage: (m) => void held.push(m) }).consume()
    while (held.length < 2) await conn.drainEvents({ timeout: 1000 })
    await tick()
    expect(held).toHaveLength(2)
    held[0]!.ack()
    while (held.length < 3) await conn.drainEvents({ timeout: 1000 })
    await tick()
    expect(held).toHaveLength(3)
    await consumer.cancel()
  })

  it('an AbortSignal ends the iteration', async () => {
    const { conn, queue } = await fill('abort', [1])
    const controller = new AbortController()
    const got: unknown[] = []
    for await (const message of conn.consume(queue, { signal: controller.signal })) {
      got.push(message.body)
      message.ack()
      controller.abort()
    }
    expect(got).toEqual([1])
  })

  it('aborting stops at once and requeues what was buffered', async () => {
    const { conn, queue } = await fill('abort-buffered', [1, 2, 3])
    const controller = new AbortController()
    const got: unknown[] = []
    const consumer = conn.consume(queue, { signal: controller.signal, prefetch: 3 })
    for await (const message of consumer) {
      got.push(message.body)
      message.ack()
      // Wait until the other two sit in the consumer's buffer (no longer ready in the queue).
      while ((await queue.bind(conn).queueDeclare()).messageCount > 0) await tick()
      controller.abort()
    }
    expect(got).toEqual([1])
    await tick()
    await tick()
    expect((await queue.bind(conn).queueDeclare()).messageCount).toBe(2)
  })

  it('a broker cancel (queue deleted) ends the iteration and calls onCancel', async () => {
    const { conn, queue } = await fill('doomed', [1])
    const cancelled: string[] = []
    const consumer = conn.consume(queue, { onCancel: (tag) => cancelled.push(tag), tagPrefix: 'mine' })
    const got: unknown[] = []
    for await (const message of consumer) {
      got.push(message.body)
      message.ack()
      await queue.bind(conn).delete()
    }
    expect(got).toEqual([1])
    expect(cancelled).toHaveLength(1)
    expect(cancelled[0]).toMatch(/^mine-/)
  })

  it('takes an exact consumer tag, and refuses one shared by several queues', async () => {
    const { conn, queue } = await fill('tagged', [1])
    const cancelled: string[] = []
    const consumer = conn.consume(queue, { tag: 'orders-worker', onCancel: (tag) => cancelled.push(tag) })
    for await (const message of consumer) {
      expect(message.consumerTag).toBe('orders-worker')
      expect(consumer.consumerTags).toEqual(['orders-worker'])
      message.ack()
      await queue.bind(conn).delete()
    }
    expect(cancelled).toEqual(['orders-worker'])
    expect(() => conn.consumer(['a', 'b'], { tag: 'one' })).toThrow(/needs exactly one queue, got 2/)
    expect(() => conn.consumer('a', { tag: 'one', tagPrefix: 'p' })).toThrow(TypeError)
    expect(() => conn.consumer('a', { tag: '' })).toThrow(/must not be empty/)
  })

  it('the iteration throws when its channel closes on an error', async () => {
    const { conn, queue } = await fill('bad-ack', [1])
    const iteration = (async () => {
      for await (const message of conn.consume(queue)) {
        message.ack()
        // A second ack of the same tag, behind the state machine's back: 406 from the broker.
        message.channel.settle(message as Message<unknown>, { op: 'basic.ack', multiple: false })
      }
    })()
    await expect(iteration).rejects.toThrow(/PRECONDITION_FAILED/)
  })

  it('a callback consumer whose channel closes on an error says so on status', async () => {
    const { conn, queue } = await fill('cb-dies', [1])
    const statuses = conn.status[Symbol.asyncIterator]()
    const channel = await conn.channel()
    const consumer = await new Consumer(channel, {
      queues: queue,
      onMessage: (message) => {
        message.ack()
        message.channel.settle(message as Message<unknown>, { op: 'basic.ack', multiple: false })
      },
    }).consume()
    const event = (await statuses.next()).value as { type: string; error: Error }
    expect(event.type).toBe('error')
    expect(event.error.message).toMatch(/PRECONDITION_FAILED/)
    expect(consumer.active).toBe(false)
  })

  it('recover requeues unacked deliveries, flagged redelivered', async () => {
    const { conn, queue } = await fill('recover', ['a'])
    const seen: Message<unknown>[] = []
    const consumer = await conn.consumer(queue, { onMessage: (m) => void seen.push(m) }).consume()
    await conn.drainEvents({ timeout: 1000 })
    await consumer.recover()
    await conn.drainEvents({ timeout: 1000 })
    expect(seen.map((m) => [m.body, m.redelivered])).toEqual([
      ['a', false],
      ['a', true],
    ])
    expect(seen[0]!.state).toBe('REQUEUED')
    seen[1]!.ack()
  })

  it('a consumer on several queues consumes them all, one tag each', async () => {
    const conn = await env.connect()
    const a = new Queue('multi-a')
    const b = new Queue('multi-b')
    await conn.producer().publish('from a', { routingKey: 'multi-a', declare: [a, b] })
    await conn.producer().publish('from b', { routingKey: 'multi-b' })
    const bodies: unknown[] = []
    const consumer = await conn.consumer([a, b], { callbacks: [(body, m) => (bodies.push(body), m.ack())] }).consume()
    while (bodies.length < 2) await conn.drainEvents({ timeout: 1000 })
    expect(bodies.sort()).toEqual(['from a', 'from b'])
    expect(new Set(consumer.consumerTags).size).toBe(2)
    await consumer.cancelByQueue('multi-a')
    expect(consumer.consumerTags).toHaveLength(1)
    await consumer.cancel()
  })

  it('a server-named queue consumed through the connection gets its name', async () => {
    const conn = await env.connect()
    const consumer = conn.consumer(new Queue('', { exclusive: true }), { callbacks: [() => {}] })
    await consumer.consume()
    expect(consumer.queues[0]!.name).toMatch(/^amq\.gen-/)
  })
})
