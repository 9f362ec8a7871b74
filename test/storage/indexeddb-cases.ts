// IndexedDB-specific tests that run both on fake-indexeddb (Node) and in real Chromium.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { IndexedDBStorage } from '../../src/storage/indexeddb/index.js'
import { argsKey } from '../../src/storage/indexeddb/keys.js'
import type { StorageOp, StoredMessage } from '../../src/storage/types.js'
import { binding, exchange, message, putAll, queue, streamAppend } from './contract.js'

export interface IdbEnv {
  /** The factory to use for the current test. */
  factory(): IDBFactory
  /** A database name not used by any other test. */
  uniqueName(): string
}

const seqs = (messages: StoredMessage[]): number[] => messages.map((m) => m.seq)

export function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
}

export function txDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error)
  })
}

export function openRaw(factory: IDBFactory, name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = factory.open(name, version)
    r.onupgradeneeded = () => upgrade?.(r.result)
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
}

/** Builds a database in the documented schema v1 layout, by hand, with raw IndexedDB. */
export async function createV1Database(factory: IDBFactory, name: string): Promise<void> {
  const db = await openRaw(factory, name, 1, (d) => {
    d.createObjectStore('meta')
    d.createObjectStore('exchanges', { keyPath: 'name' })
    d.createObjectStore('queues', { keyPath: 'name' })
    d.createObjectStore('bindings', { keyPath: ['source', 'destinationKind', 'destination', 'routingKey', 'argsKey'] })
    d.createObjectStore('messages_v1')
  })
  const tx = db.transaction(['meta', 'exchanges', 'queues', 'bindings', 'messages_v1'], 'readwrite')
  tx.objectStore('meta').put(7, 'epoch')
  tx.objectStore('exchanges').put(exchange('jobs-ex', { type: 'topic' }))
  tx.objectStore('queues').put(queue('jobs'))
  tx.objectStore('queues').put(queue('jobs:x'))
  for (const b of [binding('jobs-ex', 'jobs', 'a.*', { k: 1 }), binding('jobs-ex', 'jobs:x', '#')]) {
    tx.objectStore('bindings').put({ ...b, argsKey: argsKey(b.arguments) })
  }
  for (const q of ['jobs', 'jobs:x']) {
    for (const seq of [100, 11, 10, 9, 2, 1]) {
      tx.objectStore('messages_v1').put(message(q, seq, { deliveryCount: seq % 3 }), `${q}:${seq}`)
    }
  }
  await txDone(tx)
  db.close()
}

const STORES_V4 = ['bindings', 'chunks', 'exchanges', 'heads', 'meta', 'queues', 'streamEntries', 'streamSegments']

/** Builds a database in the documented schema v2 layout, by hand, with raw IndexedDB. */
export async function createV2Database(factory: IDBFactory, name: string): Promise<void> {
  const db = await openRaw(factory, name, 2, (d) => {
    d.createObjectStore('meta')
    d.createObjectStore('exchanges', { keyPath: 'name' })
    d.createObjectStore('queues', { keyPath: 'name' })
    d.createObjectStore('bindings', { keyPath: ['source', 'destinationKind', 'destination', 'routingKey', 'argsKey'] })
      .createIndex('byDestination', ['destinationKind', 'destination'])
    d.createObjectStore('messages', { keyPath: ['queue', 'seq'] })
  })
  const tx = db.transaction(['meta', 'queues', 'bindings', 'messages'], 'readwrite')
  tx.objectStore('meta').put(3, 'epoch')
  tx.objectStore('meta').put(2, 'schemaVersion')
  tx.objectStore('meta').put({ count: 3, lastSeq: 3 }, 'q:orders')
  tx.objectStore('queues').put(queue('orders'))
  const b = binding('amq.direct', 'orders', 'o')
  tx.objectStore('bindings').put({ ...b, argsKey: argsKey(b.arguments) })
  for (const seq of [1, 2, 3]) tx.objectStore('messages').put(message('orders', seq))
  await txDone(tx)
  db.close()
}

