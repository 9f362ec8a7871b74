import type { FieldTable } from '../protocol/frames.js'
import type { ConsumerState } from './channel.js'
import type { QueuedMessage } from './message.js'
import { Paging } from './paging.js'
import type { QueueArguments } from './queue-arguments.js'
import type { QueueDeclaration, QueueType } from './queue-type.js'
import { PriorityReady, ReadyList, type Ready } from './ready.js'

export interface QueueCounters {
  published: number
  delivered: number
  acked: number
  redelivered: number
  deadLettered: number
  expired: number
}

/**
 * One queue: what every queue type shares (name, flags, arguments, consumers and the choice of
 * who gets the next message, counters, x-expires) and the ready list of the types that keep
 * one (classic, quorum). Its type (queue-type.ts) does everything else; a type with its own
 * state subclasses this.
 */
export class QueueState {
  readonly name: string
  readonly durable: boolean
  /** Connection that owns an exclusive queue. */
  readonly owner: string | undefined
  readonly autoDelete: boolean
  readonly args: FieldTable
  readonly ready: Ready
  readyBytes = 0
  /** Deliveries not yet settled, over every channel. */
  unacked = 0
  /** In registration order (single active consumer and round-robin rely on it). */
  readonly consumers: ConsumerState[] = []
  /** An auto-delete queue goes only after it once had a consumer. */
  hadConsumer = false
  nextSeq = 1
  deleted = false
  readonly counters: QueueCounters = { published: 0, delivered: 0, acked: 0, redelivered: 0, deadLettered: 0, expired: 0 }
  /** Cancels the pending head-expiry timer. */
  cancelHeadTimer: (() => void) | undefined
  /** Deadline of the pending head-expiry timer. */
  headTimerAt: number | undefined
  /** Cancels the pending x-expires timer. */
  cancelExpiryTimer: (() => void) | undefined
  /** Last use (consume, get, declare) for x-expires, on the broker clock. */
  lastUsedAt = 0
  /** Bounded memory: set for queues whose stored messages may be paged out (see paging.ts). */
  paging: Paging | undefined
  private cursor = 0
  private active: ConsumerState | undefined

  constructor(
    declaration: QueueDeclaration,
    readonly options: QueueArguments,
    readonly type: QueueType,
  ) {
    this.name = declaration.name
    this.durable = declaration.durable
    this.owner = declaration.owner
    this.autoDelete = declaration.autoDelete
    this.args = declaration.args
    this.ready = options.maxPriority !== undefined ? new PriorityReady(options.maxPriority) : new ReadyList()
  }

  get exclusive(): boolean {
    return this.owner !== undefined
  }

  /** Ready messages, in memory or paged out. */
  get messageCount(): number {
    return this.ready.length + (this.paging?.size ?? 0)
  }

  /** Bytes of the ready messages, in memory or paged out. */
  get messageBytes(): number {
    return this.readyBytes + (this.paging?.sizeBytes ?? 0)
  }

  /** Keeps at most `window` ready messages in memory; priority queues keep all (see paging.ts). */
  enablePaging(window: number): void {
    if (this.options.maxPriority === undefined) this.paging = new Paging(window)
  }

  push(message: QueuedMessage): void {
    this.ready.push(message)
    this.readyBytes += message.size
  }

  shift(): QueuedMessage | undefined {
    const message = this.ready.shift()
    if (message) this.readyBytes -= message.size
    return message
  }

  /** Every ready message in memory, overflow included (the paged ones: paging.drop). */
  drainReady(): QueuedMessage[] {
    this.readyBytes = 0
    const ready = this.ready.drain()
    return this.paging ? ready.concat(this.paging.takeOverflow(Infinity)) : ready
  }

  /** Over a length limit (drop-head trims until this is false). */
  get overLimit(): boolean {
    const { maxLength, maxLengthBytes } = this.options
    return (maxLength !== undefined && this.messageCount > maxLength) || (maxLengthBytes !== undefined && this.messageBytes > maxLengthBytes)
  }

  /** Would a message of `size` bytes go over a limit? reject-publish refuses it (RabbitMQ's will_overflow). */
  wouldOverflow(size: number): boolean {
    const { maxLength, maxLengthBytes } = this.options
    return (maxLength !== undefined && this.messageCount + 1 > maxLength) || (maxLengthBytes !== undefined && this.messageBytes + size > maxLengthBytes)
  }

  addConsumer(consumer: ConsumerState): void {
    this.consumers.push(consumer)
    this.hadConsumer = true
    if (this.options.singleActiveConsumer && !this.active) this.active = consumer
  }

  /** Removes a consumer; returns the newly active one when single-active-consumer failed over. */
  removeConsumer(consumer: ConsumerState): ConsumerState | undefined {
    const index = this.consumers.indexOf(consumer)
    if (index < 0) return undefined
    this.consumers.splice(index, 1)
    if (index < this.cursor) this.cursor--
    if (this.active !== consumer) return undefined
    this.active = this.electActive()
    return this.active
  }

  /** The consumer a single-active-consumer queue delivers to. */
  get activeConsumer(): ConsumerState | undefined {
    return this.active
  }

  private electActive(): ConsumerState | undefined {
    let best: ConsumerState | undefined
    for (const consumer of this.consumers) if (!best || consumer.priority > best.priority) best = consumer
    return best
  }

  /**
   * Who gets the next message: the highest-priority consumers with credit, round-robin among
   * them (RabbitMQ's dispatch); with single active consumer, only the active one.
   */
  nextConsumer(): ConsumerState | undefined {
    if (this.options.singleActiveConsumer) return this.active?.hasCredit ? this.active : undefined
    const count = this.consumers.length
    let best: ConsumerState | undefined
    let bestIndex = 0
    for (let i = 0; i < count; i++) {
      const index = (this.cursor + i) % count
      const consumer = this.consumers[index]!
      if (!consumer.hasCredit) continue
      if (!best || consumer.priority > best.priority) {
        best = consumer
        bestIndex = index
      }
    }
    if (best) this.cursor = (bestIndex + 1) % count
    return best
  }
}
