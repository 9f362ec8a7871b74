/**
 * The on-disk layout. The IndexedDB version number IS the schema version; every change
 * of layout bumps it and adds a step to `upgrade` that migrates old data without loss.
 *
 * Version 4 (current): messages packed, several to a record (see chunks.ts):
 *   chunks     keyPath [queue, id]: MessageChunk, the messages of one queue written by one
 *              group commit (or one compaction), in seq order, cut at CHUNK_BYTES (chunks.ts).
 *              Written once, never updated.
 *   heads      keyPath [queue, id]: ChunkHead, what a chunk holds and which of its messages
 *              are gone (acked, purged) or updated (redelivered, delivery count). Small: all
 *              heads load at open, and an ack rewrites a head, not a message.
 *   A chunk and its head are deleted together once none of its messages is left; a chunk
 *   mostly gone is compacted into a new one (new id) in one transaction.
 *   meta, exchanges, queues, bindings, streamEntries, streamSegments as in v3.
 *   v3 → v4 moves `messages` into chunks (at most MIGRATION_CHUNK messages, CHUNK_BYTES), then deletes it.
 *
 * Version 3: version 2 plus the stream queues' logs:
 *   streamEntries   keyPath [stream, offset]: read lazily with getAll over a key range
 *   streamSegments  keyPath [stream, firstOffset]: a few numbers per segment, loaded whole
 *   Retention deletes a key range of each (whole segments).
 *
 * Version 2:
 *   meta       out-of-line string keys:
 *                'schemaVersion' → the version
 *                'epoch'         → number, +1 per Storage.open()
 *                'q:' + queue    → QueueCounter { count, lastSeq } (count() is O(n), so we keep one)
 *   exchanges  keyPath 'name'
 *   queues     keyPath 'name'
 *   bindings   keyPath [source, destinationKind, destination, routingKey, argsKey],
 *              index 'byDestination' on [destinationKind, destination]
 *   messages   keyPath [queue, seq]: a queue's messages read in seq order with one getAll
 *              over IDBKeyRange.bound([queue, after], [queue, Infinity], true)
 *
 * Version 1 (older layout, migrated by upgrade()):
 *   meta         'epoch' only (no counters, no 'schemaVersion')
 *   exchanges, queues as in v2; bindings as in v2 but without the 'byDestination' index
 *   messages_v1  out-of-line string keys `${queue}:${seq}`. Strings sort "q:10" before "q:9",
 *                so v1 had to read a queue whole and sort it; v2 fixes that with array keys.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb'
import type { StoredBinding, StoredExchange, StoredMessage, StoredQueue, StoredStreamEntry, StoredStreamSegment } from '../types.js'
import { headOf, packBySize } from './chunks.js'
import { argsKey } from './keys.js'

export const SCHEMA_VERSION = 4

/** Messages per chunk when migrating a v3 (or older) message store. */
export const MIGRATION_CHUNK = 1000

export interface QueueCounter {
  /** Messages stored for the queue. */
  count: number
  /** Highest seq ever stored for the queue (0 when none). */
  lastSeq: number
}

export type MetaValue = number | QueueCounter

export interface BindingRecord extends StoredBinding {
  argsKey: string
}

export type BindingKey = [string, string, string, string, string]
export type MessageKey = [string, number]

/** The messages of one queue stored by one write, ascending by seq. */
export interface MessageChunk {
  queue: string
  id: number
  messages: StoredMessage[]
}

/**
 * What a chunk holds, without its messages. Positions index the chunk's messages array.
 * `seqs` only when the seqs are not first, first+1, ... (transient messages took seqs between).
 */
export interface ChunkHead {
  queue: string
  id: number
  first: number
  n: number
  seqs?: number[]
  /** Bitmap by position: the message is gone (acked, purged, replaced). */
  gone?: Uint8Array
  /** Messages not gone. */
  live: number
  /** message.update by position: [position, redelivered ? 1 : 0, deliveryCount]. */
  updates?: Array<[number, number, number]>
}

export type ChunkKey = [string, number]

