// Opens a storage whose compaction stops at one step (the test probe), acks enough to make a
// chunk compactable, and says so once compaction is paused there: the test then kills this worker.
import { COMPACTION_PROBE, IndexedDBStorage, type CompactionStep } from '../../src/storage/indexeddb/storage.js'
import type { StorageOp } from '../../src/storage/types.js'

interface Job {
  dbName: string
  step: CompactionStep
  ops: StorageOp[]
}

self.onmessage = async (event: MessageEvent<Job>) => {
  const { dbName, step, ops } = event.data
  const storage = new IndexedDBStorage({
    vhost: 'crash',
    dbName,
    [COMPACTION_PROBE]: async (at) => {
      if (at !== step) return
      postMessage({ paused: at })
      await new Promise<never>(() => {}) // held here until the worker is terminated
    },
  })
  try {
    await storage.open()
    await storage.apply(ops)
    postMessage({ acked: true })
  } catch (err) {
    postMessage({ error: String(err) })
  }
}
