/**
 * The queue types that keep a ready list and hand each message to one consumer: classic and
 * quorum (quorum-queue.ts). Everything about their messages lives here: taking a publish
 * (length limits, TTL, paging), the head and its expiry timer, dispatch to consumers,
 * settling and returns, purge, delete and recovery. The two types differ only in their
 * MessageQueuePolicy.
 */
import type { MessageProperties } from '../protocol/frames.js'
import type { Durability, Storage, StorageOp } from '../storage/types.js'
import type { ChannelState, ConsumerState } from './channel.js'
import type { QueuedMessage } from './message.js'
import { Paging, fromStored, type PagingHost } from './paging.js'
import { storedPut } from './persistence.js'
import type { QueueArguments } from './queue-arguments.js'
import type {
  EnqueueOptions,
  EnqueueOutcome,
  IncomingMessage,
  QueueDeclaration,
  QueueType,
  QueueTypeContext,
  QueueTypeName,
  Settlement,
  Taken,
} from './queue-type.js'
import { QueueState } from './queue.js'

/** Recovery reads a queue's first window in pages of this many. */
const RECOVERY_PAGE = 10_000

/** What sets quorum queues apart from classic ones. */
export interface MessageQueuePolicy {
  readonly name: QueueTypeName
  validate(declaration: QueueDeclaration): QueueArguments
  /** A returned message goes to the back of the queue (quorum) rather than its original position (classic). */
  readonly requeueAtBack: boolean
  /** Every message of a durable queue is stored, transient or not (quorum). */
  readonly storesEveryMessage: boolean
  /** Whether a return of this cause counts toward x-delivery-limit. */
  countsAsFailure(cause: Extract<Settlement, { kind: 'requeue' }>['cause']): boolean
  /** Redeliveries carry x-delivery-count: always (quorum), or only with x-delivery-limit set (classic). */
  readonly alwaysCountDeliveries: boolean
}

export class MessageQueueType implements QueueType {
  readonly name: QueueTypeName

  constructor(
    private readonly context: QueueTypeContext,
    private readonly policy: MessageQueuePolicy,
  ) {
    this.name = policy.name
  }

  validate(declaration: QueueDeclaration): QueueArguments {
    return this.policy.validate(declaration)
  }

  create(declaration: QueueDeclaration, options: QueueArguments): QueueState {
    const queue = new QueueState(declaration, options, this)
    if (declaration.durable && this.context.storage) queue.enablePaging(this.context.queueWindow)
    return queue
  }

  // ---------------------------------------------------------------- taking messages

  enqueue(queue: QueueState, incoming: IncomingMessage, options: EnqueueOptions): EnqueueOutcome {
    const { limited = false, durability } = options
    const context = this.context
    const now = context.clock.now()
    const queueTtl = queue.options.messageTtl
    const messageTtl = incoming.ttl
    const ttl = queueTtl === undefined ? messageTtl : messageTtl === undefined ? queueTtl : Math.min(queueTtl, messageTtl)
    const message: QueuedMessage = {
      seq: queue.nextSeq++,
      exchange: incoming.exchange,
      routingKey: incoming.routingKey,
      properties: incoming.properties,
      body: incoming.body,
      size: incoming.size,
      expiresAt: ttl === undefined ? undefined : now + ttl,
      redelivered: options.redelivered ?? false,
      deliveryCount: 0,
      stored: (incoming.persistent || this.policy.storesEveryMessage) && queue.durable && context.storage !== undefined,
      publishId: options.publishId,
    }
    if (queue.options.overflow !== 'drop-head' && queue.wouldOverflow(message.size)) {
      if (queue.options.overflow === 'reject-publish-dlx') context.deadLetter(queue, { ...message, stored: false }, 'maxlen')
      return 'refused'
    }
    queue.counters.published++
    // Straight to a consumer when nothing waits ahead of it (and TTL 0 allows nothing else).
    if (queue.messageCount === 0) {
      const consumer = queue.nextConsumer()
      if (consumer) {
        const storing = message.stored ? this.store(queue, [storedPut(queue.name, message)], durability) : undefined
        this.deliver(consumer, queue, message)
        return storing
      }
    }
    if (ttl === 0) {
      this.expire(queue, { ...message, stored: false })
      return undefined
    }
    // Checked before anything is written: a refused message must not turn up after a restart.
    const paged = message.stored && queue.paging?.shouldPage(queue.ready.length) === true
    if (limited && !paged && !context.admitToMemory(message.size)) {
      queue.counters.published--
      return 'limit'
    }
    const storing = message.stored ? this.store(queue, [storedPut(queue.name, message)], durability) : undefined
    this.place(queue, message, storing)
    return storing
  }

