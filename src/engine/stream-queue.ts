/**
 * Stream queues (x-queue-type: stream), as RabbitMQ's rabbit_stream_queue for an AMQP 0-9-1
 * application: an append-only log that consumers read without removing anything, each from
 * its own x-stream-offset and at its own pace (its prefetch is its credit; an ack gives
 * credit back). Retention (x-max-length-bytes, x-max-age) drops whole segments.
 *
 * Memory stays bounded whatever the log's length: the queue holds the segment summaries
 * (stream-log.ts), a short tail of the newest entries for consumers that keep up, and per
 * consumer at most one page read from storage. Without storage (a broker with none), the log
 * is kept in memory instead, as every durable queue of such a broker is.
 */
import type { MessageProperties } from '../protocol/frames.js'
import type { Storage, StorageOp, StoredStreamEntry, StoredStreamSegment } from '../storage/types.js'
import type { ConsumerState } from './channel.js'
import { requireDurableOnly } from './durable-only.js'
import { notImplemented, preconditionFailed } from './errors.js'
import type { QueuedMessage } from './message.js'
import type { QueueArguments } from './queue-arguments.js'
import type {
  EnqueueOptions,
  EnqueueOutcome,
  IncomingMessage,
  QueueDeclaration,
  QueueType,
  QueueTypeContext,
  QueueTypeFactory,
} from './queue-type.js'
import { QueueState } from './queue.js'
import { DEFAULT_SEGMENT_BYTES, durationMs, parseOffset, StreamLog, type Retention } from './stream-log.js'

/** Newest entries kept in memory: consumers at the head of the log read them without storage. */
const TAIL_ENTRIES = 256
/** Most entries one consumer reads from storage at once (it reads the next page when half is delivered). */
const PAGE_ENTRIES = 512

/**
 * Queue arguments of the other types, refused with 406 as RabbitMQ does ("invalid arg ... of
 * queue type"); a stream takes x-max-length-bytes, x-max-age, x-stream-max-segment-size-bytes.
 */
const OTHER_TYPES_ARGUMENTS = [
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-overflow',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-max-priority',
  'x-single-active-consumer',
  'x-delivery-limit',
  'x-queue-mode',
  'x-queue-version',
  'x-queue-master-locator',
]

export function validateStream(declaration: QueueDeclaration): QueueArguments {
  requireDurableOnly(declaration, 'stream', OTHER_TYPES_ARGUMENTS)
  retentionOf(declaration.args)
  return { overflow: 'drop-head', singleActiveConsumer: false }
}

/** x-max-length-bytes, x-max-age and x-stream-max-segment-size-bytes, checked (406) as RabbitMQ checks them. */
function retentionOf(args: Readonly<Record<string, unknown>>): Retention {
  const bytes = args['x-max-length-bytes']
  if (bytes !== undefined && !(Number.isSafeInteger(bytes) && (bytes as number) >= 0))
    throw preconditionFailed(`invalid arg 'x-max-length-bytes': ${String(bytes)} is not a non-negative integer`)
  const age = args['x-max-age']
  const maxAgeMs = age === undefined ? undefined : durationMs(age)
  if (age !== undefined && maxAgeMs === undefined)
    throw preconditionFailed(`invalid arg 'x-max-age': ${String(age)} is not a duration like '7D', '12h', '30m' or '10s'`)
  const segment = args['x-stream-max-segment-size-bytes']
  if (segment !== undefined && !(Number.isSafeInteger(segment) && (segment as number) > 0))
    throw preconditionFailed(`invalid arg 'x-stream-max-segment-size-bytes': ${String(segment)} is not a positive integer`)
  return {
    maxBytes: bytes as number | undefined,
    maxAgeMs,
    segmentBytes: (segment as number | undefined) ?? DEFAULT_SEGMENT_BYTES,
  }
}

