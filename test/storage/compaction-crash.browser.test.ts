// Recovery after a crash in the middle of a compaction: a worker's storage is stopped inside
// its compaction transaction (after reading the chunk, or after writing the compacted copy
// but before deleting the original), the worker is terminated there, and the page reopens
// the database: every message left is there once, with its updates, and no acked one is back.
import { afterEach, describe, expect, it } from 'vitest'
import { IndexedDBStorage } from '../../src/storage/indexeddb/index.js'
import type { StorageOp, StoredMessage } from '../../src/storage/types.js'
import { message, putAll } from './contract.js'
import { openRaw, req } from './indexeddb-cases.js'

const names = new Set<string>()
afterEach(async () => {
  for (const name of names) await req(indexedDB.deleteDatabase(name))
  names.clear()
})

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const del = (seq: number): StorageOp => ({ kind: 'message.delete', queue: 'q', seq })

/** Chunk ids of queue 'q' as stored. */
async function chunkIds(dbName: string): Promise<number[]> {
  const raw = await openRaw(indexedDB, dbName)
  const keys = await req(raw.transaction('chunks').objectStore('chunks').getAllKeys())
  raw.close()
  return (keys as Array<[string, number]>).map((k) => k[1])
}

function runWorkerUntilPaused(dbName: string, step: 'read' | 'written', ops: StorageOp[]): Promise<Worker> {
  const worker = new Worker(new URL('./compaction-crash.worker.ts', import.meta.url), { type: 'module' })
  return new Promise((resolve, reject) => {
    let acked = false
    worker.onmessage = (event: MessageEvent<{ paused?: string; acked?: boolean; error?: string }>) => {
      if (event.data.error) reject(new Error(event.data.error))
      if (event.data.acked) acked = true
      // The ack batch committed before compaction started: it must survive the crash.
      if (event.data.paused === step) (acked ? resolve(worker) : reject(new Error('paused before the acks committed')))
    }
    worker.onerror = (e) => reject(new Error(e.message))
    worker.postMessage({ dbName, step, ops })
  })
}

describe('IndexedDBStorage: crash in the middle of a compaction', () => {
  for (const step of ['read', 'written'] as const) {
    it(`loses nothing and resurrects nothing when the worker dies at '${step}'`, async () => {
      const dbName = `warren-crash-${crypto.randomUUID()}`
      names.add(dbName)
      const page = new IndexedDBStorage({ vhost: 'crash', dbName })
      await page.open()
      // Two chunks: 1..100 and 101..150. Acking 1..70 leaves 30 of 100: not compactable yet.
      await page.apply(putAll(range(1, 100).map((seq) => message('q', seq))))
      await page.apply(putAll(range(101, 150).map((seq) => message('q', seq))))
      await page.apply([...range(1, 70).map(del), { kind: 'message.update', queue: 'q', seq: 75, redelivered: true, deliveryCount: 3 }])
      await page.close()
      expect(await chunkIds(dbName)).toEqual([0, 1])

      // In the worker: 71..80 and 95 acked (19 of 100 left: compactable), 85 requeued; then it dies mid-compaction.
      const acks: StorageOp[] = [...range(71, 80).map(del), del(95), { kind: 'message.update', queue: 'q', seq: 85, redelivered: true, deliveryCount: 2 }]
      const worker = await runWorkerUntilPaused(dbName, step, acks)
      worker.terminate()

      const expected: StoredMessage[] = [
        ...range(81, 100).filter((seq) => seq !== 95).map((seq) => message('q', seq, seq === 85 ? { redelivered: true, deliveryCount: 2 } : {})),
        ...range(101, 150).map((seq) => message('q', seq)),
      ]
      const reopened = new IndexedDBStorage({ vhost: 'crash', dbName })
      await reopened.open()
      expect(await reopened.loadMessages('q', 0, 1000)).toEqual(expected)
      expect(await reopened.countMessages('q')).toBe(69)
      expect(await reopened.lastSeq('q')).toBe(150)
      // The compaction never committed: the original chunk is still the one stored.
      expect(await chunkIds(dbName)).toEqual([0, 1])

      // The next writer compacts for real (the candidate is found again at open).
      await reopened.apply([del(150)])
      expected.pop()
      await expect.poll(() => chunkIds(dbName)).toEqual([1, 2])
      expect(await reopened.loadMessages('q', 0, 1000)).toEqual(expected)
      await reopened.close()
      const last = new IndexedDBStorage({ vhost: 'crash', dbName })
      await last.open()
      expect(await last.loadMessages('q', 0, 1000)).toEqual(expected)
      expect(await last.loadMessages('q', 90, 5)).toEqual(expected.filter((m) => m.seq > 90).slice(0, 5))
      expect(await last.countMessages('q')).toBe(68)
      await last.close()
    })
  }
})