  /** Onto the ready list (or paged out), trimmed to the length limits, the head timed. */
  private place(queue: QueueState, message: QueuedMessage, storing: Promise<void> | undefined): void {
    if (queue.paging && this.pageOut(queue, queue.paging, message, storing)) return
    const head = queue.ready.peek()
    queue.push(message)
    this.dropHeadOverLimit(queue)
    // A new head (first message, a higher priority, or drops) needs its own expiry timer.
    if (queue.ready.peek() !== head) this.scheduleHeadExpiry(queue)
  }

  /** Writes a queue's messages: strict if the queue, the publisher or the broker asks for it. */
  private store(queue: QueueState, ops: StorageOp[], requested: Durability | undefined): Promise<void> {
    const strict = requested === 'strict' || queue.args['x-durability'] === 'strict'
    return this.context.write(ops, strict ? 'strict' : undefined)
  }

  /** Forgets settled or dropped messages in storage. */
  private forget(queue: QueueState, messages: QueuedMessage[]): void {
    // queue.delete already dropped a deleted queue's messages; its seqs may now belong to a new queue of that name.
    if (queue.deleted) return
    const ops: StorageOp[] = []
    for (const message of messages) if (message.stored) ops.push({ kind: 'message.delete', queue: queue.name, seq: message.seq })
    this.context.writeInBackground(ops)
  }

  /** drop-head overflow: the oldest ready messages go (dead-lettered, reason maxlen) until within limits. */
  private dropHeadOverLimit(queue: QueueState): void {
    if (queue.options.overflow !== 'drop-head') return
    while (queue.overLimit) {
      const dropped = queue.shift()
      if (!dropped) break
      this.forget(queue, [dropped])
      this.context.deadLetter(queue, dropped, 'maxlen')
    }
    // Dropping may empty memory while older messages wait on disk: they are dropped once loaded.
    this.refill(queue)
  }

  private expire(queue: QueueState, message: QueuedMessage): void {
    queue.counters.expired++
    this.context.deadLetter(queue, message, 'expired')
  }

  // ---------------------------------------------------------------- paging

  /** Keeps a message out of memory when the queue's tail is on disk or its window is full. */
  private pageOut(queue: QueueState, paging: Paging, message: QueuedMessage, write: Promise<void> | undefined): boolean {
    if (write && paging.shouldPage(queue.ready.length)) {
      // If every paged write fails, nothing is on disk any more: the held transients go to memory.
      paging.pageOut(message, write, (overflow) => this.pagedIn(queue, overflow))
    } else if (paging.onDisk) paging.hold(message)
    else return false
    this.dropHeadOverLimit(queue)
    return true
  }

  /** Loads the next page of a queue whose tail is on disk, once its memory part runs low. */
  private refill(queue: QueueState): void {
    const storage = this.context.storage
    if (queue.paging?.onDisk && storage) queue.paging.refill(queue, this.pagingHost(queue, storage))
  }

  private pagingHost(queue: QueueState, storage: Storage): PagingHost {
    const context = this.context
    return {
      storage,
      clock: context.clock,
      get stopped() {
        return context.stopped
      },
      loaded: (messages) => this.pagedIn(queue, messages),
      failed: () => context.storageFailed(),
    }
  }

  /** Messages back from disk (or overflow): in memory again, then trimmed, timed and delivered. */
  private pagedIn(queue: QueueState, messages: QueuedMessage[]): void {
    if (queue.deleted) return
    for (const message of messages) queue.push(message)
    this.dropHeadOverLimit(queue)
    this.drain(queue)
  }

  // ---------------------------------------------------------------- the head and its expiry

  /** Takes the head of the queue, dropping (and dead-lettering) expired messages on the way. */
  private takeHead(queue: QueueState): QueuedMessage | undefined {
    const now = this.context.clock.now()
    for (;;) {
      const message = queue.shift()
      if (!message) return undefined
      if (message.expiresAt !== undefined && message.expiresAt <= now) {
        this.forget(queue, [message])
        this.expire(queue, message)
        continue
      }
      return message
    }
  }