/** Where one consumer is in the log. */
interface Reader {
  /** The next offset to deliver. */
  next: number
  /** Entries appended before this time are skipped (a timestamp offset inside a segment). */
  notBefore: number | undefined
  /** A page read from storage, from `next` on. */
  page: StoredStreamEntry[]
  loading: boolean
}

/** Appends of one turn, written together (one storage transaction). */
interface Batch {
  readonly entries: StoredStreamEntry[]
  readonly segments: Map<number, StoredStreamSegment>
  truncateBefore: number | undefined
  readonly written: Promise<void> | undefined
  resolve(): void
  reject(error: unknown): void
}

export class StreamQueue extends QueueState {
  log: StreamLog
  readonly readers = new Map<ConsumerState, Reader>()
  /** Entries below this offset are stored (or failed to be) and may be read. */
  readable = 0
  /** The newest readable entries, from offset `tailFirst` on. */
  tail: StoredStreamEntry[] = []
  tailFirst = 0
  /** The whole log when the broker has no storage. */
  readonly memoryLog: StoredStreamEntry[] | undefined
  batch: Batch | undefined

  constructor(
    declaration: QueueDeclaration,
    options: QueueArguments,
    type: QueueType,
    readonly retention: Retention,
    inMemory: boolean,
  ) {
    super(declaration, options, type)
    this.log = new StreamLog(declaration.name, retention)
    this.memoryLog = inMemory ? [] : undefined
  }

  override get messageCount(): number {
    return this.log.length
  }

  override get messageBytes(): number {
    return this.log.bytes
  }

  /** A readable entry held in memory (the tail, or the whole log without storage). */
  held(offset: number): StoredStreamEntry | undefined {
    if (offset >= this.readable) return undefined
    if (this.memoryLog) return this.memoryLog[offset - this.log.firstOffset]
    return offset >= this.tailFirst ? this.tail[offset - this.tailFirst] : undefined
  }
}

const isStream = (queue: QueueState): queue is StreamQueue => queue instanceof StreamQueue

class StreamQueueType implements QueueType {
  readonly name = 'stream'

  constructor(private readonly context: QueueTypeContext) {}

  validate(declaration: QueueDeclaration): QueueArguments {
    return validateStream(declaration)
  }

  create(declaration: QueueDeclaration, options: QueueArguments): QueueState {
    return new StreamQueue(declaration, options, this, retentionOf(declaration.args), this.context.storage === undefined)
  }

  enqueue(queue: QueueState, message: IncomingMessage, options: EnqueueOptions): EnqueueOutcome {
    if (!isStream(queue)) return undefined
    // Without storage the log is in memory: the vhost's memory limits apply to it.
    if (queue.memoryLog && options.limited && !this.context.admitToMemory(message.size)) return 'limit'
    const now = this.context.clock.now()
    const { offset, segment } = queue.log.append(message.size, now)
    queue.counters.published++
    const entry: StoredStreamEntry = {
      stream: queue.name,
      offset,
      timestamp: now,
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties: message.properties,
      body: message.body,
      size: message.size,
    }
    // A new segment is when RabbitMQ applies retention too.
    const truncateBefore = segment.firstOffset === offset ? queue.log.applyRetention(now) : undefined
    if (queue.memoryLog) {
      queue.memoryLog.push(entry)
      if (truncateBefore !== undefined) queue.memoryLog.splice(0, queue.memoryLog.length - (queue.log.nextOffset - truncateBefore))
      queue.readable = queue.log.nextOffset
      this.drain(queue)
      return undefined
    }
    const batch = (queue.batch ??= this.openBatch(queue))
    batch.entries.push(entry)
    batch.segments.set(segment.firstOffset, segment)
    if (truncateBefore !== undefined) batch.truncateBefore = truncateBefore
    return batch.written
  }