export interface WarrenDB extends DBSchema {
  meta: { key: string; value: MetaValue }
  exchanges: { key: string; value: StoredExchange }
  queues: { key: string; value: StoredQueue }
  bindings: { key: BindingKey; value: BindingRecord; indexes: { byDestination: [string, string] } }
  chunks: { key: ChunkKey; value: MessageChunk }
  heads: { key: ChunkKey; value: ChunkHead }
  streamEntries: { key: [string, number]; value: StoredStreamEntry }
  streamSegments: { key: [string, number]; value: StoredStreamSegment }
}

export type StoreName = StoreNames<WarrenDB>
export type WarrenDatabase = IDBPDatabase<WarrenDB>

export const counterKey = (queue: string): string => `q:${queue}`
/** All counter keys: 'q:' up to (not including) 'q;', the next character after ':'. */
export const counterRange = (): IDBKeyRange => IDBKeyRange.bound('q:', 'q;', false, true)
export const queueOfCounterKey = (key: string): string => key.slice(2)

/** Every chunk (or head) of a queue. */
export const allChunksOf = (queue: string): IDBKeyRange =>
  IDBKeyRange.bound([queue, -Infinity], [queue, Infinity])

/** A stream's keys (entries or segments) from `from` up to, not including, `before`. */
export const streamRange = (stream: string, from = -Infinity, before = Infinity): IDBKeyRange =>
  IDBKeyRange.bound([stream, from], [stream, before], false, true)

export const toBindingRecord = (b: StoredBinding): BindingRecord => ({ ...b, argsKey: argsKey(b.arguments) })
export const bindingKeyOf = (b: StoredBinding): BindingKey =>
  [b.source, b.destinationKind, b.destination, b.routingKey, argsKey(b.arguments)]
export function fromBindingRecord(r: BindingRecord): StoredBinding {
  const { argsKey: _, ...binding } = r
  return binding
}

const BINDING_KEY_PATH = ['source', 'destinationKind', 'destination', 'routingKey', 'argsKey']

/**
 * Runs inside the versionchange transaction. Synchronous schema changes first, then the
 * data migration (async, but only awaiting requests of this transaction, so it stays alive).
 */
export async function upgrade(
  db: IDBPDatabase<WarrenDB>,
  oldVersion: number,
  tx: IDBPTransaction<WarrenDB, StoreName[], 'versionchange'>,
): Promise<void> {
  if (oldVersion < 1) {
    // Fresh database: create the current layout directly.
    db.createObjectStore('meta')
    db.createObjectStore('exchanges', { keyPath: 'name' })
    db.createObjectStore('queues', { keyPath: 'name' })
    db.createObjectStore('bindings', { keyPath: BINDING_KEY_PATH })
      .createIndex('byDestination', ['destinationKind', 'destination'])
    createChunkStores(db)
    createStreamStores(db)
  } else {
    if (oldVersion < 2) await migrateV1toV2(db, tx)
    // v2 → v3: streams are new, nothing to move.
    if (oldVersion < 3) createStreamStores(db)
    if (oldVersion < 4) await migrateToChunks(db, tx)
  }
  await tx.objectStore('meta').put(SCHEMA_VERSION, 'schemaVersion')
}

function createStreamStores(db: IDBPDatabase<WarrenDB>): void {
  db.createObjectStore('streamEntries', { keyPath: ['stream', 'offset'] })
  db.createObjectStore('streamSegments', { keyPath: ['stream', 'firstOffset'] })
}

function createChunkStores(db: IDBPDatabase<WarrenDB>): void {
  db.createObjectStore('chunks', { keyPath: ['queue', 'id'] })
  db.createObjectStore('heads', { keyPath: ['queue', 'id'] })
}

/**
 * v3 → v4: the one-record-per-message store becomes chunks of MIGRATION_CHUNK messages per
 * queue, in seq order, and the counters are recounted from what was moved.
 */
