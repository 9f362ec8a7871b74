/**
 * Recovery with bounded memory: a restarted broker loads the first window of each queue,
 * counts the rest from storage, flags everything recovered as redelivered and continues
 * seqs above the highest ever stored.
 */
import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { range, seedBacklog, settle, start } from './setup.js'

type Session = Awaited<ReturnType<typeof start>>

async function restart(s: Session, window = 10): Promise<Session> {
  await settle()
  await s.broker.stop()
  return start(s.storage, { window })
}

describe('recovery with paging', () => {
  test('a 100,000-message backlog recovers with one window in memory and is consumed in order, nothing lost', async () => {
    const storage = new MemoryStorage()
    await seedBacklog(storage, 'q', 100_000)
    const s = await start(storage, { window: 1000 })
    expect(s.broker.queues.get('q')!.ready.length).toBe(1000)
    expect(s.paged('q')).toBe(99_000)
    expect(await s.count('q')).toBe(100_000)
    // A publish after the restart goes behind the backlog, with a fresh seq.
    expect((await s.publish('q', 'new')).op).toBe('ok')
    await s.consume('q', { prefetch: 1000 })
    let seen = 0
    let inOrder = true
    let allRedelivered = true
    let maxReady = 0
    for (let idle = 0; seen < 100_001 && idle < 200; ) {
      await settle(1)
      const all = s.deliveries()
      maxReady = Math.max(maxReady, s.broker.queues.get('q')!.ready.length)
      if (all.length === seen) {
        idle++
        continue
      }
      idle = 0
      for (let i = seen; i < all.length; i++) {
        const d = all[i]!
        if (i < 100_000) {
          if (d.body !== i + 1) inOrder = false
          if (!d.redelivered) allRedelivered = false
        }
      }
      seen = all.length
      s.ack(all[seen - 1]!.deliveryTag, true)
    }
    expect(seen).toBe(100_001)
    expect(inOrder).toBe(true)
    expect(allRedelivered).toBe(true)
    const last = s.deliveries()[100_000]!
    expect([last.body, last.redelivered]).toEqual(['new', false])
    expect(maxReady).toBeLessThanOrEqual(1000)
    await settle()
    expect(await storage.countMessages('q')).toBe(0)
    expect(await storage.lastSeq('q')).toBe(100_001)
  }, 120_000)

  test('messages paged before a restart come back, in order, all flagged redelivered', async () => {
    let s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 45))
    await s.publishAll('q', range(46, 50), () => ({})) // transient: gone after the restart
    s = await restart(s, 10)
    expect(await s.count('q')).toBe(45)
    expect(s.paged('q')).toBe(35)
    await s.publishAll('q', range(51, 55))
    const all = await s.takeAll('q')
    expect(all.map((m) => m.body)).toEqual([...range(1, 45), ...range(51, 55)])
    expect(all.map((m) => m.redelivered)).toEqual([...Array(45).fill(true), ...Array(5).fill(false)])
  })

  test('a restart with a larger window loads more; with a smaller one, pages more', async () => {
    let s = await start(new MemoryStorage(), { window: 100 })
    await s.declare('q')
    await s.publishAll('q', range(1, 60))
    s = await restart(s, 7)
    expect(s.broker.queues.get('q')!.ready.length).toBe(7)
    expect(s.paged('q')).toBe(53)
    s = await restart(s, 1000)
    expect(s.broker.queues.get('q')!.ready.length).toBe(60)
    expect(s.paged('q')).toBe(0)
    expect((await s.takeAll('q')).map((m) => m.body)).toEqual(range(1, 60))
  })

  test('a queue emptied before a restart continues above its last seq (seqs are never reused)', async () => {
    let s = await start(new MemoryStorage(), { window: 10 })
    await s.declare('q')
    await s.publishAll('q', range(1, 3))
    expect((await s.takeAll('q')).length).toBe(3)
    s = await restart(s)
    await s.publishAll('q', ['after'])
    await settle()
    const stored = await s.storage.loadMessages('q', 0, 10)
    expect(stored.map((m) => [m.seq, m.body])).toEqual([[4, 'after']])
  })

  test('unacked messages at a restart come back redelivered, ahead of the paged ones', async () => {
    let s = await start(new MemoryStorage(), { window: 5 })
    await s.declare('q')
    await s.publishAll('q', range(1, 20))
    for (let i = 0; i < 3; i++) await s.get('q', false) // delivered, never acked
    s = await restart(s, 5)
    const all = await s.takeAll('q')
    expect(all.map((m) => m.body)).toEqual(range(1, 20))
    expect(all.every((m) => m.redelivered)).toBe(true)
  })
})
