/**
 * Stream queues (x-queue-type: stream) as RabbitMQ's for an AMQP 0-9-1 client: an append-only
 * log read without removing anything, from x-stream-offset, each consumer at its own pace.
 * Each rule runs without storage (the log in memory) and on storage (read lazily from it).
 */
import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { startBroker } from '../harness.js'
import { another, declareQueue, publish, setup, type Client, type Env } from './helpers.js'

const STREAM = { 'x-queue-type': 'stream' }

type Setup = Awaited<ReturnType<typeof setup>>

/** A broker (with or without storage) and a declared stream 's'. */
async function withStream(storage: MemoryStorage | undefined, args: Record<string, unknown> = {}): Promise<Setup> {
  const env = await setup(storage ? { storage } : {})
  await declareQueue(env.c, 's', { durable: true, arguments: { ...STREAM, ...args } })
  return env
}

/** Publishes bodies from..to (inclusive) to 's'. */
async function append(c: Client, from: number, to: number, queue = 's'): Promise<void> {
  for (let i = from; i <= to; i++) await publish(c, '', queue, i)
}

/** Consumes with a prefetch on its own channel; returns the consumer tag. */
async function consume(c: Client, channel: number, prefetch: number, offset?: unknown, queue = 's'): Promise<string> {
  await c.ok({ op: 'channel.open', channel })
  await c.ok({ op: 'basic.qos', channel, prefetchCount: prefetch })
  const args = offset === undefined ? {} : { 'x-stream-offset': offset }
  return (await c.ok<{ consumerTag: string }>({ op: 'basic.consume', channel, queue, arguments: args })).consumerTag
}

const deliveredTo = (c: Client, channel: number) => c.deliveries(channel)
const bodies = (c: Client, channel: number) => deliveredTo(c, channel).map((d) => d.body)
const offsets = (c: Client, channel: number) => deliveredTo(c, channel).map((d) => d.properties.headers?.['x-stream-offset'])

/** Waits (polling, no fixed sleep) until `condition` holds, letting microtasks and storage reads run. */
async function until(env: Pick<Env, 'settle'>, condition: () => boolean, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds && !condition(); i++) await env.settle()
  expect(condition()).toBe(true)
}

/** Acks everything delivered on `channel` so far (multiple). */
async function ackAll(c: Client, channel: number): Promise<void> {
  const last = deliveredTo(c, channel).at(-1)
  if (last) c.cast({ op: 'basic.ack', channel, deliveryTag: last.deliveryTag, multiple: true })
}

const storages = [
  ['without storage', () => undefined],
  ['on storage', () => new MemoryStorage()],
] as const

describe('declaring a stream', () => {
  test('a stream is durable only: non-durable, exclusive and auto-delete declarations are 406', async () => {
    const env = await setup()
    for (const flags of [{ durable: false }, { durable: true, exclusive: true }, { durable: true, autoDelete: true }]) {
      const other = await another(env)
      const error = await other.fails({ op: 'queue.declare', queue: 's', ...flags, arguments: STREAM })
      expect(error.replyCode).toBe(406)
    }
  })

  test('a stream refuses the arguments of other queue types with 406 and checks its own', async () => {
    const env = await setup()
    const { c } = env
    for (const args of [{ 'x-message-ttl': 1 }, { 'x-max-length': 1 }, { 'x-dead-letter-exchange': 'd' }, { 'x-max-priority': 2 }, { 'x-max-age': '7 days' }, { 'x-max-length-bytes': -1 }, { 'x-stream-max-segment-size-bytes': 0 }]) {
      const other = await another(env)
      const error = await other.fails({ op: 'queue.declare', queue: 's', durable: true, arguments: { ...STREAM, ...args } })
      expect(error.replyCode).toBe(406)
    }
    const ok = await declareQueue(c, 's', { durable: true, arguments: { ...STREAM, 'x-max-age': '7D', 'x-max-length-bytes': 1000, 'x-stream-max-segment-size-bytes': 100 } })
    expect(ok).toMatchObject({ queue: 's', messageCount: 0 })
  })

  test('redeclaring a stream with another x-max-age or segment size is 406 (equivalence)', async () => {
    const env = await setup()
    const args = { ...STREAM, 'x-max-age': '7D', 'x-stream-max-segment-size-bytes': 100 }
    await declareQueue(env.c, 's', { durable: true, arguments: args })
    for (const changed of [{ 'x-max-age': '1D' }, { 'x-stream-max-segment-size-bytes': 200 }]) {
      const other = await another(env)
      expect((await other.fails({ op: 'queue.declare', queue: 's', durable: true, arguments: { ...args, ...changed } })).replyCode).toBe(406)
    }
    expect(await declareQueue(env.c, 's', { durable: true, arguments: args })).toMatchObject({ queue: 's' })
  })
})

