/**
 * Bounded memory (src/engine/paging.ts): a durable queue keeps at most a window of ready
 * messages in memory and pages the rest from storage, without changing what a consumer sees.
 */
import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import type { StoredMessage } from '../../../src/storage/types.js'
import { PERSISTENT, range, settle, start } from './setup.js'

type Session = Awaited<ReturnType<typeof start>>

/** Consumes `n` messages with acks (prefetch window), acking as they come; returns the deliveries. */
async function consumeAll(s: Session, queue: string, n: number, prefetch = 50) {
  const before = s.deliveries().length
  await s.consume(queue, { prefetch })
  let acked = before
  let idle = 0
  while (s.deliveries().length - before < n) {
    await settle(1)
    const all = s.deliveries()
    if (all.length > acked) {
      s.ack(all[all.length - 1]!.deliveryTag, true)
      acked = all.length
      idle = 0
    } else if (++idle > 200) throw new Error(`stalled after ${all.length - before} of ${n} deliveries`)
  }
  const all = s.deliveries()
  if (all.length > acked) s.ack(all[all.length - 1]!.deliveryTag, true)
  return all.slice(before)
}

/** A storage whose loads can be held back or failed, to see what happens while a page is in flight. */
class GatedStorage extends MemoryStorage {
  gate: Promise<void> | undefined
  failLoads = 0
  loads = 0
  override async loadMessages(queue: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    this.loads++
    if (this.gate) await this.gate
    if (this.failLoads > 0) {
      this.failLoads--
      throw new Error('injected load failure')
    }
    return super.loadMessages(queue, afterSeq, limit)
  }
}