  /** Removes expired messages at the head (only the head: RabbitMQ's rule). */
  private dropExpiredHead(queue: QueueState): void {
    const now = this.context.clock.now()
    for (;;) {
      const head = queue.ready.peek()
      if (!head || head.expiresAt === undefined || head.expiresAt > now) break
      queue.shift()
      this.forget(queue, [head])
      this.expire(queue, head)
    }
  }

  /**
   * Keeps the queue's one timer on its head's deadline. A pending timer due no later than
   * that is kept: it re-arms when it fires, so consuming from a TTL queue does not cancel and
   * set a timer per message.
   */
  private scheduleHeadExpiry(queue: QueueState): void {
    const context = this.context
    const at = queue.deleted || context.stopped ? undefined : queue.ready.peek()?.expiresAt
    if (at === undefined) {
      queue.cancelHeadTimer?.()
      return
    }
    if (queue.cancelHeadTimer && queue.headTimerAt !== undefined && queue.headTimerAt <= at) return
    queue.cancelHeadTimer?.()
    const cancel = context.clock.schedule(Math.max(0, at - context.clock.now()), () => {
      queue.cancelHeadTimer = undefined
      queue.headTimerAt = undefined
      this.dropExpiredHead(queue)
      this.scheduleHeadExpiry(queue)
      this.refill(queue)
    })
    queue.headTimerAt = at
    // Whoever cancels (purge, delete, stop) also clears the state this check relies on.
    queue.cancelHeadTimer = () => {
      cancel()
      queue.cancelHeadTimer = undefined
      queue.headTimerAt = undefined
    }
  }

  // ---------------------------------------------------------------- handing out

  consume(): void {
    // Nothing beyond the broker's own checks: dispatch state lives in QueueState.
  }

  cancel(): void {}

  drain(queue: QueueState): void {
    if (queue.deleted) return
    while (queue.messageCount > 0) {
      const consumer = queue.nextConsumer()
      if (!consumer) break
      const message = this.takeHead(queue)
      if (!message) break
      this.deliver(consumer, queue, message)
    }
    this.scheduleHeadExpiry(queue)
    this.refill(queue)
  }

  get(queue: QueueState, channel: ChannelState, noAck: boolean): Taken | undefined | Promise<Taken | undefined> {
    const message = this.takeHead(queue)
    const storage = this.context.storage
    if (!message && queue.paging?.onDisk && storage) {
      // The head is on disk: answer once its page is in (or empty if storage fails).
      return queue.paging.whenLoaded(queue, this.pagingHost(queue, storage)).then((loaded) => (loaded ? this.get(queue, channel, noAck) : undefined))
    }
    // RabbitMQ drops the expired messages at the new head before it counts what remains.
    this.dropExpiredHead(queue)
    this.refill(queue)
    this.scheduleHeadExpiry(queue)
    if (!message) return undefined
    return { message, properties: this.properties(queue, message) }
  }

  private deliver(consumer: ConsumerState, queue: QueueState, message: QueuedMessage): void {
    this.context.deliver(consumer, queue, message, this.properties(queue, message))
  }

  /**
   * Redeliveries of a quorum queue, or of a queue with x-delivery-limit (-1 too), carry
   * x-delivery-count; any other queue hands back exactly the published properties (as classic ones do).
   */
  private properties(queue: QueueState, message: QueuedMessage): MessageProperties {
    if (message.deliveryCount === 0) return message.properties
    if (!this.policy.alwaysCountDeliveries && queue.args['x-delivery-limit'] === undefined) return message.properties
    return { ...message.properties, headers: { ...(message.properties.headers ?? {}), 'x-delivery-count': message.deliveryCount } }
  }

  // ---------------------------------------------------------------- settling

  settle(queue: QueueState, message: QueuedMessage, settlement: Settlement): void {
    if (settlement.kind === 'ack') this.forget(queue, [message])
    else if (settlement.kind === 'discard') {
      this.forget(queue, [message])
      this.context.deadLetter(queue, message, 'rejected')
    } else this.requeue(queue, message, this.policy.countsAsFailure(settlement.cause))
  }