  /** Gathers the appends of this turn; written at the next microtask, as one storage call. */
  private openBatch(queue: StreamQueue): Batch {
    let resolve!: () => void
    let reject!: (error: unknown) => void
    const written = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    const batch: Batch = { entries: [], segments: new Map(), truncateBefore: undefined, written, resolve, reject }
    queueMicrotask(() => this.writeBatch(queue, batch))
    return batch
  }

  private writeBatch(queue: StreamQueue, batch: Batch): void {
    queue.batch = undefined
    if (queue.deleted) return batch.resolve()
    const ops: StorageOp[] = []
    for (const segment of batch.segments.values()) {
      const entries = batch.entries.filter((e) => e.offset >= segment.firstOffset && e.offset <= segment.lastOffset)
      ops.push({ kind: 'stream.append', segment, entries })
    }
    if (batch.truncateBefore !== undefined) ops.push({ kind: 'stream.truncate', stream: queue.name, before: batch.truncateBefore })
    const end = batch.entries.at(-1)!.offset + 1
    const durability = queue.args['x-durability'] === 'strict' ? 'strict' : undefined
    this.context.write(ops, durability).then(
      () => {
        if (queue.deleted) return batch.resolve()
        this.remember(queue, batch.entries)
        queue.readable = Math.max(queue.readable, end)
        batch.resolve()
        this.drain(queue)
      },
      (error: unknown) => {
        // Not stored: the offsets stay taken (never reused), readers step over the gap.
        queue.readable = Math.max(queue.readable, end)
        batch.reject(error)
        if (!queue.deleted) this.drain(queue)
      },
    )
  }

  /** Keeps the newest entries as the tail. */
  private remember(queue: StreamQueue, entries: StoredStreamEntry[]): void {
    const first = entries[0]!.offset
    if (first !== queue.tailFirst + queue.tail.length) {
      queue.tail = []
      queue.tailFirst = first
    }
    queue.tail.push(...entries)
    const over = queue.tail.length - TAIL_ENTRIES
    if (over > 0) {
      queue.tail = queue.tail.slice(over)
      queue.tailFirst += over
    }
  }

  consume(queue: QueueState, consumer: ConsumerState): void {
    if (!isStream(queue)) return
    const where = `queue '${queue.name}'`
    if (consumer.noAck) throw notImplemented(`automatic acknowledgement not supported by stream queues (${where})`)
    if (!(consumer.prefetch > 0)) throw preconditionFailed(`consumer prefetch count is not set for ${where}`)
    const { offset, notBefore } = queue.log.resolve(parseOffset(consumer.args['x-stream-offset'], this.context.clock.now()))
    queue.readers.set(consumer, { next: offset, notBefore, page: [], loading: false })
  }

  cancel(queue: QueueState, consumer: ConsumerState): void {
    if (isStream(queue)) queue.readers.delete(consumer)
  }

  /** Every consumer with credit gets the entries it has not seen, from memory or a page read from storage. */
  drain(queue: QueueState): void {
    if (!isStream(queue) || queue.deleted || this.context.stopped) return
    for (const [consumer, reader] of queue.readers) {
      while (consumer.hasCredit && reader.next < queue.readable) {
        const entry = this.entryFor(queue, reader)
        if (!entry) break
        reader.next = entry.offset + 1
        if (reader.notBefore !== undefined) {
          if (entry.timestamp < reader.notBefore) continue
          reader.notBefore = undefined
        }
        this.deliver(queue, consumer, entry)
      }
    }
  }

  /** The entry at (or, over a gap retention or a failed write left, after) the reader's position; undefined while it loads. */
  private entryFor(queue: StreamQueue, reader: Reader): StoredStreamEntry | undefined {
    if (reader.next < queue.log.firstOffset) reader.next = queue.log.firstOffset
    const held = queue.held(reader.next)
    if (held) return held
    while (reader.page.length > 0 && reader.page[0]!.offset < reader.next) reader.page.shift()
    const paged = reader.page.shift()
    if (paged) {
      // Read the next page while this one is being delivered: one storage round trip never stalls a reader.
      if (reader.page.length < PAGE_ENTRIES / 2) this.load(queue, reader, (reader.page.at(-1)?.offset ?? paged.offset) + 1)
      return paged
    }
    if (queue.memoryLog) {
      reader.next = queue.readable // a gap at the end of an in-memory log: nothing more to read
      return undefined
    }
    this.load(queue, reader, reader.next)
    return undefined
  }

