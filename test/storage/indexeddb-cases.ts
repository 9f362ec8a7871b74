// IndexedDB-specific tests that run both on fake-indexeddb (Node) and in real Chromium.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { IndexedDBStorage } from '../../src/storage/indexeddb/index.js'
import { CHUNK_BYTES } from '../../src/storage/indexeddb/chunks.js'
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

/**
 * What a v2 or v3 database held, message by message: several queues, more messages than one
 * chunk takes (MIGRATION_CHUNK), gaps left by acks, priorities, headers, redelivery and
 * delivery counts, publish ids, expiry, a delayed exchange's held message, and a queue
 * whose messages were all acked (only its counter is left).
 */
export function legacyMessages(): StoredMessage[] {
  const out: StoredMessage[] = []
  // 'big': 1,200 seqs with every 7th acked (gone from the store).
  for (let seq = 1; seq <= 1200; seq++) {
    if (seq % 7 === 0) continue
    out.push(message('big', seq, {
      properties: { deliveryMode: 2, priority: seq % 10, headers: { n: seq, tag: `t${seq % 3}`, nested: { a: [seq, 'x'] } } },
      redelivered: seq % 5 === 0,
      deliveryCount: seq % 4,
      ...(seq % 11 === 0 ? { publishId: `pub-${seq}` } : {}),
      ...(seq % 13 === 0 ? { expiresAt: 1_000_000 + seq } : {}),
    }))
  }
  // 'prio': a priority queue with seqs far apart (transient messages took the seqs between).
  for (const seq of [3, 40, 41, 900, 901, 5000]) {
    out.push(message('prio', seq, { properties: { deliveryMode: 2, priority: seq % 7, headers: { 'x-first-death-reason': 'rejected' } } }))
  }
  out.push(message('_delayed:later', 8, { dueAt: 123_456 }))
  return out
}

const LEGACY_COUNTERS: Record<string, { count: number; lastSeq: number }> = {
  big: { count: 1200 - Math.floor(1200 / 7), lastSeq: 1203 }, // 1,201..1,203 were acked at the tail
  prio: { count: 6, lastSeq: 5000 },
  '_delayed:later': { count: 1, lastSeq: 8 },
  drained: { count: 0, lastSeq: 77 },
}

