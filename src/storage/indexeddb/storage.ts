/**
 * Storage on IndexedDB: one database per vhost, group commit, messages packed into chunks
 * (one per queue per commit) with their heads indexed in memory (chunks.ts), counters in meta.
 *
 * Group commit: apply() calls queue up; the batch closes at the next microtask and is
 * written in ONE readwrite transaction; every caller's promise settles at that
 * transaction's `complete` (or all reject together: nothing is partially confirmed).
 * While a transaction is in flight, new calls gather into the next batch, so under load
 * batches grow by themselves (IndexedDB would run overlapping readwrite transactions one
 * after the other anyway).
 */
import { unwrap, type IDBPObjectStore, type IDBPTransaction } from 'idb'
import {
  StorageFailure,
  type Definitions,
  type Durability,
  type Storage,
  type StorageOp,
  type StoredMessage,
  type StoredStreamEntry,
  type StoredStreamSegment,
} from '../types.js'
import { isDataError, toStorageFailure } from './errors.js'
import { invalidOp } from './keys.js'
import { copyOps } from './copy.js'
import { headOf, isCompactable, liveMessages, MERGE_AT, packBySize, QueueChunks, smallRun } from './chunks.js'
import { openDatabase } from './open.js'
import {
  counterRange,
  fromBindingRecord,
  queueOfCounterKey,
  streamRange,
  type ChunkHead,
  type MessageChunk,
  type QueueCounter,
  type StoreName,
  type WarrenDB,
  type WarrenDatabase,
} from './schema.js'
import { BatchWriter, request, storesFor } from './writer.js'

/**
 * Test only: called inside a compaction's transaction at `step`; the transaction is kept
 * alive until the returned promise settles, so a test can kill the context right there.
 * Only reachable through this symbol, which no host or option parser passes.
 */
export const COMPACTION_PROBE = Symbol('warren.compactionProbe')
export type CompactionStep = 'read' | 'written'
export type CompactionProbe = (step: CompactionStep) => Promise<void>

/** Chunks one compaction transaction rewrites at most (it delays the next group commit). */
const COMPACT_PER_TX = 8

export interface IndexedDBStorageOptions {
  /** The vhost; the database is named `warren:<vhost>` unless `dbName` is given. */
  vhost: string
  /** Durability of write transactions unless apply() asks for 'strict'. Default 'relaxed'. */
  durability?: Durability
  /** IndexedDB factory (default: the global `indexedDB`); tests pass a fake one. */
  factory?: IDBFactory
  dbName?: string
  [COMPACTION_PROBE]?: CompactionProbe
}

interface Pending {
  readonly ops: readonly StorageOp[]
  readonly strict: boolean
  resolve(): void
  reject(err: StorageFailure): void
}

/** db.transaction() itself threw: nothing was written, so the batch may be retried. */
class NotStarted {
  constructor(readonly cause: unknown) {}
}

type State = 'new' | 'open' | 'closing' | 'closed'

export class IndexedDBStorage implements Storage {
  readonly dbName: string
  private readonly factory: IDBFactory | undefined
  private readonly durability: Durability
  private state: State = 'new'
  private db: WarrenDatabase | undefined
  private connecting: Promise<{ db: WarrenDatabase; epoch?: number }> | undefined
  /** Committed chunk heads and counters per queue, loaded at connect and kept in step by every batch. */
  private index = new Map<string, QueueChunks>()
  /** Heads that may be worth compacting, by queue. */
  private compactable = new Map<string, Set<number>>()
  /** Queues with enough small chunks to merge. */
  private mergeable = new Set<string>()
  private readonly probe: CompactionProbe | undefined
  /** The definitions open() read, for the first loadDefinitions() (dropped by any write). */
  private opened: Definitions | undefined
  private waiting: Pending[] = []
  private busy = false
  private draining: Promise<void> = Promise.resolve()

  constructor(options: IndexedDBStorageOptions) {
    this.dbName = options.dbName ?? `warren:${options.vhost}`
    this.durability = options.durability ?? 'relaxed'
    this.factory = options.factory
    this.probe = options[COMPACTION_PROBE]
  }

  async open(): Promise<{ epoch: number }> {
    while (this.state === 'closing') await this.draining
    this.state = 'open'
    try {
      let db = this.db
      if (!db) {
        // Connecting reads the index, bumps the epoch and reads the definitions in one transaction.
        const connected = await this.connect(true)
        if (connected.epoch !== undefined) return { epoch: connected.epoch }
        db = connected.db // a connection another call had started
      }
      const tx = db.transaction('meta', 'readwrite', { durability: 'strict' })
      const epoch = await bumpEpoch(tx.store)
      await tx.done
      return { epoch }
    } catch (err) {
      this.state = 'closed'
      this.dropConnection()
      throw toStorageFailure(err)
    }
  }

