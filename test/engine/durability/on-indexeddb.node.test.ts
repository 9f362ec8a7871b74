// The broker's durability suites again, with IndexedDBStorage (schema v4, packed chunks, on
// fake-indexeddb) wherever they use MemoryStorage: recovery of definitions and messages,
// acks, requeues, purge, delete, TTL, priorities, dead-lettering, quorum delivery counts,
// paging and recovery of big backlogs. Each storage gets a database of its own.
import 'fake-indexeddb/auto'
import { vi } from 'vitest'

vi.mock('../../../src/storage/memory.js', async () => {
  const { IndexedDBStorage } = await import('../../../src/storage/indexeddb/index.js')
  const { IDBFactory } = await import('fake-indexeddb')
  let made = 0
  class MemoryStorage extends IndexedDBStorage {
    constructor() {
      super({ vhost: `engine-${++made}`, factory: new IDBFactory() })
    }

    /**
     * MemoryStorage applies at once; these suites read counts right after the broker wrote
     * acks in the background. An empty apply settles after every write issued before it.
     */
    override async countMessages(queue: string): Promise<number> {
      await this.apply([])
      return super.countMessages(queue)
    }
  }
  return { MemoryStorage }
})

// Skips paging's 200,000-message heap bound (the real one is measured in Chromium: npm run bench).
;(globalThis as { warrenSlowStorage?: boolean }).warrenSlowStorage = true
await import('../rules/recovery.node.test.js')
await import('../rules/queue-types.node.test.js')
await import('./recovery.node.test.js')
await import('./paging.node.test.js')
