/**
 * The packed message layout's index (schema v4): for every queue, the heads of its chunks,
 * kept in memory. A head says which seqs its chunk holds and which are gone, so publishing
 * writes one chunk per queue per group commit, and acking, purging and requeueing rewrite
 * small heads, never a message. Nothing is read inside a write transaction.
 *
 * A batch works on a QueueDraft (copies of the heads it touches); the index takes the
 * draft's changes only once the transaction has committed.
 */
import type { StoredMessage } from '../types.js'
import type { ChunkHead, QueueCounter } from './schema.js'

/**
 * A chunk's messages stay under about this many bytes. Chromium stores a value over 64 KiB
 * as a blob file beside its database, where the origin's quota is not checked at commit:
 * a full disk must still fail the write (and nack the publish), so chunks stay inline.
 */
export const CHUNK_BYTES = 48 * 1024
/** Bytes a message costs in a chunk besides its body: fields, properties (an estimate). */
const MESSAGE_OVERHEAD = 256

/** Splits messages (ascending) into runs that each fit in a chunk. */
export function packBySize(messages: readonly StoredMessage[]): StoredMessage[][] {
  const runs: StoredMessage[][] = []
  let run: StoredMessage[] = []
  let bytes = 0
  for (const m of messages) {
    const cost = (Number.isFinite(m.size) && m.size > 0 ? m.size : 0) + MESSAGE_OVERHEAD
    if (run.length > 0 && bytes + cost > CHUNK_BYTES) {
      runs.push(run)
      run = []
      bytes = 0
    }
    run.push(m)
    bytes += cost
  }
  if (run.length > 0) runs.push(run)
  return runs
}

/** The head of a chunk written whole (nothing gone yet). */
export function headOf(queue: string, id: number, messages: readonly StoredMessage[]): ChunkHead {
  const first = messages[0]!.seq
  const head: ChunkHead = { queue, id, first, n: messages.length, live: messages.length }
  if (messages[messages.length - 1]!.seq - first !== messages.length - 1) head.seqs = messages.map((m) => m.seq)
  return head
}

/** A chunk at least this big is compacted once no more than a quarter of it is left. */
export const COMPACT_MIN_MESSAGES = 32

export const lastSeqOf = (h: ChunkHead): number => (h.seqs ? h.seqs[h.n - 1]! : h.first + h.n - 1)
export const seqAt = (h: ChunkHead, pos: number): number => (h.seqs ? h.seqs[pos]! : h.first + pos)
export const isGone = (h: ChunkHead, pos: number): boolean => h.gone !== undefined && (h.gone[pos >> 3]! & (1 << (pos & 7))) !== 0

