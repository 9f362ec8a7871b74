// Idempotent publishing from the client's side: every attempt of one publish() carries one
// publish id, a retry names the broker the earlier attempt went to, and across a broker
// restart the retry is either confirmed as a duplicate or delivered flagged redelivered.
import { afterEach, describe, expect, it } from 'vitest'
import { Queue, type Message } from '../../src/index.js'
import type { BasicPublish } from '../../src/protocol/frames.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import type { Durability, Storage, StorageOp } from '../../src/storage/types.js'
import { ops, setup, spy, type Setup } from './helpers.js'

/** Storage on a MemoryStorage disk whose message writes can be made to hang: committed or not, no confirm comes. */
class HangingStorage implements Storage {
  /** 'committed': message writes reach the disk, the promise never settles; 'lost': neither. */
  hang: 'committed' | 'lost' | undefined
  constructor(readonly disk = new MemoryStorage()) {}
  open() { return this.disk.open() }
  loadDefinitions() { return this.disk.loadDefinitions() }
  loadMessages(queue: string, afterSeq: number, limit: number) { return this.disk.loadMessages(queue, afterSeq, limit) }
  countMessages(queue: string) { return this.disk.countMessages(queue) }
  lastSeq(queue: string) { return this.disk.lastSeq(queue) }
  loadStreamSegments(stream: string) { return this.disk.loadStreamSegments(stream) }
  loadStreamEntries(stream: string, from: number, limit: number) { return this.disk.loadStreamEntries(stream, from, limit) }
  close() { return this.disk.close() }
  apply(ops: readonly StorageOp[], durability?: Durability) {
    if (!this.hang || !ops.some((op) => op.kind === 'message.put')) return this.disk.apply(ops, durability)
    if (this.hang === 'committed') void this.disk.apply(ops, durability)
    return new Promise<void>(() => {})
  }
}

const until = async (condition: () => boolean, timeout = 2000) => {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('idempotent publishing across a broker restart', () => {
  let env: Setup
  afterEach(() => env.close())

  it('a retry of a message the broker stored but never confirmed is confirmed as a duplicate: one copy', async () => {
    const storage = new HangingStorage()
    env = await setup({ storage })
    const frames = spy(env.broker.connector)
    const conn = await env.connect({ transport: frames.connector })
    const queue = new Queue('q').bind(conn)
    await queue.declare()
    const first = env.broker.broker.brokerId
    storage.hang = 'committed'
    const publishing = conn.producer().publish('once', { routingKey: 'q' })
    // The broker has it (stored; its confirm hangs), not merely the client's link.
    await until(() => env.broker.broker.queues.get('q')?.messageCount === 1)
    storage.hang = undefined
    await env.broker.restart()
    expect(await publishing).toEqual({ routed: true, duplicate: true })
    const [original, retry] = ops(frames.sent, 'basic.publish') as BasicPublish[]
    expect(retry!.publishId).toBe(original!.publishId)
    expect(original!.retryOf).toBeUndefined()
    expect(retry!.retryOf).toBe(first)
    expect(env.broker.broker.stats.deduplicatedPublishes).toBe(1)
    expect((await queue.queueDeclare({ passive: true })).messageCount).toBe(1)
  })

  it('a retry whose original was delivered but lost with the broker comes again flagged redelivered', async () => {
    const storage = new HangingStorage()
    env = await setup({ storage })
    const conn = await env.connect()
    const got: Message<string>[] = []
    await conn.consumer(new Queue<string>('q'), { onMessage: (m) => void got.push(m) }).consume()
    storage.hang = 'lost'
    const publishing = conn.producer().publish('once', { routingKey: 'q' })
    await until(() => got.length === 1)
    expect(got[0]).toMatchObject({ body: 'once', redelivered: false })
    storage.hang = undefined
    await env.broker.restart()
    expect(await publishing).toEqual({ routed: true })
    await until(() => got.length === 2)
    expect(got[1]).toMatchObject({ body: 'once', redelivered: true })
  })

  it('publish ids differ between publishes and producers; a given one is used as it is', async () => {
    env = await setup()
    const frames = spy(env.broker.connector)
    const conn = await env.connect({ transport: frames.connector })
    await new Queue('q').bind(conn).declare()
    const a = conn.producer()
    const b = conn.producer()
    await a.publish(1, { routingKey: 'q' })
    await a.publish(2, { routingKey: 'q' })
    await b.publish(3, { routingKey: 'q' })
    await a.publish(4, { routingKey: 'q', publishId: 'order-4' })
    expect(await a.publish(4, { routingKey: 'q', publishId: 'order-4', repeated: true })).toEqual({ routed: true, duplicate: true })
    const sent = ops(frames.sent, 'basic.publish') as BasicPublish[]
    const ids = sent.map((f) => f.publishId)
    expect(new Set(ids.slice(0, 3)).size).toBe(3)
    expect(ids.slice(3)).toEqual(['order-4', 'order-4'])
    expect(sent.map((f) => f.retryOf)).toEqual([undefined, undefined, undefined, undefined, ''])
  })
})