  loadDefinitions(): Promise<Definitions> {
    // What open() read in the same transaction as the epoch, unless a write came since.
    const read = this.opened
    this.opened = undefined
    if (read && this.state === 'open') return Promise.resolve(read)
    return this.read(async (db) => {
      const tx = db.transaction(['exchanges', 'queues', 'bindings'], 'readonly')
      quiet(tx.done)
      return readDefinitions(tx)
    })
  }

  /**
   * Reads the chunks that hold the next `limit` seqs above `afterSeq` (known from the heads
   * in memory) and keeps what is not gone. Sees what is committed, not apply() calls still
   * waiting for their batch.
   */
  loadMessages(queue: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    if (!(limit > 0)) return this.read(async () => [])
    return this.read(async (db) => {
      // A chunk compacted (or emptied) between picking it and reading it: pick again.
      for (let attempt = 0; ; attempt++) {
        if (attempt === 8) throw new StorageFailure('unknown', `a chunk of queue '${queue}' is missing from the database`)
        const q = this.index.get(queue)
        if (!q) return []
        const candidates = q.after(afterSeq)
        let picked = candidates
        if (q.disjoint) {
          // Ascending and disjoint: enough chunks to hold `limit` messages above afterSeq
          // (the first may hold seqs at or below it: it counts only if it starts above).
          let above = 0
          let n = 0
          while (n < candidates.length && above < limit) {
            const h = candidates[n++]!
            if (h.first > afterSeq) above += h.live
          }
          picked = candidates.slice(0, n)
        }
        if (picked.length === 0) return []
        const tx = db.transaction('chunks', 'readonly')
        quiet(tx.done)
        const raw = unwrap(tx.store)
        const bodies = await Promise.all(picked.map((h) => request(raw.get([queue, h.id]) as IDBRequest<MessageChunk | undefined>)))
        const out: StoredMessage[] = []
        let stale = false
        for (let i = 0; i < picked.length && !stale; i++) {
          const head = this.index.get(queue)?.byId.get(picked[i]!.id)
          const body = bodies[i]
          if (!head || !body) {
            stale = true
            break
          }
          for (const m of liveMessages(head, body.messages, afterSeq)) out.push(m)
        }
        if (stale) continue
        if (!q.disjoint) out.sort((a, b) => a.seq - b.seq)
        return Number.isFinite(limit) && out.length > limit ? out.slice(0, Math.floor(limit)) : out
      }
    })
  }

  loadStreamSegments(stream: string): Promise<StoredStreamSegment[]> {
    return this.read((db) => db.getAll('streamSegments', streamRange(stream)))
  }

  loadStreamEntries(stream: string, fromOffset: number, limit: number): Promise<StoredStreamEntry[]> {
    if (!(limit > 0)) return this.read(async () => [])
    const count = Number.isFinite(limit) ? Math.floor(limit) : undefined
    return this.read((db) => db.getAll('streamEntries', streamRange(stream, fromOffset), count))
  }

  /** From the index kept in memory (committed state): no IndexedDB count(), which is O(n). */
  countMessages(queue: string): Promise<number> {
    return this.read(async () => this.index.get(queue)?.count ?? 0)
  }

  /** From the same committed counter: the highest seq stored since the queue was created. */
  lastSeq(queue: string): Promise<number> {
    return this.read(async () => this.index.get(queue)?.lastSeq ?? 0)
  }