export function indexedDBCases(name: string, env: IdbEnv): void {
  describe(`IndexedDBStorage: ${name}`, () => {
    const made: IndexedDBStorage[] = []
    afterEach(async () => {
      vi.restoreAllMocks()
      for (const s of made.splice(0)) await s.close().catch(() => undefined)
    })
    const make = (dbName = env.uniqueName(), durability?: 'relaxed' | 'strict'): IndexedDBStorage => {
      const s = new IndexedDBStorage({ vhost: 'v', dbName, factory: env.factory(), durability })
      made.push(s)
      return s
    }

    it('names the database after the vhost', () => {
      expect(new IndexedDBStorage({ vhost: 'orders', factory: env.factory() }).dbName).toBe('warren:orders')
    })

    it('commits all apply calls of one turn in one readwrite transaction, strict if any asked', async () => {
      const s = make()
      await s.open()
      const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
      const calls = Array.from({ length: 50 }, (_, i) => s.apply(putAll([message('q', i + 1)])))
      await Promise.all(calls)
      const writes = () => spy.mock.calls.filter((c) => c[1] === 'readwrite')
      expect(writes()).toHaveLength(1)
      expect(writes()[0]![2]).toEqual({ durability: 'relaxed' })
      await Promise.all([s.apply(putAll([message('q', 51)])), s.apply(putAll([message('q', 52)]), 'strict')])
      expect(writes()).toHaveLength(2)
      expect(writes()[1]![2]).toEqual({ durability: 'strict' })
      expect(await s.countMessages('q')).toBe(52)
    })

    it('writes everything strictly when the storage default is strict', async () => {
      const s = make(undefined, 'strict')
      await s.open()
      const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
      await s.apply(putAll([message('q', 1)]), 'relaxed')
      await s.apply(putAll([message('q', 2)]))
      const writes = spy.mock.calls.filter((c) => c[1] === 'readwrite')
      expect(writes.map((c) => c[2])).toEqual([{ durability: 'strict' }, { durability: 'strict' }])
    })

    it('gathers calls made while a transaction is in flight into the next one', async () => {
      const s = make()
      await s.open()
      const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
      const first = s.apply(putAll([message('q', 1)]))
      await Promise.resolve()
      await Promise.resolve()
      // The first batch is closed and in flight; these three form the second.
      const rest = [2, 3, 4].map((n) => s.apply(putAll([message('q', n)])))
      await Promise.all([first, ...rest])
      expect(spy.mock.calls.filter((c) => c[1] === 'readwrite')).toHaveLength(2)
      expect(await s.countMessages('q')).toBe(4)
    })

    it('keeps the counters in meta, written in the same transaction', async () => {
      const dbName = env.uniqueName()
      const s = make(dbName)
      await s.open()
      await s.apply(putAll([message('a', 1), message('a', 5), message('b:c', 2)]))
      await s.apply([{ kind: 'message.delete', queue: 'a', seq: 1 }])
      await s.close()
      const raw = await openRaw(env.factory(), dbName)
      const meta = raw.transaction('meta').objectStore('meta')
      const [keys, values] = await Promise.all([req(meta.getAllKeys()), req(meta.getAll())])
      raw.close()
      expect(Object.fromEntries(keys.map((k, i) => [k, values[i]]))).toEqual({
        epoch: 1,
        schemaVersion: 4,
        'q:a': { count: 1, lastSeq: 5 },
        'q:b:c': { count: 1, lastSeq: 2 },
      })
    })

    it('migrates a version 1 database without loss', async () => {
      const dbName = env.uniqueName()
      await createV1Database(env.factory(), dbName)
      const s = make(dbName)
      expect((await s.open()).epoch).toBe(8)
      const defs = await s.loadDefinitions()
      expect(defs.exchanges).toEqual([exchange('jobs-ex', { type: 'topic' })])
      expect(defs.queues.map((q) => q.name).sort()).toEqual(['jobs', 'jobs:x'])
      expect(defs.bindings).toHaveLength(2)
      for (const q of ['jobs', 'jobs:x']) {
        const loaded = await s.loadMessages(q, 0, 100)
        // v1's string keys sorted "jobs:10" before "jobs:9"; v2 is in seq order.
        expect(seqs(loaded)).toEqual([1, 2, 9, 10, 11, 100])
        expect(loaded[3]).toEqual(message(q, 10, { deliveryCount: 1 }))
        expect(await s.countMessages(q)).toBe(6)
      }
      expect(seqs(await s.loadMessages('jobs', 9, 2))).toEqual([10, 11])
      // The destination index exists after the migration: queue.delete finds the binding.
      await s.apply([{ kind: 'queue.delete', name: 'jobs' }])
      expect((await s.loadDefinitions()).bindings.map((b) => b.destination)).toEqual(['jobs:x'])
      // New writes continue after the migrated counters.
      await s.apply(putAll([message('jobs:x', 101)]))
      expect(await s.countMessages('jobs:x')).toBe(7)
      await s.close()
      const raw = await openRaw(env.factory(), dbName)
      expect(raw.version).toBe(4)
      expect([...raw.objectStoreNames].sort()).toEqual(STORES_V4)
      raw.close()
    })

    it('migrates a version 2 database without loss and adds the stream stores', async () => {
      const dbName = env.uniqueName()
      await createV2Database(env.factory(), dbName)
      const s = make(dbName)
      expect((await s.open()).epoch).toBe(4)
      expect((await s.loadDefinitions()).bindings.map((b) => b.destination)).toEqual(['orders'])
      expect(seqs(await s.loadMessages('orders', 0, 10))).toEqual([1, 2, 3])
      expect(await s.countMessages('orders')).toBe(3)
      expect(await s.lastSeq('orders')).toBe(3)
      expect(await s.loadStreamSegments('events')).toEqual([])
      await s.apply([streamAppend('events', 0, 2)])
      expect((await s.loadStreamEntries('events', 0, 10)).map((e) => e.offset)).toEqual([0, 1, 2])
      // The destination index survived: queue.delete still finds the binding.
      await s.apply([{ kind: 'queue.delete', name: 'orders' }])
      expect((await s.loadDefinitions()).bindings).toEqual([])
      await s.close()
      const raw = await openRaw(env.factory(), dbName)
      expect(raw.version).toBe(4)
      expect([...raw.objectStoreNames].sort()).toEqual(STORES_V4)
      raw.close()
    })

    it('steps aside when another context deletes the database, and reopens lazily', async () => {
      const dbName = env.uniqueName()
      const s = make(dbName)
      await s.open()
      await s.apply(putAll([message('q', 1)]))
      await req(env.factory().deleteDatabase(dbName)) // would block forever if we kept the connection
      await s.apply(putAll([message('q', 2)]))
      expect(seqs(await s.loadMessages('q', 0, 10))).toEqual([2])
      expect(await s.countMessages('q')).toBe(1)
    })

    it('handles an update-heavy batch (requeue of many) with one barrier', async () => {
      const s = make()
      await s.open()
      await s.apply(putAll(Array.from({ length: 300 }, (_, i) => message('q', i + 1))))
      const ops: StorageOp[] = Array.from({ length: 300 }, (_, i) => ({
        kind: 'message.update', queue: 'q', seq: i + 1, redelivered: true, deliveryCount: 1,
      }))
      await s.apply([...ops, { kind: 'message.delete', queue: 'q', seq: 150 }])
      const loaded = await s.loadMessages('q', 0, 1000)
      expect(loaded).toHaveLength(299)
      expect(loaded.every((m) => m.redelivered && m.deliveryCount === 1)).toBe(true)
      expect(await s.countMessages('q')).toBe(299)
    })
  })
}
