/**
 * The on-disk layout. The IndexedDB version number IS the schema version; every change
 * of layout bumps it and adds a step to `upgrade` that migrates old data without loss.
 *
 * Version 3 (current): version 2 plus the stream queues' logs:
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
import { argsKey } from './keys.js'

export const SCHEMA_VERSION = 3

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

export interface WarrenDB extends DBSchema {
  meta: { key: string; value: MetaValue }
  exchanges: { key: string; value: StoredExchange }
  queues: { key: string; value: StoredQueue }
  bindings: { key: BindingKey; value: BindingRecord; indexes: { byDestination: [string, string] } }
  messages: { key: MessageKey; value: StoredMessage }
  streamEntries: { key: [string, number]; value: StoredStreamEntry }
  streamSegments: { key: [string, number]; value: StoredStreamSegment }
}

export type StoreName = StoreNames<WarrenDB>
export type WarrenDatabase = IDBPDatabase<WarrenDB>

export const counterKey = (queue: string): string => `q:${queue}`
/** All counter keys: 'q:' up to (not including) 'q;', the next character after ':'. */
export const counterRange = (): IDBKeyRange => IDBKeyRange.bound('q:', 'q;', false, true)
export const queueOfCounterKey = (key: string): string => key.slice(2)

export const messageRange = (queue: string, afterSeq = -Infinity, upToSeq = Infinity): IDBKeyRange =>
  IDBKeyRange.bound([queue, afterSeq], [queue, upToSeq], true, false)
export const allMessagesOf = (queue: string): IDBKeyRange =>
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
    db.createObjectStore('messages', { keyPath: ['queue', 'seq'] })
    createStreamStores(db)
  } else {
    if (oldVersion < 2) await migrateV1toV2(db, tx)
    // v2 → v3: streams are new, nothing to move.
    if (oldVersion < 3) createStreamStores(db)
  }
  await tx.objectStore('meta').put(SCHEMA_VERSION, 'schemaVersion')
}

function createStreamStores(db: IDBPDatabase<WarrenDB>): void {
  db.createObjectStore('streamEntries', { keyPath: ['stream', 'offset'] })
  db.createObjectStore('streamSegments', { keyPath: ['stream', 'firstOffset'] })
}

/** v1 → v2: messages_v1 (string keys) → messages ([queue, seq]), counters, binding index. */
async function migrateV1toV2(
  db: IDBPDatabase<WarrenDB>,
  tx: IDBPTransaction<WarrenDB, StoreName[], 'versionchange'>,
): Promise<void> {
  tx.objectStore('bindings').createIndex('byDestination', ['destinationKind', 'destination'])
  db.createObjectStore('messages', { keyPath: ['queue', 'seq'] })
  const target = tx.objectStore('messages')
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
