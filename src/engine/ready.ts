import type { QueuedMessage } from './message.js'

/**
 * Ready messages of one queue in seq order. Publishing appends, consuming takes the head,
 * and a requeue puts a message back at its original position (RabbitMQ's rule), which
 * is a binary-search insert: rare next to appends and shifts.
 */
export class ReadyList {
  private items: QueuedMessage[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  peek(): QueuedMessage | undefined {
    return this.items[this.head]
  }

  shift(): QueuedMessage | undefined {
    if (this.head >= this.items.length) return undefined
    const message = this.items[this.head]
    this.items[this.head++] = undefined as unknown as QueuedMessage
    // Compact once the dead prefix dominates, so memory follows the live length.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return message
  }

  push(message: QueuedMessage): void {
    const last = this.items[this.items.length - 1]
    if (this.length === 0 || !last || last.seq < message.seq) {
      this.items.push(message)
      return
    }
    let low = this.head
    let high = this.items.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.items[mid]!.seq < message.seq) low = mid + 1
      else high = mid
    }
    if (low === this.head && this.head > 0) {
      this.items[--this.head] = message
      return
    }
    this.items.splice(low, 0, message)
  }

  /** Removes and returns every message (purge, delete). */
  drain(): QueuedMessage[] {
    const all = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return all
  }

  *[Symbol.iterator](): IterableIterator<QueuedMessage> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!
  }
}

/** A classic priority queue: one ReadyList per level, highest level first. */
export class PriorityReady {
  private readonly levels: ReadyList[]
  private count = 0

  constructor(readonly maxPriority: number) {
    this.levels = Array.from({ length: maxPriority + 1 }, () => new ReadyList())
  }

  get length(): number {
    return this.count
  }

  private levelOf(message: QueuedMessage): ReadyList {
    const raw = message.properties.priority ?? 0
    const level = Math.min(Math.max(0, Math.trunc(raw)), this.maxPriority)
    return this.levels[level]!
  }

  private top(): ReadyList | undefined {
    for (let i = this.levels.length - 1; i >= 0; i--) if (this.levels[i]!.length > 0) return this.levels[i]
    return undefined
  }

  peek(): QueuedMessage | undefined {
    return this.top()?.peek()
  }

  shift(): QueuedMessage | undefined {
    const level = this.top()
    if (!level) return undefined
    this.count--
    return level.shift()
  }

  push(message: QueuedMessage): void {
    this.levelOf(message).push(message)
    this.count++
  }

  drain(): QueuedMessage[] {
    this.count = 0
    return this.levels.flatMap((level) => level.drain()).sort((a, b) => a.seq - b.seq)
  }

  *[Symbol.iterator](): IterableIterator<QueuedMessage> {
    for (let i = this.levels.length - 1; i >= 0; i--) yield* this.levels[i]!
  }
}

export type Ready = ReadyList | PriorityReady