  apply(ops: readonly StorageOp[], durability?: Durability): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new StorageFailure('closed', 'storage is not open'))
    for (const op of ops) {
      const problem = invalidOp(op)
      if (problem) return Promise.reject(new StorageFailure('unknown', problem))
    }
    this.opened = undefined
    let copy: StorageOp[]
    try {
      // Copy now: the caller may change its objects before the batch is written.
      // A value that cannot be cloned fails this call alone, before it joins a batch.
      copy = copyOps(ops)
    } catch (err) {
      return Promise.reject(toStorageFailure(err))
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ ops: copy, strict: durability === 'strict', resolve, reject })
      if (!this.busy) {
        this.busy = true
        // The batch closes here: every apply() of this turn is already queued.
        this.draining = Promise.resolve().then(() => this.drain())
      }
    })
  }

  /** Commits what is already queued, then closes the connection. */
  async close(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'closing'
    while (this.busy) await this.draining
    this.dropConnection()
    this.opened = undefined
    this.index = new Map()
    this.compactable = new Map()
    this.mergeable = new Set()
    this.state = 'closed'
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        while (this.waiting.length > 0) {
          const batch = this.waiting
          this.waiting = []
          await this.commitBatch(batch)
        }
        // Idle: compact a few mostly-gone chunks, then look for new batches again.
        if ((this.compactable.size === 0 && this.mergeable.size === 0) || this.state !== 'open' || !(await this.compactSome())) break
      }
    } finally {
      this.busy = false
    }
  }

  /** Settles every member of the batch; never throws. */
  private async commitBatch(batch: Pending[]): Promise<void> {
    const empty = batch.filter((m) => m.ops.length === 0)
    await this.commitMembers(batch.filter((m) => m.ops.length > 0))
    // Nothing to write, but still settled in order: after the writes of its batch.
    for (const m of empty) m.resolve()
  }

  private async commitMembers(batch: Pending[]): Promise<void> {
    let members = batch
    let retried = false
    while (members.length > 0) {
      try {
        const db = this.db ?? (await this.connect()).db
        const culprit = await this.write(db, members)
        if (!culprit) {
          for (const m of members) m.resolve()
          return
        }
        // One caller's data could not be stored: fail only that caller, redo the rest.
        culprit.member.reject(toStorageFailure(culprit.error))
        members = members.filter((m) => m !== culprit.member)
      } catch (err) {
        const cause = err instanceof NotStarted ? err.cause : err
        const failure = toStorageFailure(cause)
        // Closed: reopen next time. Quota: some browsers leave the connection read-only.
        if (failure.reason === 'closed' || failure.reason === 'quota') this.dropConnection()
        if (err instanceof NotStarted && !retried) {
          retried = true
          continue
        }
        for (const m of members) m.reject(failure)
        return
      }
    }
  }

  /** One transaction for all members. Returns the member whose data was refused, if any. */
  private async write(
    db: WarrenDatabase,
    members: Pending[],
  ): Promise<{ member: Pending; error: unknown } | undefined> {
    const strict = members.some((m) => m.strict)
    let raw: IDBTransaction
    try {
      const tx = db.transaction(storesFor(members.flatMap((m) => m.ops)), 'readwrite', {
        durability: strict ? 'strict' : this.durability,
      })
      quiet(tx.done) // idb's own done promise; ours below keeps tx.error (quota) intact
      raw = unwrap(tx)
    } catch (err) {
      throw new NotStarted(err)
    }
    const done = transactionDone(raw)
    const writer = new BatchWriter(raw, this.index)
    for (const owner of members) for (const op of owner.ops) {
      try {
        const wait = writer.issue(op)
        if (wait) await wait
      } catch (err) {
        const cause = await abortAndExplain(raw, done, err)
        if (cause === err && isDataError(err)) return { member: owner, error: err }
        throw cause
      }
    }
    try {
      await writer.finish()
    } catch (err) {
      throw await abortAndExplain(raw, done, err)
    }
    await done
    writer.commitTo(this.index)
    for (const draft of writer.touched()) {
      for (const head of draft.changed.values()) this.noteCompactable(head)
      if (draft.reset) this.compactable.delete(draft.base.queue)
      this.noteMergeable(draft.base)
    }
    return undefined
  }

  private noteMergeable(q: QueueChunks): void {
    if (q.small >= q.mergeAt && this.index.get(q.queue) === q) this.mergeable.add(q.queue)
    else this.mergeable.delete(q.queue)
  }

  private noteCompactable(head: ChunkHead): void {
    let ids = this.compactable.get(head.queue)
    if (isCompactable(head)) {
      if (!ids) this.compactable.set(head.queue, (ids = new Set()))
      ids.add(head.id)
    } else if (ids?.delete(head.id) && ids.size === 0) this.compactable.delete(head.queue)
  }

  /**
   * Rewrites up to COMPACT_PER_TX mostly-gone chunks (each as a new chunk of its messages
   * left, updates applied), or merges a run of small chunks, in ONE transaction with the
   * deletes of the old ones: a crash at any point leaves either the old chunks or the new
   * ones. Returns whether it did any.
   */
  private async compactSome(): Promise<boolean> {
    const groups: ChunkHead[][] = []
    for (const [queue, ids] of this.compactable) {
      for (const id of ids) {
        const head = this.index.get(queue)?.byId.get(id)
        if (head && isCompactable(head)) groups.push([head])
        else ids.delete(id)
        if (groups.length >= COMPACT_PER_TX) break
      }
      if (ids.size === 0) this.compactable.delete(queue)
      if (groups.length >= COMPACT_PER_TX) break
    }
    let merging: QueueChunks | undefined
    if (groups.length === 0) {
      for (const queue of this.mergeable) {
        const q = this.index.get(queue)
        const run = q && smallRun(q)
        if (run) {
          merging = q
          groups.push(run)
          break
        }
        if (q) q.mergeAt = q.small + MERGE_AT
        this.mergeable.delete(queue)
      }
    }
    if (groups.length === 0) return false
    const forget = () => {
      for (const group of groups) for (const old of group) this.compactable.get(old.queue)?.delete(old.id)
    }
    try {
      const db = this.db ?? (await this.connect()).db
      const tx = unwrap(db.transaction(['chunks', 'heads'], 'readwrite', { durability: this.durability }))
      const done = transactionDone(tx)
      const chunks = tx.objectStore('chunks')
      const heads = tx.objectStore('heads')
      const replaced: Array<{ old: ChunkHead[]; added: ChunkHead[] }> = []
      try {
        const bodies = await Promise.all(
          groups.map((group) => Promise.all(group.map((h) => request(chunks.get([h.queue, h.id]) as IDBRequest<MessageChunk | undefined>)))),
        )
        await this.pause(tx, 'read')
        for (let i = 0; i < groups.length; i++) {
          const group = groups[i]!
          const queue = group[0]!.queue
          const q = this.index.get(queue)!
          const left: StoredMessage[] = []
          group.forEach((h, j) => {
            const body = bodies[i]![j]
            if (body) for (const m of liveMessages(h, body.messages)) left.push(m)
          })
          left.sort((a, b) => a.seq - b.seq)
          const runs = left.length > 0 ? packBySize(left) : []
          // A merge that would not shrink the run is not worth its writes.
          if (group.length > 1 && runs.length >= group.length) {
            q.mergeAt = q.small + MERGE_AT
            continue
          }
          const added = runs.map((run) => {
            const head = headOf(queue, q.nextId++, run)
            chunks.put({ queue, id: head.id, messages: run })
            heads.put(head)
            return head
          })
          replaced.push({ old: group, added })
        }
        await this.pause(tx, 'written')
        for (const { old } of replaced) {
          for (const h of old) {
            chunks.delete([h.queue, h.id])
            heads.delete([h.queue, h.id])
          }
        }
      } catch (err) {
        throw await abortAndExplain(tx, done, err)
      }
      await done
      for (const { old, added } of replaced) {
        const q = this.index.get(old[0]!.queue)
        q?.remove(new Set(old.map((h) => h.id)))
        for (const head of added) q?.add(head)
      }
      forget()
      if (merging) this.noteMergeable(merging)
      return replaced.length > 0 || this.compactable.size > 0 || this.mergeable.size > 0
    } catch {
      // Compaction is an optimisation: on failure the old chunks stay as they were.
      forget()
      if (merging) {
        merging.mergeAt = merging.small + MERGE_AT
        this.mergeable.delete(merging.queue)
      }
      return false
    }
  }

  /** The test probe's pause, keeping `tx` alive meanwhile (it commits once it has nothing to do). */
  private async pause(tx: IDBTransaction, step: CompactionStep): Promise<void> {
    if (!this.probe) return
    let released = false
    const pending = this.probe(step).finally(() => (released = true))
    const heads = tx.objectStore('heads')
    while (!released) await request(heads.count())
    await pending
  }

  private read<T>(fn: (db: WarrenDatabase) => Promise<T>): Promise<T> {
    if (this.state !== 'open') return Promise.reject(new StorageFailure('closed', 'storage is not open'))
    const attempt = async (retry: boolean): Promise<T> => {
      try {
        return await fn(this.db ?? (await this.connect()).db)
      } catch (err) {
        const failure = toStorageFailure(err)
        if (failure.reason !== 'closed') throw failure
        this.dropConnection()
        if (retry) return attempt(false)
        throw failure
      }
    }
    return attempt(true)
  }

  /**
   * Opens the database (creating or migrating it) and loads the counters and chunk heads. When
   * `opening` (Storage.open), the same transaction, strict, also bumps the epoch and reads the
   * definitions: a cold start waits for one transaction after the open, not three.
   */
  private connect(opening = false): Promise<{ db: WarrenDatabase; epoch?: number }> {
    const connecting = (this.connecting ??= (async () => {
      try {
        const factory = this.factory ?? globalThis.indexedDB
        if (!factory) throw new StorageFailure('closed', 'IndexedDB is not available here')
        let opened: WarrenDatabase | undefined
        const db = await openDatabase(factory, this.dbName, {
          onClose: () => this.forget(opened),
          onVersionChange: () => {
            // Another context upgrades or deletes the database: step aside, reopen lazily.
            opened?.close()
            this.forget(opened)
          },
        })
        opened = db
        let keys: string[]
        let values: unknown[]
        let heads: ChunkHead[]
        let epoch: number | undefined
        try {
          if (opening) {
            const tx = db.transaction(['meta', 'heads', 'exchanges', 'queues', 'bindings'], 'readwrite', { durability: 'strict' })
            quiet(tx.done) // awaited below, once the reads are in
            const meta = tx.objectStore('meta')
            let definitions: Definitions
            ;[epoch, keys, values, heads, definitions] = await Promise.all([
              bumpEpoch(meta),
              meta.getAllKeys(counterRange()),
              meta.getAll(counterRange()),
              tx.objectStore('heads').getAll(),
              readDefinitions(tx),
            ])
            await tx.done
            this.opened = definitions
          } else {
            const tx = db.transaction(['meta', 'heads'], 'readonly')
            quiet(tx.done)
            const meta = tx.objectStore('meta')
            ;[keys, values, heads] = await Promise.all([
              meta.getAllKeys(counterRange()),
              meta.getAll(counterRange()),
              tx.objectStore('heads').getAll(),
            ])
          }
        } catch (err) {
          db.close()
          throw err
        }
        const counters = new Map(keys.map((k, i) => [queueOfCounterKey(k), values[i] as QueueCounter]))
        const byQueue = new Map<string, ChunkHead[]>()
        for (const head of heads) {
          const list = byQueue.get(head.queue)
          if (list) list.push(head)
          else byQueue.set(head.queue, [head])
        }
        this.index = new Map()
        this.compactable = new Map()
        for (const queue of new Set([...counters.keys(), ...byQueue.keys()])) {
          this.index.set(queue, QueueChunks.load(queue, byQueue.get(queue) ?? [], counters.get(queue)))
        }
        for (const head of heads) this.noteCompactable(head)
        for (const q of this.index.values()) this.noteMergeable(q)
        this.db = db
        return { db, ...(epoch !== undefined ? { epoch } : {}) }
      } finally {
        this.connecting = undefined
      }
    })())
    return connecting
  }

  private forget(db: WarrenDatabase | undefined): void {
    if (db && this.db === db) this.db = undefined
  }

  private dropConnection(): void {
    const db = this.db
    this.db = undefined
    try {
      db?.close()
    } catch {
      // Already closed.
    }
  }
}