/** Position of `seq` in the chunk, or -1. */
export function positionOf(h: ChunkHead, seq: number): number {
  if (!h.seqs) return seq >= h.first && seq < h.first + h.n && Number.isInteger(seq) ? seq - h.first : -1
  let lo = 0
  let hi = h.n - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const s = h.seqs[mid]!
    if (s === seq) return mid
    if (s < seq) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

export const isCompactable = (h: ChunkHead): boolean => h.live > 0 && h.n >= COMPACT_MIN_MESSAGES && h.live * 4 <= h.n

/**
 * Small chunks (a publisher with one message in flight writes one per message) are merged
 * once a queue has MERGE_AT of them: every head stays in memory, so a backlog written one
 * message at a time must not cost a head per message.
 */
export const SMALL_CHUNK = 32
export const MERGE_AT = 64
/** Heads one merge takes at most. */
const MERGE_MAX = 256
const isSmall = (h: ChunkHead): boolean => h.n < SMALL_CHUNK

/** The first run of adjacent small chunks worth merging (2 or more), or undefined. */
export function smallRun(q: QueueChunks): ChunkHead[] | undefined {
  let run: ChunkHead[] = []
  for (const h of q.heads) {
    if (isSmall(h) && h.live > 0) {
      run.push(h)
      if (run.length >= MERGE_MAX) return run
    } else if (run.length >= 2) return run
    else run = []
  }
  return run.length >= 2 ? run : undefined
}

/** The chunks of one queue. */
export class QueueChunks {
  /** Ascending by first seq. */
  heads: ChunkHead[] = []
  readonly byId = new Map<number, ChunkHead>()
  /** No two chunks' seq ranges overlap (the usual case): a seq is found by binary search. */
  disjoint = true
  count = 0
  lastSeq = 0
  nextId = 0
  /** Heads under SMALL_CHUNK messages. */
  small = 0
  /** Merge once `small` reaches this (raised when a merge could not shrink anything). */
  mergeAt = MERGE_AT

  constructor(readonly queue: string) {}

  static load(queue: string, heads: ChunkHead[], counter: QueueCounter | undefined): QueueChunks {
    const q = new QueueChunks(queue)
    q.heads = heads.sort((a, b) => a.first - b.first)
    for (const h of heads) {
      q.byId.set(h.id, h)
      if (isSmall(h)) q.small++
      q.count += h.live
      q.nextId = Math.max(q.nextId, h.id + 1)
    }
    q.lastSeq = counter?.lastSeq ?? 0
    q.checkDisjoint()
    return q
  }

  /** The head holding `seq` not gone, if any (a re-put seq may also sit, gone, in an older chunk). */
  find(seq: number, current: (h: ChunkHead) => ChunkHead = (h) => h): { head: ChunkHead; pos: number } | undefined {
    if (this.disjoint) {
      let lo = 0
      let hi = this.heads.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (this.heads[mid]!.first <= seq) lo = mid
        else hi = mid - 1
      }
      const h = this.heads[lo]
      if (!h) return undefined
      const head = current(h)
      const pos = positionOf(head, seq)
      return pos >= 0 && !isGone(head, pos) ? { head, pos } : undefined
    }
    for (const h of this.heads) {
      const head = current(h)
      const pos = positionOf(head, seq)
      if (pos >= 0 && !isGone(head, pos)) return { head, pos }
    }
    return undefined
  }

  /** Heads that may hold seqs above `after`, ascending by first. */
  after(after: number): ChunkHead[] {
    return this.heads.filter((h) => h.live > 0 && lastSeqOf(h) > after)
  }

  add(head: ChunkHead): void {
    this.byId.set(head.id, head)
    if (isSmall(head)) this.small++
    this.count += head.live
    const last = this.heads[this.heads.length - 1]
    if (!last || head.first > lastSeqOf(last)) {
      this.heads.push(head)
      return
    }
    let at = this.heads.length
    while (at > 0 && this.heads[at - 1]!.first > head.first) at--
    // A compacted chunk goes back where the original was, touching neither neighbour.
    const prev = this.heads[at - 1]
    const next = this.heads[at]
    if ((prev && lastSeqOf(prev) >= head.first) || (next && next.first <= lastSeqOf(head))) this.disjoint = false
    this.heads.splice(at, 0, head)
  }

  remove(ids: ReadonlySet<number>): void {
    if (ids.size === 0) return
    for (const id of ids) {
      const h = this.byId.get(id)
      if (!h) continue
      this.count -= h.live
      if (isSmall(h)) this.small--
      this.byId.delete(id)
    }
    this.heads = this.heads.filter((h) => !ids.has(h.id))
    if (!this.disjoint) this.checkDisjoint()
  }

  private checkDisjoint(): void {
    this.disjoint = this.heads.every((h, i) => i === 0 || h.first > lastSeqOf(this.heads[i - 1]!))
  }
}

/** One batch's changes to one queue, applied to the index only after the commit. */
export class QueueDraft {
  /** queue.delete ran in this batch: every chunk committed before is gone. */
  reset = false
  /** Copies of the committed heads this batch changed, by id. */
  readonly changed = new Map<number, ChunkHead>()
  /** Messages put by this batch, by seq: they become one new chunk. */
  readonly fresh = new Map<number, StoredMessage>()
  count: number
  lastSeq: number
  /** The new chunks' heads, once freshChunks() built them. */
  readonly added: ChunkHead[] = []

  constructor(readonly base: QueueChunks) {
    this.count = base.count
    this.lastSeq = base.lastSeq
  }

  put(message: StoredMessage): void {
    const { seq } = message
    if (seq > this.lastSeq) {
      // Above every seq ever stored (the publish path): nothing to replace.
      this.fresh.set(seq, message)
      this.count++
      this.lastSeq = seq
      return
    }
    if (!this.fresh.has(seq)) {
      // A re-put replaces: the older copy goes.
      if (!this.goneAt(seq)) this.count++
    }
    this.fresh.set(seq, message)
    if (seq > this.lastSeq) this.lastSeq = seq
  }

  delete(seq: number): void {
    if (this.fresh.delete(seq) || this.goneAt(seq)) this.count--
  }

