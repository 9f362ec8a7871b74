/**
 * Bounded memory for one queue, as RabbitMQ's classic queues keep about 2048 messages in
 * memory and the rest on disk. Once a queue holds a window of ready messages, newer stored
 * messages (persistent, on a durable queue) are written but not kept: the queue counts them
 * ("paged") and loads them back a page at a time as its in-memory part drains. A backlog of
 * a million messages then costs disk, not heap.
 *
 * Only stored messages can be paged. A transient message arriving while older messages are
 * on disk must not overtake them, so it waits in `overflow` (it is in memory anyway) and is
 * merged by seq when the pages before it load.
 *
 * While `count > 0` (the tail is on disk): every message in memory, ready or unacked, has
 * seq <= cursor; every stored message with seq > cursor is paged; overflow holds transient
 * messages with seq > cursor, ascending.
 *
 * Priority queues are not paged (a page in seq order is not a page in delivery order).
 */
import type { Storage, StoredMessage } from '../storage/types.js'
import type { Clock } from './clock.js'
import type { QueuedMessage } from './message.js'

/** Messages a queue keeps in memory before paging (RabbitMQ's classic queue default). */
export const DEFAULT_QUEUE_WINDOW = 2048

/**
 * Settles (with undefined) once both have, in the same tick as Promise.all would. Not
 * Promise.all itself: its value holds the previous one's, and chained once per paged write
 * that made a list of arrays as long as all paged writes ever (31.8 MB of heap after
 * 1,000,000, measured in Chromium). Neither input rejects here.
 */
const both = (a: Promise<unknown>, b: Promise<unknown>): Promise<unknown> =>
  new Promise((resolve) => {
    let left = 2
    const one = () => {
      if (--left === 0) resolve(undefined)
    }
    a.then(one, one)
    b.then(one, one)
  })

/** After a failed load, try again after this long. */
const RETRY_MS = 1000

/** What a queue lends its pager: enough to know when and where to load. */
export interface PagedQueue {
  readonly name: string
  readonly deleted: boolean
  /** Ready messages in memory. */
  readonly ready: { readonly length: number }
}

export interface PagingHost {
  readonly storage: Storage
  readonly clock: Clock
  readonly stopped: boolean
  /** Loaded messages, in seq order, to push onto the queue; then trim, time and deliver. */
  loaded(messages: QueuedMessage[]): void
  failed(error: unknown): void
}

export class Paging {
  /** Stored messages on disk only. */
  count = 0
  /** Their bytes (after a recovery an estimate, corrected as pages load). */
  bytes = 0
  /** Highest seq in memory or loaded: the next page starts after it. */
  cursor = 0
  /** Seqs up to this were stored before the broker started: they load flagged redelivered. */
  recoveredUpTo = 0
  overflowBytes = 0
  private overflow: QueuedMessage[] = []
  private overflowHead = 0
  private loading = false
  /** Bumped whenever the disk tail is dropped or given up: a load in flight is then stale. */
  private generation = 0
  /** Settles after every paged write so far: a load waits for it, so it sees every paged message. */
  private lastWrite: Promise<unknown> = Promise.resolve()
  /** Paged writes issued so far. */
  private writes = 0
  private waiters: Array<(loaded: boolean) => void> = []
  private cancelRetry: (() => void) | undefined

  constructor(readonly window: number) {}

  /** Older messages are on disk: new ones must queue behind them. */
  get onDisk(): boolean {
    return this.count > 0
  }

  /** Ready messages not in the in-memory list (on disk or waiting in overflow). */
  get size(): number {
    return this.count + this.overflow.length - this.overflowHead
  }

  get sizeBytes(): number {
    return this.bytes + this.overflowBytes
  }

  /** Whether a stored message skips memory: older ones are on disk, or memory is full. */
  shouldPage(readyLength: number): boolean {
    return this.count > 0 || readyLength >= this.window
  }

  /**
   * A stored message goes to disk only. `write` is its storage write; if it fails the
   * message was never stored (its publisher gets a nack) and is no longer counted, and
   * `gaveUp` runs when that leaves nothing on disk (the overflow must then go to memory).
   */
  pageOut(message: QueuedMessage, write: Promise<void>, gaveUp: (overflow: QueuedMessage[]) => void): void {
    if (this.count === 0) this.cursor = message.seq - 1
    this.count++
    this.bytes += message.size
    this.writes++
    const generation = this.generation
    const settled = write.then(
      () => undefined,
      () => {
        if (generation !== this.generation) return
        this.count--
        this.bytes = Math.max(0, this.bytes - message.size)
        if (this.count > 0) return
        this.bytes = 0
        this.generation++
        gaveUp(this.takeOverflow(Infinity))
        this.settleWaiters(true)
      },
    )
    // Storages settle writes in order, but a load must not rely on it: wait for all of them.
    this.lastWrite = both(this.lastWrite, settled)
  }

  /** A transient message behind messages on disk. */
  hold(message: QueuedMessage): void {
    this.overflow.push(message)
    this.overflowBytes += message.size
  }