  /** Back to the queue (its original position, or the back), flagged redelivered; past x-delivery-limit it is dead-lettered. */
  private requeue(queue: QueueState, message: QueuedMessage, countsAsFailure: boolean): void {
    if (queue.deleted) return
    message.redelivered = true
    if (countsAsFailure) message.deliveryCount++
    const limit = queue.options.deliveryLimit
    if (limit !== undefined && message.deliveryCount > limit) {
      this.forget(queue, [message])
      this.context.deadLetter(queue, message, 'delivery_limit')
      return
    }
    if (this.policy.requeueAtBack) {
      this.requeueAtBack(queue, message)
      return
    }
    if (message.stored && countsAsFailure)
      this.context.writeInBackground([{ kind: 'message.update', queue: queue.name, seq: message.seq, redelivered: true, deliveryCount: message.deliveryCount }])
    queue.push(message)
    // RabbitMQ trims after a requeue too (requeue_and_run → maybe_drop_head).
    this.dropHeadOverLimit(queue)
  }

  /** A new place at the tail: a new seq, stored under it in the same write that forgets the old one. */
  private requeueAtBack(queue: QueueState, message: QueuedMessage): void {
    const oldSeq = message.seq
    message.seq = queue.nextSeq++
    let storing: Promise<void> | undefined
    if (message.stored) {
      storing = this.store(queue, [{ kind: 'message.delete', queue: queue.name, seq: oldSeq }, storedPut(queue.name, message)], undefined)
      storing.catch(() => undefined)
    }
    this.place(queue, message, storing)
  }

  // ---------------------------------------------------------------- whole-queue operations

  purge(queue: QueueState): number {
    const purged = queue.drainReady()
    this.forget(queue, purged)
    // Paged-out messages go by seq range, above every unacked one.
    const paged = queue.paging?.drop(queue.nextSeq - 1)
    if (paged?.range) this.context.writeInBackground([{ kind: 'message.deleteRange', queue: queue.name, fromSeq: paged.range[0], toSeq: paged.range[1] }])
    queue.cancelHeadTimer?.()
    return purged.length + (paged?.count ?? 0)
  }

  delete(queue: QueueState): number {
    queue.cancelHeadTimer?.()
    const dropped = queue.drainReady()
    const paged = queue.paging?.drop(queue.nextSeq - 1).count ?? 0
    queue.paging?.stop()
    return dropped.length + paged
  }

  stop(queue: QueueState): void {
    queue.cancelHeadTimer?.()
    queue.paging?.stop()
  }

  memory(queue: QueueState): { messages: number; bytes: number } {
    let messages = queue.ready.length
    let bytes = queue.readyBytes
    const paging = queue.paging
    if (paging) {
      messages += paging.size - paging.count
      bytes += paging.overflowBytes
    }
    return { messages, bytes }
  }

  inspect(): Record<string, number | string> {
    return {}
  }

  /**
   * Loads a recovered queue's first window of messages and where its seqs continue. Every
   * recovered message is flagged redelivered: it may have been delivered before the restart.
   */
  async recover(queue: QueueState, storage: Storage, now: number): Promise<void> {
    // Only the first window comes into memory; the rest stays paged (see paging.ts).
    const window = queue.paging?.window ?? Infinity
    let after = 0
    let loaded = 0
    let bytes = 0
    while (loaded < window) {
      const limit = Math.min(RECOVERY_PAGE, window - loaded)
      const page = await storage.loadMessages(queue.name, after, limit)
      for (const stored of page) {
        queue.push(fromStored(stored, true))
        // A retry of a message the last broker took but did not confirm is a duplicate here too.
        if (stored.publishId !== undefined) this.context.rememberPublishId(stored.publishId, now)
        after = stored.seq
        bytes += stored.size
      }
      loaded += page.length
      if (page.length < limit) break
    }
    // Seqs are never reused: continue above the highest ever stored, even if it is gone.
    const lastSeq = Math.max(after, await storage.lastSeq(queue.name))
    queue.nextSeq = lastSeq + 1
    const paging = queue.paging
    if (paging && loaded >= window) {
      paging.count = Math.max(0, (await storage.countMessages(queue.name)) - loaded)
      // Sizes of the paged ones are unknown until they load: estimate from the first window.
      paging.bytes = loaded > 0 ? Math.round((bytes / loaded) * paging.count) : 0
      paging.cursor = after
      paging.recoveredUpTo = lastSeq
    }
    this.scheduleHeadExpiry(queue)
  }
}
