// A Storage that can be told to fail: the next K write batches are refused as a transaction
// abort would refuse them. A batch is every apply() of one turn (IndexedDBStorage commits
// exactly those in one transaction), so the engine sees what a real failed transaction does:
// all writes of that turn fail together, never half of them.
import { StorageFailure, type Durability, type Storage, type StorageOp } from '../../../src/storage/types.js'

export class FaultyStorage implements Storage {
  /** Batches still to fail. */
  armed = 0
  failedBatches = 0
  #batch: 'ok' | 'fail' | undefined

  constructor(readonly inner: Storage) {}

  open() {
    return this.inner.open()
  }
  loadDefinitions() {
    return this.inner.loadDefinitions()
  }
  loadMessages(queue: string, afterSeq: number, limit: number) {
    return this.inner.loadMessages(queue, afterSeq, limit)
  }
  countMessages(queue: string) {
    return this.inner.countMessages(queue)
  }
  lastSeq(queue: string) {
    return this.inner.lastSeq(queue)
  }
  loadStreamSegments(stream: string) {
    return this.inner.loadStreamSegments(stream)
  }
  loadStreamEntries(stream: string, from: number, limit: number) {
    return this.inner.loadStreamEntries(stream, from, limit)
  }
  close() {
    return this.inner.close()
  }

  apply(ops: readonly StorageOp[], durability?: Durability): Promise<void> {
    if (this.#batch === undefined) {
      this.#batch = this.armed > 0 ? 'fail' : 'ok'
      if (this.#batch === 'fail') {
        this.armed--
        this.failedBatches++
      }
      // The batch closes at the next microtask, as IndexedDBStorage's does.
      queueMicrotask(() => {
        this.#batch = undefined
      })
    }
    if (this.#batch === 'fail') return Promise.reject(new StorageFailure('aborted', 'injected storage failure (reliability test)'))
    return this.inner.apply(ops, durability)
  }
}