/** Builds a database in the documented v2 (or v3, with the stream stores) layout, by hand, with raw IndexedDB. */
export async function createLegacyDatabase(factory: IDBFactory, name: string, version: 2 | 3): Promise<void> {
  const db = await openRaw(factory, name, version, (d) => {
    d.createObjectStore('meta')
    d.createObjectStore('exchanges', { keyPath: 'name' })
    d.createObjectStore('queues', { keyPath: 'name' })
    d.createObjectStore('bindings', { keyPath: ['source', 'destinationKind', 'destination', 'routingKey', 'argsKey'] })
      .createIndex('byDestination', ['destinationKind', 'destination'])
    d.createObjectStore('messages', { keyPath: ['queue', 'seq'] })
    if (version === 3) {
      d.createObjectStore('streamEntries', { keyPath: ['stream', 'offset'] })
      d.createObjectStore('streamSegments', { keyPath: ['stream', 'firstOffset'] })
    }
  })
  const stores = ['meta', 'queues', 'messages', ...(version === 3 ? ['streamEntries', 'streamSegments'] : [])]
  const tx = db.transaction(stores, 'readwrite')
  tx.objectStore('meta').put(5, 'epoch')
  tx.objectStore('meta').put(version, 'schemaVersion')
  for (const [q, c] of Object.entries(LEGACY_COUNTERS)) tx.objectStore('meta').put(c, `q:${q}`)
  for (const q of ['big', 'prio', 'drained']) tx.objectStore('queues').put(queue(q, q === 'prio' ? { arguments: { 'x-max-priority': 10 } } : {}))
  for (const m of legacyMessages()) tx.objectStore('messages').put(m)
  if (version === 3) {
    const append = streamAppend('events', 0, 4) as Extract<StorageOp, { kind: 'stream.append' }>
    tx.objectStore('streamSegments').put(append.segment)
    for (const e of append.entries) tx.objectStore('streamEntries').put(e)
  }
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

    it('opens with one strict transaction after the database opens: index, epoch and definitions', async () => {
      const dbName = env.uniqueName()
      const first = make(dbName)
      await first.open()
      await first.apply([{ kind: 'queue.put', queue: queue('jobs') }, ...putAll([message('jobs', 1)])])
      await first.close()
      const s = make(dbName)
      const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
      expect((await s.open()).epoch).toBe(2)
      expect((await s.loadDefinitions()).queues.map((q) => q.name)).toEqual(['jobs'])
      expect(await s.countMessages('jobs')).toBe(1)
      // One transaction, strict (the epoch must never repeat), and none for the definitions.
      expect(spy.mock.calls.map((c) => [c[1], c[2]])).toEqual([['readwrite', { durability: 'strict' }]])
      // Once anything is written, the definitions are read again, not served from the open.
      await s.apply([{ kind: 'queue.put', queue: queue('more') }])
      expect((await s.loadDefinitions()).queues.map((q) => q.name).sort()).toEqual(['jobs', 'more'])
      spy.mockRestore()
      await s.close()
      expect((await make(dbName).open()).epoch).toBe(3)
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

    for (const version of [2, 3] as const) {
      it(`migrates a hand-built version ${version} database to packed chunks: every message, field, gap, counter and order`, async () => {
        const dbName = env.uniqueName()
        await createLegacyDatabase(env.factory(), dbName, version)
        const s = make(dbName)
        expect((await s.open()).epoch).toBe(6)
        const expected = legacyMessages()
        for (const q of ['big', 'prio', '_delayed:later']) {
          const mine = expected.filter((m) => m.queue === q)
          // All at once, and in pages that start inside a chunk.
          expect(await s.loadMessages(q, 0, 10_000)).toEqual(mine)
          const paged: StoredMessage[] = []
          for (let after = 0; ; ) {
            const page = await s.loadMessages(q, after, 333)
            paged.push(...page)
            if (page.length < 333) break
            after = page[page.length - 1]!.seq
          }
          expect(paged).toEqual(mine)
          expect(await s.countMessages(q)).toBe(LEGACY_COUNTERS[q]!.count)
          expect(await s.lastSeq(q)).toBe(LEGACY_COUNTERS[q]!.lastSeq)
        }
        expect(await s.countMessages('drained')).toBe(0)
        expect(await s.lastSeq('drained')).toBe(77)
        if (version === 3) expect((await s.loadStreamEntries('events', 2, 10)).map((e) => e.offset)).toEqual([2, 3, 4])
        // Acks and requeues on migrated chunks, kept across a reopen.
        await s.apply([
          { kind: 'message.delete', queue: 'big', seq: 1 },
          { kind: 'message.deleteRange', queue: 'big', fromSeq: 500, toSeq: 999 },
          { kind: 'message.update', queue: 'big', seq: 2, redelivered: true, deliveryCount: 9 },
          { kind: 'message.put', message: message('big', 1204) },
        ])
        await s.close()
        const again = make(dbName)
        await again.open()
        const after = expected.filter((m) => m.queue === 'big' && m.seq !== 1 && (m.seq < 500 || m.seq > 999))
        after[0] = { ...after[0]!, redelivered: true, deliveryCount: 9 }
        after.push(message('big', 1204))
        expect(await again.loadMessages('big', 0, 10_000)).toEqual(after)
        expect(await again.countMessages('big')).toBe(after.length)
        expect(await again.lastSeq('big')).toBe(1204)
        await again.close()
        const raw = await openRaw(env.factory(), dbName)
        expect(raw.version).toBe(4)
        expect([...raw.objectStoreNames].sort()).toEqual(STORES_V4)
        // Packed: 'big' moved as chunks of up to CHUNK_BYTES, not 1,000-odd records.
        const chunkCount = await req(raw.transaction('chunks').objectStore('chunks').count(IDBKeyRange.bound(['big', -Infinity], ['big', Infinity])))
        raw.close()
        expect(chunkCount).toBeLessThanOrEqual(Math.ceil(1200 / Math.floor(CHUNK_BYTES / (6 + 256))) + 1)
      }, 20_000)
    }

    it('packs one group commit of a queue into one chunk, and acks rewrite heads, not messages', async () => {
      const dbName = env.uniqueName()
      const s = make(dbName)
      await s.open()
      await Promise.all(Array.from({ length: 500 }, (_, i) => s.apply(putAll([message('q', i + 1)]))))
      await s.apply(putAll([message('q', 501), message('other', 1)]))
      const raw = await openRaw(env.factory(), dbName)
      const stored = await req(raw.transaction('chunks').objectStore('chunks').getAll())
      raw.close()
      const sizes = (q: string) => stored.filter((c: { queue: string }) => c.queue === q).map((c: { messages: unknown[] }) => c.messages.length)
      expect(sizes('other')).toEqual([1])
      // 500 in one commit: a few chunks (each kept under CHUNK_BYTES), then 1 for the next commit.
      expect(sizes('q').reduce((a, b) => a + b)).toBe(501)
      expect(sizes('q').length).toBe(Math.ceil(500 / Math.floor(CHUNK_BYTES / (6 + 256))) + 1)
      expect(sizes('q').at(-1)).toBe(1)
    })

    it('compacts a chunk once three quarters of it are acked: same messages, updates kept, fewer bytes', async () => {
      const dbName = env.uniqueName()
      const s = make(dbName)
      await s.open()
      await s.apply(putAll(Array.from({ length: 100 }, (_, i) => message('q', i + 1))))
      await s.apply([
        { kind: 'message.deleteRange', queue: 'q', fromSeq: 1, toSeq: 60 },
        { kind: 'message.update', queue: 'q', seq: 90, redelivered: true, deliveryCount: 4 },
      ])
      const chunkMessages = async () => {
        const raw = await openRaw(env.factory(), dbName)
        const all = await req(raw.transaction('chunks').objectStore('chunks').getAll())
        raw.close()
        return all.map((c: { id: number; messages: unknown[] }) => [c.id, c.messages.length])
      }
      expect(await chunkMessages()).toEqual([[0, 100]]) // 40 of 100 left: not yet
      await s.apply(Array.from({ length: 16 }, (_, i): StorageOp => ({ kind: 'message.delete', queue: 'q', seq: 61 + 2 * i })))
      await vi.waitFor(async () => expect(await chunkMessages()).toEqual([[1, 24]]))
      const expected = Array.from({ length: 40 }, (_, i) => 61 + i)
        .filter((seq) => seq > 92 || seq % 2 === 0)
        .map((seq) => message('q', seq, seq === 90 ? { redelivered: true, deliveryCount: 4 } : {}))
      expect(await s.loadMessages('q', 0, 100)).toEqual(expected)
      expect(await s.loadMessages('q', 70, 3)).toEqual(expected.filter((m) => m.seq > 70).slice(0, 3))
      // The compacted chunk takes acks and updates like any other, across a reopen.
      await s.apply([
        { kind: 'message.delete', queue: 'q', seq: 62 },
        { kind: 'message.update', queue: 'q', seq: 100, redelivered: true, deliveryCount: 1 },
      ])
      await s.close()
      const again = make(dbName)
      await again.open()
      expected.shift()
      expected[expected.length - 1] = message('q', 100, { redelivered: true, deliveryCount: 1 })
      expect(await again.loadMessages('q', 0, 100)).toEqual(expected)
      expect(await again.countMessages('q')).toBe(23)
    })

    it('merges the small chunks of a publisher with one message in flight, so heads do not grow per message', async () => {
      const dbName = env.uniqueName()
      const s = make(dbName)
      await s.open()
      for (let seq = 1; seq <= 150; seq++) await s.apply(putAll([message('q', seq)]))
      await s.apply([{ kind: 'message.update', queue: 'q', seq: 7, redelivered: true, deliveryCount: 2 }, { kind: 'message.delete', queue: 'q', seq: 8 }])
      const chunkSizes = async () => {
        const raw = await openRaw(env.factory(), dbName)
        const all = await req(raw.transaction('chunks').objectStore('chunks').getAll())
        raw.close()
        return all.map((c: { messages: unknown[] }) => c.messages.length)
      }
      // 150 one-message commits: merged once 64 small chunks piled up, and again.
      await vi.waitFor(async () => expect((await chunkSizes()).length).toBeLessThan(64))
      const expected = Array.from({ length: 150 }, (_, i) => i + 1)
        .filter((seq) => seq !== 8)
        .map((seq) => message('q', seq, seq === 7 ? { redelivered: true, deliveryCount: 2 } : {}))
      expect(await s.loadMessages('q', 0, 1000)).toEqual(expected)
      expect(await s.loadMessages('q', 60, 10)).toEqual(expected.filter((m) => m.seq > 60).slice(0, 10))
      expect(await s.countMessages('q')).toBe(149)
      await s.close()
      const again = make(dbName)
      await again.open()
      expect(await again.loadMessages('q', 0, 1000)).toEqual(expected)
      expect(await again.countMessages('q')).toBe(149)
      expect(await again.lastSeq('q')).toBe(150)
    }, 20_000)

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