describe('paging', () => {
  test('a queue past its window keeps the window in memory and counts the rest', async () => {
    const s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('q')
    const replies = await s.publishAll('q', range(1, 100))
    expect(replies.every((r) => r.op === 'ok')).toBe(true)
    expect(s.broker.queues.get('q')!.ready.length).toBe(10)
    expect(s.paged('q')).toBe(90)
    expect(await s.count('q')).toBe(100)
    expect(s.broker.inspect().queues.find((q) => q.name === 'q')).toMatchObject({ ready: 100, paged: 90 })
    expect(await s.storage.countMessages('q')).toBe(100)
  })

  test('order is kept across pages with transient messages interleaved, and memory stays bounded', async () => {
    const s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('q')
    // Every third message is transient: it may not overtake persistent ones on disk.
    await s.publishAll('q', range(1, 100), (body) => ((body as number) % 3 === 0 ? {} : PERSISTENT))
    const q = s.broker.queues.get('q')!
    expect(q.ready.length).toBeLessThanOrEqual(10)
    expect(s.paged('q')).toBeGreaterThan(0)
    expect(await s.count('q')).toBe(100)
    let maxReady = 0
    const deliveries: unknown[] = []
    await s.consume('q', { prefetch: 3 })
    for (let idle = 0; deliveries.length < 100 && idle < 200; ) {
      await settle(1)
      maxReady = Math.max(maxReady, q.ready.length)
      const fresh = s.deliveries().slice(deliveries.length)
      if (fresh.length === 0) {
        idle++
        continue
      }
      idle = 0
      deliveries.push(...fresh.map((d) => d.body))
      s.ack(fresh[fresh.length - 1]!.deliveryTag, true)
    }
    expect(deliveries).toEqual(range(1, 100))
    // A merged page may bring its due transients along, beyond the window.
    expect(maxReady).toBeLessThanOrEqual(10 + 5)
    expect(await s.count('q')).toBe(0)
    expect(await s.storage.countMessages('q')).toBe(0)
  })

  test('publishes during a page load queue up behind it, in order', async () => {
    const storage = new GatedStorage()
    const s = await start(storage, { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 30))
    let open!: () => void
    storage.gate = new Promise((resolve) => (open = resolve))
    const taken = []
    for (let i = 0; i < 6; i++) taken.push((await s.get('q'))!.body)
    expect(storage.loads).toBe(1) // below half the window: a page is on its way
    const during = s.publishAll('q', range(31, 40), (body) => ((body as number) % 2 ? PERSISTENT : {}))
    await settle()
    open()
    storage.gate = undefined
    await during
    const rest = (await s.takeAll('q')).map((m) => m.body)
    expect([...taken, ...rest]).toEqual(range(1, 40))
  })

  test('a requeue into a paged queue goes back to its place, ahead of the paged messages', async () => {
    const s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 50))
    const tags = []
    for (let i = 0; i < 5; i++) tags.push((await s.get('q', false))!.deliveryTag)
    await s.publishAll('q', range(51, 60))
    s.nack(tags[4]!, true, true)
    const all = await s.takeAll('q')
    expect(all.map((m) => m.body)).toEqual(range(1, 60))
    expect(all.filter((m) => m.redelivered).map((m) => m.body)).toEqual(range(1, 5))
  })

  test('paged messages with a TTL expire when they reach the head, dead-lettered in order', async () => {
    const s = await start(new MemoryStorage(), { window: 5 })
    await s.declare('dlq')
    await s.declare('q', { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' })
    await s.publishAll('q', range(1, 20))
    expect(s.paged('q')).toBe(15)
    for (let i = 0; i < 50 && (await s.count('q')) > 0; i++) {
      s.clock.advance(1000)
      await settle()
    }
    expect(await s.count('q')).toBe(0)
    expect((await s.takeAll('dlq')).map((m) => m.body)).toEqual(range(1, 20))
  })

  test('a page whose head expired while on disk skips the dead messages on get', async () => {
    const s = await start(new MemoryStorage(), { window: 4 })
    await s.declare('q')
    await s.publishAll('q', range(1, 4))
    await s.publishAll('q', range(5, 8), () => ({ ...PERSISTENT, expiration: '100' }))
    await s.publishAll('q', range(9, 10))
    s.clock.advance(200)
    const bodies = (await s.takeAll('q')).map((m) => m.body)
    expect(bodies).toEqual([1, 2, 3, 4, 9, 10])
  })

  test('drop-head with paged messages drops the oldest, on disk too, and keeps the limit', async () => {
    const s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('dropped')
    await s.declare('q', { 'x-max-length': 30, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dropped' })
    const replies = await s.publishAll('q', range(1, 50))
    expect(replies.every((r) => r.op === 'ok')).toBe(true)
    await settle()
    expect(await s.count('q')).toBe(30)
    expect((await s.takeAll('dropped')).map((m) => m.body)).toEqual(range(1, 20))
    expect((await s.takeAll('q')).map((m) => m.body)).toEqual(range(21, 50))
    expect(await s.storage.countMessages('q')).toBe(0)
  })

  test('reject-publish counts paged messages', async () => {
    const s = await start(new MemoryStorage(), { window: 5 })
    await s.declare('q', { 'x-max-length': 12, 'x-overflow': 'reject-publish' })
    const replies = await s.publishAll('q', range(1, 15))
    expect(replies.map((r) => r.op)).toEqual([...Array(12).fill('ok'), 'error', 'error', 'error'])
    expect((await s.takeAll('q')).map((m) => m.body)).toEqual(range(1, 12))
  })

  test('purge removes paged messages from storage but not unacked ones', async () => {
    const s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 50))
    const tags = []
    for (let i = 0; i < 5; i++) tags.push((await s.get('q', false))!.deliveryTag)
    expect(await s.ok({ op: 'queue.purge', queue: 'q' })).toEqual({ messageCount: 45 })
    await settle()
    expect(await s.count('q')).toBe(0)
    expect(await s.storage.countMessages('q')).toBe(5) // the unacked ones
    await s.publishAll('q', range(51, 53))
    s.nack(tags[4]!, true, true)
    const all = await s.takeAll('q')
    expect(all.map((m) => m.body)).toEqual([1, 2, 3, 4, 5, 51, 52, 53])
    expect(await s.storage.countMessages('q')).toBe(0)
  })

  test('a purge while a page is loading discards that page', async () => {
    const storage = new GatedStorage()
    const s = await start(storage, { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 30))
    let open!: () => void
    storage.gate = new Promise((resolve) => (open = resolve))
    for (let i = 0; i < 6; i++) await s.get('q')
    expect(storage.loads).toBe(1)
    expect(await s.ok({ op: 'queue.purge', queue: 'q' })).toEqual({ messageCount: 24 })
    open()
    storage.gate = undefined
    await settle()
    expect(await s.count('q')).toBe(0)
    await s.publishAll('q', [31])
    expect((await s.takeAll('q')).map((m) => m.body)).toEqual([31])
    expect(await storage.countMessages('q')).toBe(0)
  })

  test('deleting a paged queue reports and drops every message', async () => {
    const s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 50))
    expect(await s.ok({ op: 'queue.delete', queue: 'q' })).toEqual({ messageCount: 50 })
    await settle()
    expect(await s.storage.countMessages('q')).toBe(0)
  })

  test('a failed page load is retried, and a get waits for the page', async () => {
    const storage = new GatedStorage()
    const s = await start(storage, { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 30))
    storage.failLoads = 1
    const taken = []
    for (let i = 0; i < 6; i++) taken.push((await s.get('q'))!.body)
    await settle()
    expect(s.broker.stats.storageFailures).toBe(1)
    // A consumer resumes when the retry (1 s later) brings the page in.
    await s.consume('q', { noAck: true })
    await settle()
    expect(s.deliveries().length).toBe(4)
    s.clock.advance(1000)
    await settle(20)
    expect([...taken, ...s.deliveries().map((d) => d.body)]).toEqual(range(1, 30))
  })

  test('basic.get on a queue whose memory part is empty answers from the next page', async () => {
    const storage = new GatedStorage()
    const s = await start(storage, { window: 4 })
    await s.declare('q')
    await s.publishAll('q', range(1, 9))
    const bodies = (await s.takeAll('q')).map((m) => m.body)
    expect(bodies).toEqual(range(1, 9))
    expect(storage.loads).toBeGreaterThan(0)
  })

  test('priority queues are not paged', async () => {
    const s = await start(new MemoryStorage(), { window: 5 })
    await s.declare('q', { 'x-max-priority': 5 })
    await s.publishAll('q', range(1, 20))
    expect(s.broker.queues.get('q')!.paging).toBeUndefined()
    expect(s.broker.queues.get('q')!.ready.length).toBe(20)
  })

  test('transient queues and brokers without storage are not paged', async () => {
    const s = await start(new MemoryStorage(), { window: 5 })
    await s.declare('t', {}, false)
    await s.publishAll('t', range(1, 20))
    expect(s.broker.queues.get('t')!.paging).toBeUndefined()
    expect(s.broker.queues.get('t')!.ready.length).toBe(20)
  })

  // Not when on-indexeddb.node.test.ts reruns this file: fake-indexeddb is slow at 200,000 (minutes).
  test.skipIf((globalThis as { warrenSlowStorage?: boolean }).warrenSlowStorage)('heap bound: 200,000 persistent messages with a window of 1,000 keep at most 1,000 in memory', async () => {
    const s = await start(new MemoryStorage(), { window: 1000 })
    await s.declare('q')
    const q = s.broker.queues.get('q')!
    let maxInMemory = 0
    for (let from = 1; from <= 200_000; from += 2000) {
      const replies = await s.publishAll('q', range(from, from + 1999))
      if (replies.some((r) => r.op !== 'ok')) throw new Error('a publish was not confirmed')
      maxInMemory = Math.max(maxInMemory, s.inMemory('q'))
    }
    expect(maxInMemory).toBeLessThanOrEqual(1000)
    expect(await s.count('q')).toBe(200_000)
    expect(s.paged('q')).toBe(199_000)
    const deliveries = await consumeAll(s, 'q', 200_000, 500)
    let inOrder = true
    for (let i = 0; i < deliveries.length; i++) if (deliveries[i]!.body !== i + 1) inOrder = false
    expect(inOrder).toBe(true)
    expect(q.ready.length).toBe(0)
    await settle()
    expect(await s.storage.countMessages('q')).toBe(0)
  }, 120_000)
})