/** Reads the previous epoch and stores the next one (which it returns) in `meta`. */
async function bumpEpoch(meta: IDBPObjectStore<WarrenDB, StoreName[], 'meta', 'readwrite'>): Promise<number> {
  const previous = await meta.get('epoch')
  const epoch = (typeof previous === 'number' ? previous : 0) + 1
  quiet(meta.put(epoch, 'epoch'))
  return epoch
}

async function readDefinitions(tx: IDBPTransaction<WarrenDB, StoreName[], IDBTransactionMode>): Promise<Definitions> {
  const [exchanges, queues, bindings] = await Promise.all([
    tx.objectStore('exchanges').getAll(),
    tx.objectStore('queues').getAll(),
    tx.objectStore('bindings').getAll(),
  ])
  return { exchanges, queues, bindings: bindings.map(fromBindingRecord) }
}

function transactionDone(tx: IDBTransaction): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'))
  })
  done.catch(() => {}) // Observed by the caller; avoid an unhandled rejection while it issues.
  return done
}

/** For promises whose failure is reported elsewhere. */
function quiet(p: Promise<unknown>): void {
  p.catch(() => {})
}

/**
 * Something threw while issuing. If the transaction had already aborted (quota, closed,
 * aborted elsewhere), that abort is the real cause; otherwise abort it and blame `err`.
 */
async function abortAndExplain(tx: IDBTransaction, done: Promise<void>, err: unknown): Promise<unknown> {
  let abortedHere = true
  try {
    tx.abort()
  } catch {
    abortedHere = false // already aborted (or finished)
  }
  const outcome = await done.then(() => undefined, (e: unknown) => e)
  return abortedHere ? err : (outcome ?? err)
}