describe.each(storages)('reading a stream (%s)', (_, makeStorage) => {
  test('consuming a stream without a consumer prefetch is 406, with no-ack 540', async () => {
    const { c } = await withStream(makeStorage())
    await c.ok({ op: 'channel.open', channel: 2 })
    expect((await c.fails({ op: 'basic.consume', channel: 2, queue: 's' })).replyCode).toBe(406)
    await c.ok({ op: 'channel.open', channel: 3 })
    await c.ok({ op: 'basic.qos', channel: 3, prefetchCount: 10 })
    expect((await c.fails({ op: 'basic.consume', channel: 3, queue: 's', noAck: true })).replyCode).toBe(540)
  })

  test('basic.get and queue.purge on a stream are 540 not-implemented, as in RabbitMQ', async () => {
    const env = await withStream(makeStorage())
    await append(env.c, 1, 1)
    expect((await env.c.fails({ op: 'basic.get', queue: 's', noAck: false })).replyCode).toBe(540)
    const c2 = env.client()
    await c2.open()
    expect((await c2.fails({ op: 'queue.purge', queue: 's' })).replyCode).toBe(540)
  })

  test('consumers read without removing: each gets every message, acks remove nothing', async () => {
    const env = await withStream(makeStorage())
    const { c } = env
    await append(c, 1, 5)
    await consume(c, 2, 100, 'first')
    await consume(c, 3, 100, 'first')
    await until(env, () => bodies(c, 2).length === 5 && bodies(c, 3).length === 5)
    expect(bodies(c, 2)).toEqual([1, 2, 3, 4, 5])
    expect(bodies(c, 3)).toEqual([1, 2, 3, 4, 5])
    await ackAll(c, 2)
    c.cast({ op: 'basic.reject', channel: 3, deliveryTag: deliveredTo(c, 3)[0]!.deliveryTag, requeue: true })
    await env.settle()
    expect((await declareQueue(c, 's', { durable: true, arguments: STREAM })).messageCount).toBe(5)
    expect(bodies(c, 3)).toEqual([1, 2, 3, 4, 5]) // a requeue does not redeliver on a stream
  })

  test('every delivery carries its x-stream-offset header, from 0 up', async () => {
    const env = await withStream(makeStorage())
    await append(env.c, 1, 3)
    await consume(env.c, 2, 10, 'first')
    await until(env, () => offsets(env.c, 2).length === 3)
    expect(offsets(env.c, 2)).toEqual([0, 1, 2])
  })

  test('the prefetch is a consumer credit: acks give it back, each consumer at its own pace', async () => {
    const env = await withStream(makeStorage())
    const { c } = env
    await append(c, 1, 10)
    await consume(c, 2, 3, 'first')
    await consume(c, 3, 10, 'first')
    await until(env, () => bodies(c, 3).length === 10)
    expect(bodies(c, 2)).toEqual([1, 2, 3])
    await ackAll(c, 2)
    await until(env, () => bodies(c, 2).length === 6)
    expect(bodies(c, 2)).toEqual([1, 2, 3, 4, 5, 6])
    // A nack without requeue gives credit back as well.
    c.cast({ op: 'basic.nack', channel: 2, deliveryTag: deliveredTo(c, 2).at(-1)!.deliveryTag, multiple: true, requeue: false })
    await until(env, () => bodies(c, 2).length === 9)
  })

  test('x-stream-offset: first, last, next (the default), a number, a Date and an interval', async () => {
    const env = await withStream(makeStorage())
    const { c, clock } = env
    await append(c, 0, 4) // offsets 0..4 at t0
    const t1 = clock.now() + 60_000
    clock.advance(60_000)
    await append(c, 5, 9) // offsets 5..9 at t0 + 1 min
    await consume(c, 2, 100, 'first')
    await consume(c, 3, 100, 'last')
    await consume(c, 4, 100, 'next')
    await consume(c, 5, 100) // no offset: next
    await consume(c, 6, 100, 7)
    await consume(c, 7, 100, new Date(t1))
    await consume(c, 8, 100, '30s') // appended in the last 30 seconds
    await consume(c, 9, 100, 1000) // past the end: waits for new messages
    await append(c, 10, 10)
    await until(env, () => [2, 3, 4, 5, 6, 7, 8, 9].every((ch) => bodies(c, ch).at(-1) === 10))
    expect(bodies(c, 2)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(bodies(c, 3)).toEqual([9, 10])
    expect(bodies(c, 4)).toEqual([10])
    expect(bodies(c, 5)).toEqual([10])
    expect(bodies(c, 6)).toEqual([7, 8, 9, 10])
    expect(bodies(c, 7)).toEqual([5, 6, 7, 8, 9, 10])
    expect(bodies(c, 8)).toEqual([5, 6, 7, 8, 9, 10])
    expect(bodies(c, 9)).toEqual([10])
    await c.ok({ op: 'channel.open', channel: 20 })
    await c.ok({ op: 'basic.qos', channel: 20, prefetchCount: 1 })
    expect((await c.fails({ op: 'basic.consume', channel: 20, queue: 's', arguments: { 'x-stream-offset': 'middle' } })).replyCode).toBe(406)
  })

  test('x-max-length-bytes drops whole segments from the head, oldest first', async () => {
    // Bodies 10..99 are 2 bytes: segments of 5 messages (10 bytes), at most 30 bytes kept.
    const env = await withStream(makeStorage(), { 'x-stream-max-segment-size-bytes': 10, 'x-max-length-bytes': 30 })
    const { c } = env
    await append(c, 10, 39)
    const declared = await declareQueue(c, 's', { durable: true, arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 10, 'x-max-length-bytes': 30 } })
    // Retention runs when a segment opens: at body 35 the log held 52 bytes, so the three
    // oldest segments went (10..24), leaving 22 bytes; the open segment then filled to 39.
    expect(declared.messageCount).toBe(15)
    await consume(c, 2, 100, 'first')
    await until(env, () => bodies(c, 2).length === 15)
    expect(bodies(c, 2)).toEqual(Array.from({ length: 15 }, (_, i) => 25 + i))
    expect(offsets(c, 2)[0]).toBe(15) // offsets are never reused: the log starts at 15 now
  })

  test('x-max-age drops whole segments once their newest message is older', async () => {
    const env = await withStream(makeStorage(), { 'x-stream-max-segment-size-bytes': 10, 'x-max-age': '1h' })
    const { c, clock } = env
    await append(c, 10, 19) // two segments at t0
    clock.advance(2 * 3_600_000)
    await append(c, 20, 24) // a new segment: the two older ones are past 1h
    await consume(c, 2, 100, 'first')
    await until(env, () => bodies(c, 2).length === 5)
    expect(bodies(c, 2)).toEqual([20, 21, 22, 23, 24])
  })

  test('a consumer joining at the head follows new messages as they come', async () => {
    const env = await withStream(makeStorage())
    await consume(env.c, 2, 5, 'next')
    for (let i = 1; i <= 3; i++) {
      await append(env.c, i, i)
      await until(env, () => bodies(env.c, 2).length === i)
    }
    expect(bodies(env.c, 2)).toEqual([1, 2, 3])
  })
})

