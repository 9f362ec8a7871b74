/**
 * A Storage that keeps everything in Maps: for tests and transient brokers. The instance
 * itself plays the role of the disk: stop a Broker, start a new one on the same
 * MemoryStorage, and it recovers what was applied (and gets a new epoch), like a restart.
 */
import { bindingId, invalidOp } from './indexeddb/keys.js'
import {
  StorageFailure,
  type Definitions,
  type Durability,
  type Storage,
  type StorageOp,
  type StoredBinding,
  type StoredExchange,
  type StoredMessage,
  type StoredQueue,
  type StoredStreamEntry,
  type StoredStreamSegment,
} from './types.js'

export class MemoryStorage implements Storage {
  private epoch = 0
  private isOpen = false
  private readonly exchanges = new Map<string, StoredExchange>()
  private readonly queues = new Map<string, StoredQueue>()
  private readonly bindings = new Map<string, StoredBinding>()
  private readonly logs = new Map<string, MessageLog>()
  private readonly streams = new Map<string, StreamLog>()
  private failures: { reason: StorageFailure['reason']; remaining: number } | undefined

  /** How many times open() was called, i.e. the last epoch handed out. */
  get currentEpoch(): number {
    return this.epoch
  }

  /**
   * Test hook: the next `count` apply() calls reject with StorageFailure(reason) and
   * change nothing, as a full disk would (pass count = Infinity to fail until cleared
   * with failApplies(null)).
   */
  failApplies(reason: StorageFailure['reason'] | null, count = 1): void {
    this.failures = reason === null ? undefined : { reason, remaining: count }
  }

  open(): Promise<{ epoch: number }> {
    this.isOpen = true
    this.epoch += 1
    return Promise.resolve({ epoch: this.epoch })
  }

  loadDefinitions(): Promise<Definitions> {
    return this.guard(() => ({
      exchanges: [...this.exchanges.values()].map(copy),
      queues: [...this.queues.values()].map(copy),
      bindings: [...this.bindings.values()].map(copy),
    }))
  }

  loadMessages(queue: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    return this.guard(() => (this.logs.get(queue)?.load(afterSeq, limit) ?? []).map(copy))
  }

  countMessages(queue: string): Promise<number> {
    return this.guard(() => this.logs.get(queue)?.size ?? 0)
  }

  lastSeq(queue: string): Promise<number> {
    return this.guard(() => this.logs.get(queue)?.lastSeq ?? 0)
  }

  loadStreamSegments(stream: string): Promise<StoredStreamSegment[]> {
    return this.guard(() => [...(this.streams.get(stream)?.segments.values() ?? [])].map(copy))
  }

  loadStreamEntries(stream: string, fromOffset: number, limit: number): Promise<StoredStreamEntry[]> {
    return this.guard(() => (this.streams.get(stream)?.load(fromOffset, limit) ?? []).map(copy))
  }

  /**
   * Applies synchronously (so nothing the caller does afterwards can change what was
   * stored) and resolves in a microtask. A call is all-or-nothing: values are cloned
   * before anything changes.
   */
  apply(ops: readonly StorageOp[], _durability?: Durability): Promise<void> {
    return this.guard(() => {
      if (this.failures) {
        const { reason } = this.failures
        if (--this.failures.remaining <= 0) this.failures = undefined
        throw new StorageFailure(reason, `injected storage failure (${reason})`)
      }
      let prepared: StorageOp[]
      try {
        prepared = structuredClone(ops as StorageOp[])
      } catch (cause) {
        throw new StorageFailure('unknown', 'a value could not be stored (not structured-cloneable)', { cause })
      }
      for (const op of prepared) {
        const problem = invalidOp(op)
        if (problem) throw new StorageFailure('unknown', problem)
      }
      for (const op of prepared) this.applyOne(op)
    })
  }

  close(): Promise<void> {
    this.isOpen = false
    return Promise.resolve()
  }

  private applyOne(op: StorageOp): void {
    switch (op.kind) {
      case 'exchange.put':
        this.exchanges.set(op.exchange.name, op.exchange)
        return
      case 'exchange.delete':
        this.exchanges.delete(op.name)
        // A deleted exchange takes its bindings along (as source or as destination).
        for (const [id, b] of this.bindings) {
          if (b.source === op.name || (b.destinationKind === 'exchange' && b.destination === op.name)) {
            this.bindings.delete(id)
          }
        }
        return
      case 'queue.put':
        this.queues.set(op.queue.name, op.queue)
        return
      case 'queue.delete':
        this.queues.delete(op.name)
        this.logs.delete(op.name)
        this.streams.delete(op.name)
        for (const [id, b] of this.bindings) {
          if (b.destinationKind === 'queue' && b.destination === op.name) this.bindings.delete(id)
        }
        return
      case 'queue.purge':
        this.logs.get(op.name)?.purge(op.upToSeq)
        return
      case 'binding.put':
        this.bindings.set(bindingId(op.binding), op.binding)
        return
      case 'binding.delete':
        this.bindings.delete(bindingId(op.binding))
        return
      case 'message.put': {
        let log = this.logs.get(op.message.queue)
        if (!log) this.logs.set(op.message.queue, (log = new MessageLog()))
        log.put(op.message)
        return
      }
      case 'message.delete':
        this.logs.get(op.queue)?.delete(op.seq)
        return
      case 'message.deleteRange':
        this.logs.get(op.queue)?.deleteRange(op.fromSeq, op.toSeq)
        return
      case 'message.update': {
        const m = this.logs.get(op.queue)?.get(op.seq)
        if (m) {
          m.redelivered = op.redelivered
          m.deliveryCount = op.deliveryCount
        }
        return
      }
      case 'stream.append': {
        let log = this.streams.get(op.segment.stream)
        if (!log) this.streams.set(op.segment.stream, (log = new StreamLog()))
        log.append(op.segment, op.entries)
        return
      }
      case 'stream.truncate':
        this.streams.get(op.stream)?.truncate(op.before)
        return
      default:
        throw new StorageFailure('unknown', `unknown storage op ${JSON.stringify((op as { kind?: unknown }).kind)}`)
    }
  }