  /** Reads a page from `from` on into the reader's page (one read at a time), unless the tail holds it. */
  private load(queue: StreamQueue, reader: Reader, from: number): void {
    const storage = this.context.storage
    if (!storage || reader.loading || from >= queue.readable || (from >= queue.tailFirst && queue.tail.length > 0)) return
    reader.loading = true
    storage.loadStreamEntries(queue.name, from, PAGE_ENTRIES).then(
      (entries) => {
        reader.loading = false
        // Only entries readable now (a later one may still be in a batch), after what the page holds.
        const after = reader.page.at(-1)?.offset ?? reader.next - 1
        for (const entry of entries) if (entry.offset > after && entry.offset < queue.readable) reader.page.push(entry)
        // Nothing there (retention, or a write that failed): step over the gap.
        if (reader.page.length === 0) reader.next = Math.max(reader.next, Math.min(queue.readable, queue.tailFirst))
        this.drain(queue)
      },
      () => {
        reader.loading = false
        this.context.storageFailed()
      },
    )
  }

  private deliver(queue: StreamQueue, consumer: ConsumerState, entry: StoredStreamEntry): void {
    const message: QueuedMessage = {
      seq: entry.offset,
      exchange: entry.exchange,
      routingKey: entry.routingKey,
      properties: entry.properties,
      body: entry.body,
      size: entry.size,
      expiresAt: undefined,
      redelivered: false,
      deliveryCount: 0,
      stored: false,
    }
    const properties: MessageProperties = {
      ...entry.properties,
      headers: { ...entry.properties.headers, 'x-stream-offset': entry.offset },
    }
    this.context.deliver(consumer, queue, message, properties)
  }

  get(queue: QueueState): never {
    throw notImplemented(`basic.get not supported by stream queues (queue '${queue.name}')`)
  }

  /** Acks, nacks and rejects only give credit back (the engine drains after); nothing leaves a stream. */
  settle(): void {}

  purge(queue: QueueState): number {
    throw notImplemented(`queue.purge not supported by stream queues (queue '${queue.name}')`)
  }

  delete(queue: QueueState): number {
    if (!isStream(queue)) return 0
    queue.readers.clear()
    queue.tail = []
    return queue.log.length
  }

  async recover(queue: QueueState, storage: Storage, now: number): Promise<void> {
    if (!isStream(queue)) return
    queue.log = new StreamLog(queue.name, queue.retention, await storage.loadStreamSegments(queue.name))
    queue.readable = queue.log.nextOffset
    queue.tailFirst = queue.log.nextOffset
    const before = queue.log.applyRetention(now)
    if (before !== undefined) this.context.writeInBackground([{ kind: 'stream.truncate', stream: queue.name, before }])
  }

  stop(): void {}

  memory(queue: QueueState): { messages: number; bytes: number } {
    if (!isStream(queue)) return { messages: 0, bytes: 0 }
    if (queue.memoryLog) return { messages: queue.log.length, bytes: queue.log.bytes }
    let bytes = 0
    for (const entry of queue.tail) bytes += entry.size
    return { messages: queue.tail.length, bytes }
  }

  inspect(queue: QueueState): Record<string, number | string> {
    if (!isStream(queue)) return {}
    return {
      firstOffset: queue.log.firstOffset,
      lastOffset: queue.log.lastOffset ?? '',
      segments: queue.log.segmentCount,
    }
  }
}

export const streamQueueType: QueueTypeFactory = (context) => new StreamQueueType(context)