describe('streams on storage', () => {
  test('a long stream is read lazily from storage, in order, by a slow and a fast consumer', async () => {
    const env = await withStream(new MemoryStorage())
    const { c } = env
    await Promise.all(Array.from({ length: 2000 }, (_, i) => publish(c, '', 's', i)))
    await consume(c, 2, 2000, 'first')
    await consume(c, 3, 50, 300)
    await until(env, () => bodies(c, 2).length === 2000)
    expect(bodies(c, 2)).toEqual(Array.from({ length: 2000 }, (_, i) => i))
    for (let round = 0; bodies(c, 3).length < 1700; round++) {
      await until(env, () => bodies(c, 3).length === Math.min(50 * (round + 1), 1700))
      await ackAll(c, 3)
    }
    expect(bodies(c, 3)).toEqual(Array.from({ length: 1700 }, (_, i) => i + 300))
    // The broker holds a short tail, not the log.
    const queue = env.broker.queues.get('s') as unknown as { tail: unknown[] }
    expect(queue.tail.length).toBeLessThanOrEqual(256)
  })

  test('a stream survives a restart: offsets go on, a consumer resumes from the offset the app stored', async () => {
    const storage = new MemoryStorage()
    const env = await withStream(storage)
    await append(env.c, 0, 9)
    await consume(env.c, 2, 4, 'first')
    await until(env, () => bodies(env.c, 2).length === 4)
    // The app stores the offset of the last message it processed.
    const stored = offsets(env.c, 2).at(-1) as number
    await env.settle()
    await env.broker.stop()

    const next = await startBroker({ storage })
    const c = next.client()
    await c.open()
    await append(c, 10, 11)
    await consume(c, 2, 100, stored + 1)
    await until(next, () => bodies(c, 2).length === 8)
    expect(bodies(c, 2)).toEqual([4, 5, 6, 7, 8, 9, 10, 11])
    expect(offsets(c, 2)).toEqual([4, 5, 6, 7, 8, 9, 10, 11])
  })

  test('a stream deleted with queue.delete leaves nothing in storage', async () => {
    const storage = new MemoryStorage()
    const env = await withStream(storage)
    await append(env.c, 0, 4)
    await env.settle()
    expect(await storage.loadStreamSegments('s')).toHaveLength(1)
    await env.c.ok({ op: 'queue.delete', queue: 's' })
    await env.settle()
    expect(await storage.loadStreamSegments('s')).toEqual([])
    expect(await storage.loadStreamEntries('s', 0, 10)).toEqual([])
  })
})
