/**
 * Issues one batch of StorageOps into one readwrite transaction, as raw requests (no
 * promise per put: this is the hot path).
 *
 * Message ops never read: they change per-queue drafts of the chunk index (chunks.ts), in
 * op order, and finish() writes the result: one new chunk per queue for the batch's puts (a
 * few past CHUNK_BYTES), the heads whose messages went or changed, and the counters. A chunk
 * none of whose messages is left is deleted with its head.
 *
 * Ordering: IndexedDB runs a transaction's requests in the order they are issued. Deleting
 * bindings found through the destination index reads before it writes; the ops after it
 * wait for that read (a "barrier"). queue.delete's range deletes are issued in op order, so
 * chunks written by finish() for a queue re-created in the same batch come after them.
 */
import type { StorageOp } from '../types.js'
import { QueueChunks, QueueDraft } from './chunks.js'
import {
  allChunksOf,
  bindingKeyOf,
  counterKey,
  streamRange,
  toBindingRecord,
  type StoreName,
} from './schema.js'

export class BatchWriter {
  /** Per queue, this batch's changes. */
  private readonly drafts = new Map<string, QueueDraft>()
  /** Reads whose follow-up writes later ops must wait for. */
  private barrier: Promise<unknown>[] = []

  constructor(
    private readonly tx: IDBTransaction,
    private readonly index: Map<string, QueueChunks>,
  ) {}

  /** Issues `op`; returns a promise only when it had to wait for earlier reads. */
  issue(op: StorageOp): void | Promise<void> {
    if (this.barrier.length > 0) return this.flushBarrier().then(() => this.issueNow(op))
    this.issueNow(op)
  }

  /** Waits for the reads, then writes chunks, heads and counters. The transaction is still active after. */
  async finish(): Promise<void> {
    await this.flushBarrier()
    if (this.drafts.size === 0) return
    const chunks = this.store('chunks')
    const heads = this.store('heads')
    const meta = this.store('meta')
    for (const [queue, draft] of this.drafts) {
      for (const [id, head] of draft.changed) {
        if (head.live > 0) {
          heads.put(head)
          continue
        }
        chunks.delete([queue, id])
        heads.delete([queue, id])
      }
      const fresh = draft.freshChunks()
      for (const { head, messages } of fresh) {
        chunks.put({ queue, id: head.id, messages })
        heads.put(head)
      }
      if (draft.reset && draft.lastSeq === 0 && fresh.length === 0) meta.delete(counterKey(queue))
      else meta.put({ count: draft.count, lastSeq: draft.lastSeq }, counterKey(queue))
    }
  }

  /** After the transaction completed: the index takes this batch's changes. */
  commitTo(index: Map<string, QueueChunks>): void {
    for (const [queue, draft] of this.drafts) {
      draft.commit()
      const q = draft.base
      if (q.heads.length === 0 && q.lastSeq === 0) index.delete(queue)
      else index.set(queue, q)
    }
  }

  /** Heads changed by this batch (to look for compaction candidates after the commit). */
  touched(): Iterable<QueueDraft> {
    return this.drafts.values()
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
        this.store('chunks').delete(allChunksOf(op.name))
        this.store('heads').delete(allChunksOf(op.name))
        this.draft(op.name).drop()
        this.deleteBindingsTo('queue', op.name)
        this.store('streamEntries').delete(streamRange(op.name))
        this.store('streamSegments').delete(streamRange(op.name))
        return
      case 'queue.purge':
        this.draft(op.name).deleteRange(-Infinity, op.upToSeq)
        return
      case 'binding.put':
        this.store('bindings').put(toBindingRecord(op.binding))
        return
      case 'binding.delete':
        this.store('bindings').delete(bindingKeyOf(op.binding))
        return
      case 'message.put':
        this.draft(op.message.queue).put(op.message)
        return
      case 'message.delete':
        this.draft(op.queue).delete(op.seq)
        return
      case 'message.deleteRange':
        this.draft(op.queue).deleteRange(op.fromSeq, op.toSeq)
        return
      case 'message.update':
        this.draft(op.queue).update(op.seq, op.redelivered, op.deliveryCount)
        return
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
      default:
        throw new TypeError(`unknown storage op ${JSON.stringify((op as { kind?: unknown }).kind)}`)
    }
  }

  private deleteBindingsTo(kind: 'queue' | 'exchange', name: string): void {
    const bindings = this.store('bindings')
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
      await Promise.all(pending)
    }
  }

  private draft(queue: string): QueueDraft {
    let d = this.drafts.get(queue)
    if (!d) {
      const base = this.index.get(queue) ?? new QueueChunks(queue)
      this.drafts.set(queue, (d = new QueueDraft(base)))
    }
    return d
  }

  private store(name: StoreName): IDBObjectStore {
    return this.tx.objectStore(name)
  }
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
        stores.add('queues').add('chunks').add('heads').add('bindings').add('meta').add('streamEntries').add('streamSegments')
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
        stores.add('chunks').add('heads').add('meta')
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
