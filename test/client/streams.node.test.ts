// Stream queues through the public client API: declared with queueType 'stream', read with
// conn.consume(q, { prefetch, offset }), over memory:// and across a broker restart.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection, Queue, type Message } from '../../src/index.js'
import { queueArguments } from '../../src/client/queue-arguments.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { setup, type Setup } from './helpers.js'

/** Takes `n` messages from an async iteration, acking each. */
async function take<T>(iteration: AsyncIterable<Message<T>>, n: number): Promise<Message<T>[]> {
  const out: Message<T>[] = []
  if (n === 0) return out
  for await (const message of iteration) {
    message.ack()
    out.push(message)
    if (out.length === n) break
  }
  return out
}

const offsetsOf = (messages: Message<unknown>[]) => messages.map((m) => m.headers['x-stream-offset'])

describe('stream queues (client API)', () => {
  let env: Setup | undefined
  const opened: Connection[] = []
  afterEach(async () => {
    for (const conn of opened.splice(0)) await conn.close()
    await env?.close()
    env = undefined
  })

  it('maps queueType, maxAge and maxSegmentSizeBytes to the x-arguments RabbitMQ takes', () => {
    expect(queueArguments({ maxAge: '7D', maxLengthBytes: 1000, maxSegmentSizeBytes: 100 })).toEqual({
      'x-max-age': '7D',
      'x-max-length-bytes': 1000,
      'x-stream-max-segment-size-bytes': 100,
    })
    // Milliseconds become whole seconds, rounded up: RabbitMQ takes a duration string only.
    expect(queueArguments({ maxAge: 90_500 })).toEqual({ 'x-max-age': '91s' })
    expect(new Queue('events', { queueType: 'stream', maxAge: '1h' }).arguments).toMatchObject({ 'x-queue-type': 'stream', 'x-max-age': '1h' })
  })

  it('over memory://, consumers replay a stream from their own offset, each with its own credit', async () => {
    const conn = await Connection.open({ url: `memory://streams-${Date.now()}` })
    opened.push(conn)
    const events = new Queue<number>('events', { queueType: 'stream', maxAge: '7D', maxLengthBytes: 10_000_000 })
    const producer = conn.producer<number>()
    for (let i = 0; i < 5; i++) await producer.publish(i, { routingKey: 'events', declare: [events] })
    const all = await take(conn.consume(events, { prefetch: 2, offset: 'first' }), 5)
    expect(all.map((m) => m.body)).toEqual([0, 1, 2, 3, 4])
    expect(offsetsOf(all)).toEqual([0, 1, 2, 3, 4])
    const fromThree = await take(conn.consume(events, { prefetch: 10, offset: 3 }), 2)
    expect(fromThree.map((m) => m.body)).toEqual([3, 4])
    // Reading removed nothing.
    expect((await events.bind(conn).queueDeclare()).messageCount).toBe(5)
  })

  it('a consumer resumes after a broker restart from the offset the app stored', async () => {
    env = await setup({ storage: new MemoryStorage() })
    const conn = await env.connect()
    const events = new Queue<number>('events', { queueType: 'stream' })
    const producer = conn.producer<number>()
    for (let i = 0; i < 6; i++) await producer.publish(i, { routingKey: 'events', declare: [events] })
    const firstRead = await take(conn.consume(events, { prefetch: 3, offset: 'first' }), 3)
    const stored = firstRead.at(-1)!.headers['x-stream-offset'] as number
    await env.broker.restart()
    await producer.publish(6, { routingKey: 'events', declare: [events] })
    const resumed = await take(conn.consume(events, { prefetch: 3, offset: stored + 1 }), 4)
    expect(resumed.map((m) => m.body)).toEqual([3, 4, 5, 6])
    expect(offsetsOf(resumed)).toEqual([3, 4, 5, 6])
  })

  it('a live consumer resumes after the last message it received when the broker restarts, not from its first offset', async () => {
    env = await setup({ storage: new MemoryStorage() })
    const conn = await env.connect()
    const events = new Queue<number>('events', { queueType: 'stream' })
    const producer = conn.producer<number>()
    for (let i = 0; i < 3; i++) await producer.publish(i, { routingKey: 'events', declare: [events] })
    const seen: unknown[] = []
    await conn.consumer(events, { prefetch: 10, offset: 'first', onMessage: (m) => (seen.push(m.body), m.ack()) }).consume()
    await vi.waitFor(() => expect(seen).toEqual([0, 1, 2]))
    await env.broker.restart()
    for (let i = 3; i < 5; i++) await producer.publish(i, { routingKey: 'events', declare: [events] })
    await vi.waitFor(() => expect(seen).toEqual([0, 1, 2, 3, 4]))
  })
})