  update(seq: number, redelivered: boolean, deliveryCount: number): void {
    const m = this.fresh.get(seq)
    if (m) {
      this.fresh.set(seq, { ...m, redelivered, deliveryCount })
      return
    }
    const found = this.find(seq)
    if (!found) return
    const head = this.touch(found.head)
    const updates = (head.updates ??= [])
    const entry: [number, number, number] = [found.pos, redelivered ? 1 : 0, deliveryCount]
    const i = updates.findIndex((u) => u[0] === found.pos)
    if (i >= 0) updates[i] = entry
    else updates.push(entry)
  }

  /** Every message with from <= seq <= to goes. */
  deleteRange(from: number, to: number): void {
    for (const seq of [...this.fresh.keys()]) {
      if (seq >= from && seq <= to) {
        this.fresh.delete(seq)
        this.count--
      }
    }
    if (this.reset) return
    for (const h of this.base.heads) {
      if (h.first > to || lastSeqOf(h) < from) continue
      const current = this.changed.get(h.id) ?? h
      if (current.live === 0) continue
      for (let pos = 0; pos < current.n; pos++) {
        const seq = seqAt(current, pos)
        if (seq < from || seq > to || isGone(current, pos)) continue
        this.markGone(this.touch(current), pos)
        this.count--
      }
    }
  }

  /** queue.delete: nothing of the queue is left, and its seqs start again. */
  drop(): void {
    this.reset = true
    this.changed.clear()
    this.fresh.clear()
    this.count = 0
    this.lastSeq = 0
  }

  /** The new chunks for this batch's puts (ascending by seq): usually one. */
  freshChunks(): Array<{ head: ChunkHead; messages: StoredMessage[] }> {
    if (this.fresh.size === 0) return []
    const messages = [...this.fresh.values()]
    for (let i = 1; i < messages.length; i++) {
      if (messages[i]!.seq < messages[i - 1]!.seq) {
        messages.sort((a, b) => a.seq - b.seq)
        break
      }
    }
    return packBySize(messages).map((run) => {
      const head = headOf(this.base.queue, this.base.nextId++, run)
      this.added.push(head)
      return { head, messages: run }
    })
  }

  /** After the commit: the index becomes what this batch wrote. */
  commit(): void {
    const q = this.base
    if (this.reset) q.remove(new Set(q.byId.keys()))
    const emptied = new Set<number>()
    for (const [id, head] of this.changed) {
      const target = q.byId.get(id)
      if (!target) continue
      Object.assign(target, head)
      if (head.live === 0) emptied.add(id)
    }
    q.remove(emptied)
    for (const head of this.added) q.add(head)
    q.count = this.count
    q.lastSeq = this.lastSeq
  }

  /** Marks the committed copy of `seq` gone, if there is one not gone yet. */
  private goneAt(seq: number): boolean {
    const found = this.find(seq)
    if (!found) return false
    this.markGone(this.touch(found.head), found.pos)
    return true
  }

  private find(seq: number): { head: ChunkHead; pos: number } | undefined {
    if (this.reset) return undefined
    return this.base.find(seq, (h) => this.changed.get(h.id) ?? h)
  }

  private touch(head: ChunkHead): ChunkHead {
    const own = this.changed.get(head.id)
    if (own) return own
    const copy: ChunkHead = { ...head, gone: head.gone ? head.gone.slice() : new Uint8Array((head.n + 7) >> 3) }
    if (head.updates) copy.updates = head.updates.map((u) => [...u] as [number, number, number])
    this.changed.set(head.id, copy)
    return copy
  }

  private markGone(head: ChunkHead, pos: number): void {
    head.gone![pos >> 3]! |= 1 << (pos & 7)
    head.live--
    if (head.updates) head.updates = head.updates.filter((u) => u[0] !== pos)
  }
}

/** A chunk's messages not gone, with their updates applied, ascending by seq. */
export function liveMessages(head: ChunkHead, messages: StoredMessage[], after = -Infinity): StoredMessage[] {
  const out: StoredMessage[] = []
  const updates = head.updates ? new Map(head.updates.map((u) => [u[0], u])) : undefined
  for (let pos = 0; pos < messages.length; pos++) {
    const m = messages[pos]!
    if (m.seq <= after || isGone(head, pos)) continue
    const u = updates?.get(pos)
    if (u) {
      m.redelivered = u[1] === 1
      m.deliveryCount = u[2]
    }
    out.push(m)
  }
  return out
}