  /**
   * Purge or delete: forgets the disk tail. Returns how many messages it held and the seqs
   * to delete from storage (nothing below cursor: those are in memory or unacked).
   */
  drop(lastSeq: number): { count: number; range: [number, number] | undefined } {
    const count = this.count
    const range: [number, number] | undefined = count > 0 ? [this.cursor + 1, lastSeq] : undefined
    this.count = 0
    this.bytes = 0
    this.generation++
    this.settleWaiters(false)
    return { count, range }
  }

  /** Resolves once the next load has merged (true) or failed (false); starts one if due. */
  whenLoaded(queue: PagedQueue, host: PagingHost): Promise<boolean> {
    if (!this.onDisk) return Promise.resolve(true)
    const loaded = new Promise<boolean>((resolve) => this.waiters.push(resolve))
    this.refill(queue, host, true)
    return loaded
  }

  /** Loads the next page if the in-memory part ran low (below half the window) and none is loading. */
  refill(queue: PagedQueue, host: PagingHost, force = false): void {
    if (this.count === 0) return this.settleWaiters(true)
    if (queue.deleted || host.stopped) return this.settleWaiters(false)
    if (this.loading) return
    // After a failed load, wait for the retry (a get still asks at once).
    if (!force && (this.cancelRetry || queue.ready.length >= Math.max(1, this.window >> 1))) return
    this.cancelRetry?.()
    this.cancelRetry = undefined
    this.loading = true
    const generation = this.generation
    const writesBefore = this.writes
    const limit = Math.max(1, this.window - queue.ready.length)
    this.lastWrite
      .then(() => host.storage.loadMessages(queue.name, this.cursor, limit))
      .then(
        (page) => {
          this.loading = false
          if (queue.deleted || host.stopped) return this.settleWaiters(false)
          if (generation !== this.generation) return this.refill(queue, host, this.waiters.length > 0)
          host.loaded(this.merge(page, page.length < limit && this.writes === writesBefore))
          this.settleWaiters(true)
        },
        (error: unknown) => {
          this.loading = false
          this.settleWaiters(false)
          if (queue.deleted || host.stopped) return
          host.failed(error)
          this.cancelRetry = host.clock.schedule(RETRY_MS, () => {
            this.cancelRetry = undefined
            this.refill(queue, host)
          })
        },
      )
  }

  /** Stops retrying (queue deleted, broker stopped). */
  stop(): void {
    this.cancelRetry?.()
    this.cancelRetry = undefined
    this.settleWaiters(false)
  }

  /**
   * A page read after `cursor`, merged with the overflow messages it makes due. `complete`:
   * the page was short and no paged write started meanwhile, so nothing else is on disk.
   */
  private merge(page: StoredMessage[], complete: boolean): QueuedMessage[] {
    const loaded: QueuedMessage[] = []
    for (const stored of page) {
      if (stored.seq <= this.cursor) continue
      loaded.push(fromStored(stored, stored.redelivered || stored.seq <= this.recoveredUpTo))
      this.count--
      this.bytes -= stored.size
      this.cursor = stored.seq
    }
    if (complete || this.count <= 0) {
      this.count = 0
      this.bytes = 0
    } else if (this.bytes < 0) this.bytes = 0
    // Transient messages may go to memory once nothing older is left on disk.
    const due = this.takeOverflow(this.count === 0 ? Infinity : this.cursor)
    if (due.length === 0) return loaded
    const merged: QueuedMessage[] = []
    let i = 0
    let j = 0
    while (i < loaded.length || j < due.length) {
      if (j >= due.length || (i < loaded.length && loaded[i]!.seq < due[j]!.seq)) merged.push(loaded[i++]!)
      else merged.push(due[j++]!)
    }
    return merged
  }

  /** Overflow messages up to a seq, in order, out of the overflow. */
  takeOverflow(upToSeq: number): QueuedMessage[] {
    const taken: QueuedMessage[] = []
    while (this.overflowHead < this.overflow.length && this.overflow[this.overflowHead]!.seq <= upToSeq) {
      const message = this.overflow[this.overflowHead]!
      this.overflow[this.overflowHead++] = undefined as unknown as QueuedMessage
      this.overflowBytes -= message.size
      taken.push(message)
    }
    if (this.overflowHead === this.overflow.length) {
      this.overflow = []
      this.overflowHead = 0
      this.overflowBytes = 0
    } else if (this.overflowHead > 1024 && this.overflowHead * 2 > this.overflow.length) {
      this.overflow = this.overflow.slice(this.overflowHead)
      this.overflowHead = 0
    }
    return taken
  }

  private settleWaiters(loaded: boolean): void {
    for (const resolve of this.waiters.splice(0)) resolve(loaded)
  }
}

/** A stored message back in a queue. */
export function fromStored(stored: StoredMessage, redelivered: boolean): QueuedMessage {
  return {
    seq: stored.seq,
    exchange: stored.exchange,
    routingKey: stored.routingKey,
    properties: stored.properties,
    body: stored.body,
    size: stored.size,
    expiresAt: stored.expiresAt,
    redelivered,
    deliveryCount: stored.deliveryCount,
    stored: true,
    publishId: stored.publishId,
  }
}