  /** Runs `fn` if open; never throws synchronously, always answers in a microtask. */
  private guard<T>(fn: () => T): Promise<T> {
    if (!this.isOpen) return Promise.reject(new StorageFailure('closed', 'storage is not open'))
    try {
      return Promise.resolve(fn())
    } catch (err) {
      return Promise.reject(err instanceof StorageFailure ? err : new StorageFailure('unknown', String(err), { cause: err }))
    }
  }
}

const copy = <T>(value: T): T => structuredClone(value)

/**
 * One queue's messages: a Map by seq plus an ascending array of seqs for ordered paging.
 * Deleting leaves a hole in the array (skipped on load) until holes are the majority,
 * so acks from the head stay O(1) amortized.
 */
class MessageLog {
  private readonly bySeq = new Map<number, StoredMessage>()
  private order: number[] = []
  /** Highest seq ever put (kept when messages go, as the IndexedDB counter keeps it). */
  lastSeq = 0

  get size(): number {
    return this.bySeq.size
  }

  get(seq: number): StoredMessage | undefined {
    return this.bySeq.get(seq)
  }

  put(message: StoredMessage): void {
    const { seq } = message
    if (seq > this.lastSeq) this.lastSeq = seq
    if (!this.bySeq.has(seq)) {
      const last = this.order[this.order.length - 1]
      if (last === undefined || seq > last) {
        this.order.push(seq)
      } else {
        // Out of order (rare): insert, unless a hole for this seq is still there.
        const i = firstAtLeast(this.order, seq)
        if (this.order[i] !== seq) this.order.splice(i, 0, seq)
      }
    }
    this.bySeq.set(seq, message)
  }

  delete(seq: number): void {
    if (this.bySeq.delete(seq) && this.order.length > 64 && this.bySeq.size * 2 < this.order.length) {
      this.order = this.order.filter((s) => this.bySeq.has(s))
    }
  }

  deleteRange(fromSeq: number, toSeq: number): void {
    const start = firstAtLeast(this.order, fromSeq)
    const end = firstAbove(this.order, toSeq)
    if (end <= start) return
    for (let i = start; i < end; i++) this.bySeq.delete(this.order[i]!)
    this.order.splice(start, end - start)
  }

  purge(upToSeq: number): void {
    const end = firstAbove(this.order, upToSeq)
    for (let i = 0; i < end; i++) this.bySeq.delete(this.order[i]!)
    this.order = this.order.slice(end)
  }

  load(afterSeq: number, limit: number): StoredMessage[] {
    const out: StoredMessage[] = []
    for (let i = firstAbove(this.order, afterSeq); i < this.order.length && out.length < limit; i++) {
      const m = this.bySeq.get(this.order[i]!)
      if (m) out.push(m)
    }
    return out
  }
}

/**
 * One stream: entries in an array indexed by offset - base (appends are in offset order,
 * truncation only cuts the front), segments by first offset in insertion (= offset) order.
 */
class StreamLog {
  readonly segments = new Map<number, StoredStreamSegment>()
  private entries: StoredStreamEntry[] = []
  private base = 0

  append(segment: StoredStreamSegment, entries: readonly StoredStreamEntry[]): void {
    this.segments.set(segment.firstOffset, segment)
    if (this.entries.length === 0 && this.base < segment.firstOffset) this.base = segment.firstOffset
    for (const e of entries) this.entries[e.offset - this.base] = e
  }

  truncate(before: number): void {
    for (const first of this.segments.keys()) if (first < before) this.segments.delete(first)
    if (before > this.base) {
      this.entries = this.entries.slice(before - this.base)
      this.base = before
    }
  }

  load(fromOffset: number, limit: number): StoredStreamEntry[] {
    const out: StoredStreamEntry[] = []
    for (let i = Math.max(0, fromOffset - this.base); i < this.entries.length && out.length < limit; i++) {
      const e = this.entries[i]
      if (e) out.push(e)
    }
    return out
  }
}

/** Index of the first element > `value` in an ascending array. */
const firstAbove = (sorted: readonly number[], value: number): number => search(sorted, (x) => x <= value)

/** Index of the first element >= `value` in an ascending array. */
const firstAtLeast = (sorted: readonly number[], value: number): number => search(sorted, (x) => x < value)

/** Binary search: the first index whose element fails `before`. */
function search(sorted: readonly number[], before: (x: number) => boolean): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (before(sorted[mid]!)) lo = mid + 1
    else hi = mid
  }
  return lo
}
