// IndexedDBStorage on fake-indexeddb: a fresh factory per test. The globals (IDBKeyRange,
// IDBDatabase...) come from fake-indexeddb/auto, as idb and the storage expect them.
import 'fake-indexeddb/auto'
import { forceCloseDatabase, IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { IndexedDBStorage } from '../../src/storage/indexeddb/index.js'
import { StorageFailure, type Storage } from '../../src/storage/types.js'
import { message, putAll, storageContract } from './contract.js'
import { indexedDBCases } from './indexeddb-cases.js'

let factory = new IDBFactory()
let counter = 0
beforeEach(() => {
  factory = new IDBFactory()
})

const make = (): Storage => new IndexedDBStorage({ vhost: 'contract', factory })
const reopen = async (s: Storage): Promise<Storage> => {
  await s.close()
  return new IndexedDBStorage({ vhost: 'contract', factory })
}

storageContract('IndexedDB (fake-indexeddb)', make, reopen)
storageContract('IndexedDB (fake-indexeddb), same instance reopened', make)
indexedDBCases('fake-indexeddb', { factory: () => factory, uniqueName: () => `db-${++counter}` })

/** A factory that remembers the raw connections it opened, so a test can force-close them. */
function watchedFactory(): { factory: IDBFactory; connections: IDBDatabase[] } {
  const f = new IDBFactory()
  const connections: IDBDatabase[] = []
  const open = f.open.bind(f)
  f.open = (name: string, version?: number) => {
    const r = open(name, version)
    r.addEventListener('success', () => connections.push(r.result))
    return r
  }
  return { factory: f, connections }
}

type FakeTransaction = IDBTransaction & { _abort(name: string): void }

describe('IndexedDBStorage failures (fake-indexeddb)', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('maps QuotaExceededError to StorageFailure("quota") for every caller of the batch, and recovers', async () => {
    const s = new IndexedDBStorage({ vhost: 'quota', factory })
    await s.open()
    await s.apply(putAll([message('q', 1)]))
    const original = IDBDatabase.prototype.transaction
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args) {
      const tx = original.apply(this, args) as FakeTransaction
      // As a full disk would: the transaction aborts with QuotaExceededError.
      if (args[1] === 'readwrite') queueMicrotask(() => tx._abort('QuotaExceededError'))
      return tx
    })
    const results = await Promise.allSettled([
      s.apply(putAll([message('q', 2)])),
      s.apply([{ kind: 'message.delete', queue: 'q', seq: 1 }]),
    ])
    for (const r of results) {
      expect(r.status).toBe('rejected')
      const err = (r as PromiseRejectedResult).reason
      expect(err).toBeInstanceOf(StorageFailure)
      expect((err as StorageFailure).reason).toBe('quota')
      expect((err as StorageFailure).cause).toBeInstanceOf(DOMException)
    }
    vi.restoreAllMocks()
    // Nothing of the failed batch is there; counters untouched; writes work again.
    expect(await s.countMessages('q')).toBe(1)
    expect((await s.loadMessages('q', 0, 10)).map((m) => m.seq)).toEqual([1])
    await s.apply(putAll([message('q', 3)]))
    expect((await s.loadMessages('q', 0, 10)).map((m) => m.seq)).toEqual([1, 3])
    expect(await s.countMessages('q')).toBe(2)
    await s.close()
  })

  it('maps a plain abort to StorageFailure("aborted")', async () => {
    const s = new IndexedDBStorage({ vhost: 'abort', factory })
    await s.open()
    const original = IDBDatabase.prototype.transaction
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args) {
      const tx = original.apply(this, args)
      if (args[1] === 'readwrite') queueMicrotask(() => tx.abort())
      return tx
    })
    const err = await s.apply(putAll([message('q', 1)])).catch((e: unknown) => e)
    expect((err as StorageFailure).reason).toBe('aborted')
    vi.restoreAllMocks()
    await s.apply(putAll([message('q', 1)]))
    expect(await s.countMessages('q')).toBe(1)
    await s.close()
  })

  it('reopens lazily after the browser closes the connection', async () => {
    const { factory: f, connections } = watchedFactory()
    const s = new IndexedDBStorage({ vhost: 'closing', factory: f })
    await s.open()
    await s.apply(putAll([message('q', 1)]))
    forceCloseDatabase(connections.at(-1) as never)
    await s.apply(putAll([message('q', 2)]))
    expect(connections).toHaveLength(2)
    expect((await s.loadMessages('q', 0, 10)).map((m) => m.seq)).toEqual([1, 2])
    expect(await s.countMessages('q')).toBe(2)
    // Closed while a batch is in flight (as Chromium does it: the transaction aborts, then
    // the connection closes): that batch fails as a whole, the next one reopens.
    const original = IDBDatabase.prototype.transaction
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args) {
      const tx = original.apply(this, args)
      if (args[1] === 'readwrite') {
        queueMicrotask(() => {
          tx.abort()
          forceCloseDatabase(this as never)
        })
      }
      return tx
    })
    const err = await s.apply(putAll([message('q', 3)])).catch((e: unknown) => e)
    vi.restoreAllMocks()
    expect(err).toBeInstanceOf(StorageFailure)
    expect((err as StorageFailure).reason).toBe('aborted')
    await s.apply(putAll([message('q', 4)]))
    expect((await s.loadMessages('q', 0, 10)).map((m) => m.seq)).toEqual([1, 2, 4])
    expect(await s.countMessages('q')).toBe(3)
    // Reads reopen too.
    forceCloseDatabase(connections.at(-1) as never)
    expect((await s.loadDefinitions()).queues).toEqual([])
    await s.close()
  })

  it('fails open() with StorageFailure("closed") when the database is newer than this code', async () => {
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = factory.open('warren:future', 99)
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    raw.close()
    const s = new IndexedDBStorage({ vhost: 'future', factory })
    const err = await s.open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StorageFailure)
    expect((err as StorageFailure).reason).toBe('closed')
    expect(((err as StorageFailure).cause as DOMException).name).toBe('VersionError')
  })
})
