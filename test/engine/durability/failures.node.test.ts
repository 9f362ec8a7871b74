/**
 * Storage failures (quota, closed database): the publish whose write failed gets a nack
 * (error code NACK, the client's PublishNackError), the broker keeps serving, the next
 * writes succeed, and no confirmed message is lost.
 */
import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { PERSISTENT, range, settle, start } from './setup.js'

describe('storage failures', () => {
  test('a failed write nacks that publish; the broker keeps serving and the next writes succeed', async () => {
    const storage = new MemoryStorage()
    const s = await start(storage, { window: 100 })
    await s.declare('q')
    expect((await s.publish('q', 1)).op).toBe('ok')
    storage.failApplies('quota')
    const nacked = await s.publish('q', 2)
    expect(nacked).toMatchObject({ op: 'error', error: { code: 'NACK', name: 'PublishNackError' } })
    expect((nacked as { error: { message: string } }).error.message).toMatch(/quota/)
    expect((await s.publish('q', 3)).op).toBe('ok')
    expect(s.broker.stats.storageFailures).toBe(1)
    // Still serving: declares, gets, consumers.
    await s.declare('other')
    expect((await s.publish('other', 'x')).op).toBe('ok')
    await settle()
    // What is stored is what was confirmed.
    expect((await storage.loadMessages('q', 0, 10)).map((m) => m.body)).toEqual([1, 3])
    await s.broker.stop()
    const after = await start(storage, { window: 100 })
    expect((await after.takeAll('q')).map((m) => m.body)).toEqual([1, 3])
  })

  test('a stream of confirmed publishes across a failing period: every confirmed message survives a restart', async () => {
    const storage = new MemoryStorage()
    const s = await start(storage, { window: 20 })
    await s.declare('q')
    const confirmed: number[] = []
    for (let batch = 0; batch < 10; batch++) {
      if (batch === 3) storage.failApplies('quota', 3)
      if (batch === 6) storage.failApplies('closed', 1)
      const bodies = range(batch * 25 + 1, batch * 25 + 25)
      const replies = await s.publishAll('q', bodies)
      replies.forEach((reply, i) => {
        if (reply.op === 'ok') confirmed.push(bodies[i]!)
        else expect(reply).toMatchObject({ op: 'error', error: { code: 'NACK' } })
      })
    }
    expect(confirmed.length).toBeLessThan(250)
    expect(confirmed.length).toBeGreaterThan(150)
    await settle()
    await s.broker.stop()
    const after = await start(storage, { window: 20 })
    const bodies = (await after.takeAll('q')).map((m) => m.body)
    expect(bodies).toEqual(confirmed)
  })

  test('a paged write that fails is no longer counted; transients held behind it go to memory', async () => {
    const storage = new MemoryStorage()
    const s = await start(storage, { window: 5 })
    await s.declare('q')
    await s.publishAll('q', range(1, 5))
    storage.failApplies('quota')
    // In one turn: a persistent message that will be paged (its write fails), then a transient one behind it.
    const [paged, transient] = await Promise.all([s.publish('q', 6), s.publish('q', 7, {})])
    expect(paged).toMatchObject({ op: 'error', error: { code: 'NACK' } })
    expect(transient.op).toBe('ok')
    await settle()
    expect(s.paged('q')).toBe(0)
    expect(await s.count('q')).toBe(6)
    expect((await s.publish('q', 8, PERSISTENT)).op).toBe('ok')
    expect((await s.takeAll('q')).map((m) => m.body)).toEqual([1, 2, 3, 4, 5, 7, 8])
  })

  test('paged writes failing among good ones keep the count exact and the order', async () => {
    const storage = new MemoryStorage()
    const s = await start(storage, { window: 5 })
    await s.declare('q')
    await s.publishAll('q', range(1, 10))
    storage.failApplies('aborted')
    const replies = await s.publishAll('q', range(11, 20))
    const confirmedPaged = range(11, 20).filter((_, i) => replies[i]!.op === 'ok')
    expect(confirmedPaged.length).toBeLessThan(10)
    await settle()
    expect(await s.count('q')).toBe(10 + confirmedPaged.length)
    expect((await s.takeAll('q')).map((m) => m.body)).toEqual([...range(1, 10), ...confirmedPaged])
  })

  test('a failing delete (ack) does not stop the broker; the message may come back after a restart, redelivered', async () => {
    const storage = new MemoryStorage()
    const s = await start(storage, { window: 10 })
    await s.declare('q')
    await s.publishAll('q', [1, 2])
    const first = (await s.get('q', false))!
    storage.failApplies('quota')
    s.ack(first.deliveryTag)
    await settle()
    expect(s.broker.stats.storageFailures).toBe(1)
    expect((await s.get('q'))!.body).toBe(2)
    await s.broker.stop()
    const after = await start(storage, { window: 10 })
    // At-least-once: an ack that did not reach storage redelivers, flagged.
    expect(await after.takeAll('q')).toEqual([{ body: 1, redelivered: true }])
  })
})
