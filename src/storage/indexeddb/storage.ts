/**
 * Storage on IndexedDB: one database per vhost, group commit, counters in meta.
 *
 * Group commit: apply() calls queue up; the batch closes at the next microtask and is
 * written in ONE readwrite transaction; every caller's promise settles at that
 * transaction's `complete` (or all reject together: nothing is partially confirmed).
 * While a transaction is in flight, new calls gather into the next batch, so under load
 * batches grow by themselves (IndexedDB would run overlapping readwrite transactions one
 * after the other anyway).
 */
import { unwrap } from 'idb'
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
import { openDatabase } from './open.js'
import {
  counterRange,
  fromBindingRecord,
  messageRange,
  queueOfCounterKey,
  streamRange,
  type QueueCounter,
  type WarrenDatabase,
} from './schema.js'
import { BatchWriter, splitBatch, storesFor } from './writer.js'

export interface IndexedDBStorageOptions {
  /** The vhost; the database is named `warren:<vhost>` unless `dbName` is given. */
  vhost: string
  /** Durability of write transactions unless apply() asks for 'strict'. Default 'relaxed'. */
  durability?: Durability
  /** IndexedDB factory (default: the global `indexedDB`); tests pass a fake one. */
  factory?: IDBFactory
  dbName?: string
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
  private connecting: Promise<WarrenDatabase> | undefined
  /** Committed per-queue counters, loaded at connect and kept in step by every batch. */
  private counters = new Map<string, QueueCounter>()
  private waiting: Pending[] = []
  private busy = false
  private draining: Promise<void> = Promise.resolve()

  constructor(options: IndexedDBStorageOptions) {
    this.dbName = options.dbName ?? `warren:${options.vhost}`
    this.durability = options.durability ?? 'relaxed'
    this.factory = options.factory
  }

  async open(): Promise<{ epoch: number }> {
    while (this.state === 'closing') await this.draining
    this.state = 'open'
    try {
      const db = this.db ?? (await this.connect())
      // The epoch must never repeat, even after a crash: write it strictly.
      const tx = db.transaction('meta', 'readwrite', { durability: 'strict' })
      const previous = await tx.store.get('epoch')
      const epoch = (typeof previous === 'number' ? previous : 0) + 1
      quiet(tx.store.put(epoch, 'epoch'))
      await tx.done
      return { epoch }
    } catch (err) {
      this.state = 'closed'
      this.dropConnection()
      throw toStorageFailure(err)
    }
  }

  loadDefinitions(): Promise<Definitions> {
    return this.read(async (db) => {
      const tx = db.transaction(['exchanges', 'queues', 'bindings'], 'readonly')
      quiet(tx.done)
      const [exchanges, queues, bindings] = await Promise.all([
        tx.objectStore('exchanges').getAll(),
        tx.objectStore('queues').getAll(),
        tx.objectStore('bindings').getAll(),
      ])
      return { exchanges, queues, bindings: bindings.map(fromBindingRecord) }
    })
  }

  /**
   * One getAll over [queue, afterSeq] exclusive .. [queue, Infinity]. Sees what is
   * committed (or in a transaction created before this call), not apply() calls still
   * waiting for their batch.
   */
  loadMessages(queue: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    if (!(limit > 0)) return this.read(async () => [])
    const count = Number.isFinite(limit) ? Math.floor(limit) : undefined
    return this.read((db) => db.getAll('messages', messageRange(queue, afterSeq), count))
  }

  loadStreamSegments(stream: string): Promise<StoredStreamSegment[]> {
    return this.read((db) => db.getAll('streamSegments', streamRange(stream)))
  }

  loadStreamEntries(stream: string, fromOffset: number, limit: number): Promise<StoredStreamEntry[]> {
    if (!(limit > 0)) return this.read(async () => [])
    const count = Number.isFinite(limit) ? Math.floor(limit) : undefined
    return this.read((db) => db.getAll('streamEntries', streamRange(stream, fromOffset), count))
  }

  /** From the counter kept in memory (committed state): no IndexedDB count(), which is O(n). */
  countMessages(queue: string): Promise<number> {
    return this.read(async () => this.counters.get(queue)?.count ?? 0)
  }

  /** From the same committed counter: the highest seq stored since the queue was created. */
  lastSeq(queue: string): Promise<number> {
    return this.read(async () => this.counters.get(queue)?.lastSeq ?? 0)
  }

  apply(ops: readonly StorageOp[], durability?: Durability): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new StorageFailure('closed', 'storage is not open'))
    for (const op of ops) {
      const problem = invalidOp(op)
      if (problem) return Promise.reject(new StorageFailure('unknown', problem))
    }
    let copy: StorageOp[]
    try {
      // Copy now: the caller may change its objects before the batch is written.
      // A value that cannot be cloned fails this call alone, before it joins a batch.
      copy = structuredClone(ops as StorageOp[])
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
    this.counters = new Map()
    this.state = 'closed'
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting
        this.waiting = []
        await this.commitBatch(batch)
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
        const db = this.db ?? (await this.connect())
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
    const writer = new BatchWriter(raw, this.counters)
    const { simple, ordered } = splitBatch(members.flatMap((owner) => owner.ops.map((op) => ({ op, owner }))))
    try {
      for (const [queue, ops] of simple) writer.issueMessages(queue, ops)
    } catch (err) {
      throw await abortAndExplain(raw, done, err)
    }
    for (const { op, owner } of ordered) {
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
    writer.commitTo(this.counters)
    return undefined
  }

  private read<T>(fn: (db: WarrenDatabase) => Promise<T>): Promise<T> {
    if (this.state !== 'open') return Promise.reject(new StorageFailure('closed', 'storage is not open'))
    const attempt = async (retry: boolean): Promise<T> => {
      try {
        return await fn(this.db ?? (await this.connect()))
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

  /** Opens the database (creating or migrating it) and loads the counters. */
  private connect(): Promise<WarrenDatabase> {
    this.connecting ??= (async () => {
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
        try {
          const tx = db.transaction('meta', 'readonly')
          quiet(tx.done)
          ;[keys, values] = await Promise.all([tx.store.getAllKeys(counterRange()), tx.store.getAll(counterRange())])
        } catch (err) {
          db.close()
          throw err
        }
        this.counters = new Map(keys.map((k, i) => [queueOfCounterKey(k), values[i] as QueueCounter]))
        this.db = db
        return db
      } finally {
        this.connecting = undefined
      }
    })()
    return this.connecting
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
