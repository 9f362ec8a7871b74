/**
 * Issues one batch of StorageOps into one readwrite transaction, as raw requests (no
 * promise per put: this is the hot path), and keeps the per-queue counters in step.
 *
 * Two paths. A queue that only gets message.put/delete in this batch (publish and ack: the
 * hot path) goes through issueMessages, planned as a whole (plan.ts). Everything else is
 * issued op by op, in order, through issue().
 *
 * Ordering in issue(): IndexedDB runs a transaction's requests in the order they are issued. A few ops
 * must read before they write (message.update, and deleting bindings found through the
 * destination index); the ops after such an op wait for those reads (a "barrier") so a
 * later delete can never be undone by an earlier update's put. Consecutive updates share
 * one barrier, so requeueing a thousand messages costs one round trip, not a thousand.
 */
import type { StorageOp } from '../types.js'
import { deleteRuns, denseEnough, planQueue, type PutOrDelete } from './plan.js'
import {
  allMessagesOf,
  bindingKeyOf,
  counterKey,
  streamRange,
  toBindingRecord,
  type MessageKey,
  type QueueCounter,
  type StoreName,
} from './schema.js'

export class BatchWriter {
  /** Counters as they will be once this batch commits. */
  private readonly next = new Map<string, QueueCounter>()
  /** Queues deleted by this batch (and not written to afterwards). */
  private readonly removed = new Set<string>()
  /** Reads that only adjust counters. */
  private reads: Promise<unknown>[] = []
  /** Reads whose follow-up writes later ops must wait for. */
  private barrier: Promise<unknown>[] = []
  private barrierOfUpdates = true

  constructor(
    private readonly tx: IDBTransaction,
    private readonly committed: ReadonlyMap<string, QueueCounter>,
  ) {}

  /** Issues `op`; returns a promise only when it had to wait for earlier reads. */
  issue(op: StorageOp): void | Promise<void> {
    if (this.barrier.length > 0 && !(op.kind === 'message.update' && this.barrierOfUpdates)) {
      return this.flushBarrier().then(() => this.issueNow(op))
    }
    this.issueNow(op)
  }

  /**
   * All of one queue's ops in this batch, when they are only puts and deletes (see
   * plan.ts). They touch no key another op of the batch touches, so their position among
   * the batch's other ops does not matter.
   */
  issueMessages(queue: string, ops: readonly PutOrDelete[]): void {
    const counter = this.counter(queue)
    const plan = planQueue(ops, counter.lastSeq)
    counter.count += plan.certainlyNew
    counter.lastSeq = plan.lastSeq
    const messages = this.store('messages')
    const { uncertain, deletes } = plan
    if (uncertain.length === 0) {
      for (const m of plan.puts) messages.put(m)
      return
    }
    if (!denseEnough(uncertain)) {
      // Scattered seqs: ask about each one (before writing it).
      for (const seq of uncertain) {
        this.read(messages.count([queue, seq]), (n) => (counter.count += deletes.has(seq) ? -n : 1 - n))
      }
      for (const seq of deletes) messages.delete([queue, seq])
      for (const m of plan.puts) messages.put(m)
      return
    }
    const lo = uncertain[0]!
    const hi = uncertain[uncertain.length - 1]!
    // Issued before the puts, so it sees the store as it was before this batch.
    const snapshot = messages.getAllKeys(IDBKeyRange.bound([queue, lo], [queue, hi]))
    for (const m of plan.puts) messages.put(m)
    this.read(snapshot, (keys) => {
      const existing = (keys as MessageKey[]).map((k) => k[1])
      const stored = new Set(existing)
      for (const seq of uncertain) {
        if (deletes.has(seq)) counter.count -= stored.has(seq) ? 1 : 0
        else counter.count += stored.has(seq) ? 0 : 1
      }
      const putsInSpan = plan.puts.map((m) => m.seq).filter((s) => s >= lo && s <= hi).sort((a, b) => a - b)
      for (const [from, to] of deleteRuns(existing, deletes, putsInSpan)) {
        messages.delete(from === to ? [queue, from] : IDBKeyRange.bound([queue, from], [queue, to]))
      }
    })
  }

