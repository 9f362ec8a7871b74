/**
 * What the engine needs from persistence. The engine decides *what* is durable
 * (RabbitMQ's rules); a Storage only keeps it. Implementations: memory (tests, transient
 * brokers) and IndexedDB (storage/indexeddb). One contract suite runs against both.
 */
import type { FieldTable, MessageProperties } from '../protocol/frames.js'

export interface StoredExchange {
  name: string
  type: string
  durable: true
  autoDelete: boolean
  internal: boolean
  arguments: FieldTable
}

export interface StoredQueue {
  name: string
  durable: true
  autoDelete: boolean
  arguments: FieldTable
}

export interface StoredBinding {
  source: string
  destination: string
  destinationKind: 'queue' | 'exchange'
  routingKey: string
  arguments: FieldTable
}

export interface StoredMessage {
  queue: string
  /** Position in the queue: strictly increasing per queue, never reused. */
  seq: number
  exchange: string
  routingKey: string
  properties: MessageProperties
  body: unknown
  /** Body size in bytes as the engine measured it (for x-max-length-bytes). */
  size: number
  /** Absolute expiry time (ms, broker clock), if any TTL applies. */
  expiresAt?: number
  /** True once the message may have been seen by a consumer. */
  redelivered: boolean
  /** Failed deliveries so far (x-delivery-count). */
  deliveryCount: number
  /** The publisher's deduplication id, if it gave one: a restarted broker still knows the message. */
  publishId?: string
  /**
   * Only on messages held by an x-delayed-message exchange (kept under a storage-only queue
   * name, see engine/delayed.ts): when the message is due (ms, broker clock).
   */
  dueAt?: number
}

/**
 * One record of a stream queue's log (x-queue-type: stream). A stream is append-only:
 * entries are never updated or deleted one by one, only whole segments go (retention).
 */
export interface StoredStreamEntry {
  stream: string
  /** Position in the log: 0, 1, 2... never reused, even after retention removed older ones. */
  offset: number
  /** When the entry was appended (ms, broker clock): offset resolution by timestamp, x-max-age. */
  timestamp: number
  exchange: string
  routingKey: string
  properties: MessageProperties
  body: unknown
  size: number
}

/**
 * A run of consecutive entries of one stream, the unit of retention. Kept small (a few
 * numbers) so the engine can hold every segment of a stream in memory and read the entries lazily.
 */
export interface StoredStreamSegment {
  stream: string
  /** The offset of its first entry; identifies the segment. */
  firstOffset: number
  lastOffset: number
  /** Sum of the entries' sizes. */
  bytes: number
  firstTimestamp: number
  lastTimestamp: number
}

export interface Definitions {
  exchanges: StoredExchange[]
  queues: StoredQueue[]
  bindings: StoredBinding[]
}

/** One change; the engine sends many, the storage commits those of one turn together. */
export type StorageOp =
  | { kind: 'exchange.put'; exchange: StoredExchange }
  | { kind: 'exchange.delete'; name: string }
  | { kind: 'queue.put'; queue: StoredQueue }
  /** Deletes the queue, its messages and its bindings. */
  | { kind: 'queue.delete'; name: string }
  | { kind: 'queue.purge'; name: string; upToSeq: number }
  | { kind: 'binding.put'; binding: StoredBinding }
  | { kind: 'binding.delete'; binding: StoredBinding }
  | { kind: 'message.put'; message: StoredMessage }
  | { kind: 'message.delete'; queue: string; seq: number }
  /** Marks a message redelivered and sets its delivery count (requeue after a delivery). */
  | { kind: 'message.update'; queue: string; seq: number; redelivered: boolean; deliveryCount: number }
  /**
   * Deletes the queue's messages with fromSeq <= seq <= toSeq (purging messages paged out
   * to storage, while unacked ones below the range stay).
   */
  | { kind: 'message.deleteRange'; queue: string; fromSeq: number; toSeq: number }
  /**
   * Appends entries to a stream and puts the segment they belong to (a new one, or the
   * open one grown). queue.delete removes a stream's entries and segments too.
   */
  | { kind: 'stream.append'; segment: StoredStreamSegment; entries: StoredStreamEntry[] }
  /** Retention: deletes the stream's segments starting below `before`, and their entries. */
  | { kind: 'stream.truncate'; stream: string; before: number }

export type Durability = 'relaxed' | 'strict'

export interface Storage {
  /** Opens (creating or migrating as needed) and returns the new broker epoch. */
  open(): Promise<{ epoch: number }>
  loadDefinitions(): Promise<Definitions>
  /** Messages of `queue` with seq > `afterSeq`, in order, at most `limit`. */
  loadMessages(queue: string, afterSeq: number, limit: number): Promise<StoredMessage[]>
  /** Number of stored messages of `queue` (kept as a counter, not counted). */
  countMessages(queue: string): Promise<number>
  /**
   * The highest seq ever stored for `queue`, even if that message is gone (0 if none, or
   * after queue.delete): a recovered queue continues above it, so seqs are never reused.
   */
  lastSeq(queue: string): Promise<number>
  /** Every segment of a stream, in offset order. */
  loadStreamSegments(stream: string): Promise<StoredStreamSegment[]>
  /** Entries of a stream with offset >= `fromOffset`, in order, at most `limit`. */
  loadStreamEntries(stream: string, fromOffset: number, limit: number): Promise<StoredStreamEntry[]>
  /**
   * Applies changes. Calls made in the same turn are committed in one transaction;
   * the promise resolves when that transaction is durable (per `durability`).
   */
  apply(ops: readonly StorageOp[], durability?: Durability): Promise<void>
  close(): Promise<void>
}

/** Raised by a Storage when the platform refuses a write (quota, closed database, abort). */
export class StorageFailure extends Error {
  override readonly name = 'StorageFailure'
  constructor(
    readonly reason: 'quota' | 'closed' | 'aborted' | 'unknown',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