async function migrateToChunks(
  db: IDBPDatabase<WarrenDB>,
  tx: IDBPTransaction<WarrenDB, StoreName[], 'versionchange'>,
): Promise<void> {
  createChunkStores(db)
  const chunks = tx.objectStore('chunks')
  const heads = tx.objectStore('heads')
  const meta = tx.objectStore('meta')
  const old = (tx as unknown as IDBPTransaction<V3Schema, ['messages'], 'versionchange'>).objectStore('messages')
  const counters = new Map<string, QueueCounter>()
  let pending: StoredMessage[] = []
  let id = 0
  const flush = () => {
    if (pending.length === 0) return
    const queue = pending[0]!.queue
    for (const run of packBySize(pending)) {
      quiet(chunks.put({ queue, id, messages: run }))
      quiet(heads.put(headOf(queue, id, run)))
      id++
    }
    pending = []
  }
  // Key order: queue, then seq. Counters keep lastSeq (seqs are never reused); count is recounted.
  for (let cursor = await old.openCursor(); cursor; cursor = await cursor.continue()) {
    const m = cursor.value
    if (pending.length > 0 && (pending[0]!.queue !== m.queue || pending.length >= MIGRATION_CHUNK)) flush()
    if (pending.length === 0 && !counters.has(m.queue)) id = 0
    pending.push(m)
    const c = counters.get(m.queue) ?? { count: 0, lastSeq: 0 }
    c.count += 1
    c.lastSeq = Math.max(c.lastSeq, m.seq)
    counters.set(m.queue, c)
  }
  flush()
  for (const [queue, c] of counters) {
    const before = await meta.get(counterKey(queue))
    const lastSeq = Math.max(c.lastSeq, typeof before === 'object' ? before.lastSeq : 0)
    quiet(meta.put({ count: c.count, lastSeq }, counterKey(queue)))
  }
  // Queues whose messages were all gone keep their lastSeq, with a count of 0.
  const keys = await meta.getAllKeys(counterRange())
  for (const key of keys) {
    if (counters.has(queueOfCounterKey(key))) continue
    const before = await meta.get(key)
    if (typeof before === 'object') quiet(meta.put({ count: 0, lastSeq: before.lastSeq }, key))
  }
  ;(db as unknown as IDBPDatabase<V3Schema>).deleteObjectStore('messages')
}

/** v1 → v2: messages_v1 (string keys) → messages ([queue, seq]), counters, binding index. */
async function migrateV1toV2(
  db: IDBPDatabase<WarrenDB>,
  tx: IDBPTransaction<WarrenDB, StoreName[], 'versionchange'>,
): Promise<void> {
  tx.objectStore('bindings').createIndex('byDestination', ['destinationKind', 'destination'])
  ;(db as unknown as IDBPDatabase<V3Schema>).createObjectStore('messages', { keyPath: ['queue', 'seq'] })
  const target = (tx as unknown as IDBPTransaction<V3Schema, ['messages'], 'versionchange'>).objectStore('messages')
  const counters = new Map<string, QueueCounter>()
  // The v1 store is not in the typed schema any more: reach it untyped.
  const old = (tx as unknown as IDBPTransaction<V1Schema, ['messages_v1'], 'versionchange'>).objectStore('messages_v1')
  for (let cursor = await old.openCursor(); cursor; cursor = await cursor.continue()) {
    const m = cursor.value
    quiet(target.put(m))
    const c = counters.get(m.queue) ?? { count: 0, lastSeq: 0 }
    c.count += 1
    c.lastSeq = Math.max(c.lastSeq, m.seq)
    counters.set(m.queue, c)
  }
  const meta = tx.objectStore('meta')
  for (const [queue, c] of counters) quiet(meta.put(c, counterKey(queue)))
  ;(db as unknown as IDBPDatabase<V1Schema>).deleteObjectStore('messages_v1')
}

/** A failed request aborts the transaction, which is reported there; don't also leak a rejection. */
const quiet = (p: Promise<unknown>): void => {
  p.catch(() => {})
}

interface V1Schema extends DBSchema {
  messages_v1: { key: string; value: StoredMessage }
}

/** v2 and v3 kept one record per message. */
interface V3Schema extends DBSchema {
  messages: { key: MessageKey; value: StoredMessage }
}