  /** Waits for all reads, then writes the counters. The transaction is still active after. */
  async finish(): Promise<void> {
    await this.flushBarrier()
    await Promise.all(this.reads)
    if (this.next.size === 0) return
    const meta = this.store('meta')
    for (const [queue, counter] of this.next) {
      if (this.removed.has(queue)) meta.delete(counterKey(queue))
      else meta.put(counter, counterKey(queue))
    }
  }

  /** After the transaction completed: the new counters become the committed ones. */
  commitTo(counters: Map<string, QueueCounter>): void {
    for (const [queue, counter] of this.next) {
      if (this.removed.has(queue)) counters.delete(queue)
      else counters.set(queue, counter)
    }
  }

  private issueNow(op: StorageOp): void {
    switch (op.kind) {
      case 'exchange.put':
        this.store('exchanges').put(op.exchange)
        return
      case 'exchange.delete': {
        const name = op.name
        this.store('exchanges').delete(name)
        // Bindings go with their exchange: as source (a key prefix; arrays sort after
        // strings, so [name, []] bounds every [name, ...]) and as destination (index).
        this.store('bindings').delete(IDBKeyRange.bound([name], [name, []]))
        this.deleteBindingsTo('exchange', name)
        return
      }
      case 'queue.put':
        this.store('queues').put(op.queue)
        return
      case 'queue.delete':
        this.store('queues').delete(op.name)
        this.store('messages').delete(allMessagesOf(op.name))
        this.next.set(op.name, { count: 0, lastSeq: 0 })
        this.removed.add(op.name)
        this.deleteBindingsTo('queue', op.name)
        this.store('streamEntries').delete(streamRange(op.name))
        this.store('streamSegments').delete(streamRange(op.name))
        return
      case 'queue.purge': {
        const counter = this.counter(op.name)
        const range = IDBKeyRange.bound([op.name, -Infinity], [op.name, op.upToSeq])
        if (op.upToSeq >= counter.lastSeq) {
          // Everything stored is at or below lastSeq: nothing is left. A fresh object also
          // detaches pending adjustments made to the old one by earlier ops of this batch.
          this.next.set(op.name, { count: 0, lastSeq: counter.lastSeq })
        } else {
          this.read(this.store('messages').count(range), (n) => (counter.count -= n))
        }
        this.store('messages').delete(range)
        return
      }
      case 'binding.put':
        this.store('bindings').put(toBindingRecord(op.binding))
        return
      case 'binding.delete':
        this.store('bindings').delete(bindingKeyOf(op.binding))
        return
      case 'message.put': {
        const { queue, seq } = op.message
        const counter = this.counter(queue)
        this.removed.delete(queue)
        if (seq > counter.lastSeq) {
          // Above lastSeq it cannot exist yet: no read needed.
          counter.count += 1
          counter.lastSeq = seq
        } else {
          this.read(this.store('messages').count([queue, seq]), (n) => (counter.count += 1 - n))
        }
        this.store('messages').put(op.message)
        return
      }
      case 'message.delete': {
        const counter = this.counter(op.queue)
        if (op.seq > counter.lastSeq) return
        const messages = this.store('messages')
        this.read(messages.count([op.queue, op.seq]), (n) => (counter.count -= n))
        messages.delete([op.queue, op.seq])
        return
      }
      case 'message.deleteRange': {
        const counter = this.counter(op.queue)
        const to = Math.min(op.toSeq, counter.lastSeq)
        if (op.fromSeq > to) return
        const range = IDBKeyRange.bound([op.queue, op.fromSeq], [op.queue, to])
        // Issued before the delete, so it counts exactly what the delete removes.
        this.read(this.store('messages').count(range), (n) => (counter.count -= n))
        this.store('messages').delete(range)
        return
      }
      case 'stream.append': {
        this.store('streamSegments').put(op.segment)
        const entries = this.store('streamEntries')
        for (const entry of op.entries) entries.put(entry)
        return
      }
      case 'stream.truncate':
        this.store('streamSegments').delete(streamRange(op.stream, -Infinity, op.before))
        this.store('streamEntries').delete(streamRange(op.stream, -Infinity, op.before))
        return
      case 'message.update': {
        const messages = this.store('messages')
        const { redelivered, deliveryCount } = op
        if (this.barrier.length === 0) this.barrierOfUpdates = true
        this.barrier.push(
          request(messages.get([op.queue, op.seq])).then((m: Record<string, unknown> | undefined) => {
            if (m) messages.put({ ...m, redelivered, deliveryCount })
          }),
        )
        return
      }
      default:
        throw new TypeError(`unknown storage op ${JSON.stringify((op as { kind?: unknown }).kind)}`)
    }
  }

