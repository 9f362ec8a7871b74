import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '../../src/storage/memory.js'
import { StorageFailure } from '../../src/storage/types.js'
import { message, putAll, storageContract } from './contract.js'

// Reopen = close and open the same instance: the instance is the "disk".
storageContract('memory', () => new MemoryStorage())

describe('MemoryStorage', () => {
  it('counts epochs per open() on one instance, as a restarted broker would see', async () => {
    const s = new MemoryStorage()
    expect((await s.open()).epoch).toBe(1)
    await s.close()
    expect((await s.open()).epoch).toBe(2)
    expect(s.currentEpoch).toBe(2)
  })

  it('failApplies() makes the next applies reject without changing anything', async () => {
    const s = new MemoryStorage()
    await s.open()
    s.failApplies('quota', 2)
    const first = s.apply(putAll([message('q', 1)])).catch((e: unknown) => e)
    const second = s.apply(putAll([message('q', 2)])).catch((e: unknown) => e)
    const third = s.apply(putAll([message('q', 3)]))
    expect(await first).toBeInstanceOf(StorageFailure)
    expect(((await second) as StorageFailure).reason).toBe('quota')
    await third
    expect(await s.countMessages('q')).toBe(1)
  })

  it('stays ordered through many holes and out-of-order puts', async () => {
    const s = new MemoryStorage()
    await s.open()
    await s.apply(putAll(Array.from({ length: 500 }, (_, i) => message('q', 500 - i))))
    await s.apply(Array.from({ length: 400 }, (_, i) => ({ kind: 'message.delete' as const, queue: 'q', seq: i * 1.25 + 1 })))
    const left = (await s.loadMessages('q', 0, 1000)).map((m) => m.seq)
    expect(left).toEqual([...left].sort((a, b) => a - b))
    expect(await s.countMessages('q')).toBe(left.length)
    await s.apply(putAll([message('q', 1)]))
    expect((await s.loadMessages('q', 0, 1))[0]!.seq).toBe(1)
  })
})