  private deleteBindingsTo(kind: 'queue' | 'exchange', name: string): void {
    const bindings = this.store('bindings')
    this.barrierOfUpdates = false
    this.barrier.push(
      request(bindings.index('byDestination').getAllKeys([kind, name])).then((keys) => {
        for (const key of keys) bindings.delete(key)
      }),
    )
  }

  private async flushBarrier(): Promise<void> {
    while (this.barrier.length > 0) {
      const pending = this.barrier
      this.barrier = []
      this.barrierOfUpdates = true
      await Promise.all(pending)
    }
  }

  private read<T>(req: IDBRequest<T>, then: (result: T) => void): void {
    this.reads.push(request(req).then(then))
  }

  private counter(queue: string): QueueCounter {
    let c = this.next.get(queue)
    if (!c) {
      const base = this.committed.get(queue)
      c = { count: base?.count ?? 0, lastSeq: base?.lastSeq ?? 0 }
      this.next.set(queue, c)
    }
    return c
  }

  private store(name: StoreName): IDBObjectStore {
    return this.tx.objectStore(name)
  }
}

/**
 * Splits a batch: queues that only get message.put/delete go to issueMessages (grouped
 * per queue); every other op keeps its place in `ordered`.
 */
export function splitBatch<T>(entries: ReadonlyArray<{ op: StorageOp; owner: T }>): {
  simple: Map<string, PutOrDelete[]>
  ordered: Array<{ op: StorageOp; owner: T }>
} {
  const complex = new Set<string>()
  for (const { op } of entries) {
    if (op.kind === 'message.update' || op.kind === 'message.deleteRange') complex.add(op.queue)
    else if (op.kind === 'queue.purge' || op.kind === 'queue.delete') complex.add(op.name)
  }
  const simple = new Map<string, PutOrDelete[]>()
  const ordered: Array<{ op: StorageOp; owner: T }> = []
  for (const entry of entries) {
    const { op } = entry
    const queue = op.kind === 'message.put' ? op.message.queue : op.kind === 'message.delete' ? op.queue : undefined
    if (queue === undefined || complex.has(queue)) {
      ordered.push(entry)
      continue
    }
    let list = simple.get(queue)
    if (!list) simple.set(queue, (list = []))
    list.push(op as PutOrDelete)
  }
  return { simple, ordered }
}

/** Stores a batch touches, so unrelated reads are not blocked by it. */
export function storesFor(ops: Iterable<StorageOp>): StoreName[] {
  const stores = new Set<StoreName>()
  for (const op of ops) {
    switch (op.kind) {
      case 'exchange.put':
        stores.add('exchanges')
        break
      case 'exchange.delete':
        stores.add('exchanges').add('bindings')
        break
      case 'queue.put':
        stores.add('queues')
        break
      case 'queue.delete':
        stores.add('queues').add('messages').add('bindings').add('meta').add('streamEntries').add('streamSegments')
        break
      case 'stream.append':
      case 'stream.truncate':
        stores.add('streamEntries').add('streamSegments')
        break
      case 'binding.put':
      case 'binding.delete':
        stores.add('bindings')
        break
      default:
        stores.add('messages').add('meta')
    }
  }
  return [...stores]
}

export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}
