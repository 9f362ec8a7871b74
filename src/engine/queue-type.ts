/**
 * The seam between the broker and what a queue does with its messages, as RabbitMQ's
 * rabbit_queue_type. The broker keeps what every queue shares (name, flags, arguments,
 * bindings, consumers, exclusivity, x-expires) in a QueueState; everything about messages
 * (where they are kept, who gets the next one, what a settle or a return does, how they
 * are stored and recovered) goes through the queue's QueueType.
 *
 * A type is built once per vhost from the collaborators it needs (QueueTypeContext) and
 * registered in the vhost's QueueTypes under its `x-queue-type` name. Nothing here imports
 * an engine module by value: types are plugged in by broker.ts.
 */
import type { FieldTable, MessageProperties } from '../protocol/frames.js'
import type { Durability, Storage, StorageOp } from '../storage/types.js'
import type { ChannelState, ConsumerState } from './channel.js'
import type { Clock } from './clock.js'
import type { DeathReason } from './dead-letter.js'
import { preconditionFailed } from './errors.js'
import type { QueuedMessage } from './message.js'
import type { QueueState } from './queue.js'
import type { QueueArguments } from './queue-arguments.js'

export type QueueTypeName = 'classic' | 'quorum' | 'stream'

export const QUEUE_TYPE_ARGUMENT = 'x-queue-type'

/** A queue.declare (or a recovered definition) as a type sees it before the queue exists. */
export interface QueueDeclaration {
  readonly name: string
  readonly durable: boolean
  /** The connection owning an exclusive queue. */
  readonly owner: string | undefined
  readonly autoDelete: boolean
  readonly args: FieldTable
  /** True when the name was generated (queue.declare with ""). */
  readonly serverNamed: boolean
}

/** A message routed to a queue, before the queue takes it. */
export interface IncomingMessage {
  readonly exchange: string
  readonly routingKey: string
  readonly properties: MessageProperties
  readonly body: unknown
  readonly size: number
  /** The per-message TTL (expiration), if any. */
  readonly ttl: number | undefined
  /** delivery-mode 2. */
  readonly persistent: boolean
}

/** What a publisher adds to a message moving inside the broker (all optional: internal moves set none). */
export interface EnqueueOptions {
  /** Refuse the message past the vhost's memory limits (a client's publish, not an internal move). */
  readonly limited?: boolean
  /** The publisher's durability, when it asked for one (a connection option). */
  readonly durability?: Durability | undefined
  readonly publishId?: string | undefined
  /** A retry whose earlier attempt may have been delivered: its copies go out flagged. */
  readonly redelivered?: boolean
}

/**
 * 'refused': a length limit refused it (reject-publish); 'limit': the vhost's memory limit
 * refused it; a promise: the storage write to wait for before confirming; undefined: taken.
 */
export type EnqueueOutcome = 'refused' | 'limit' | Promise<void> | undefined

/**
 * How a delivery was settled. `requeue` says why it came back: a type decides what counts
 * as a failed delivery (classic: reject and a closed channel; quorum: every return).
 */
export type Settlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'discard' }
  | { readonly kind: 'requeue'; readonly cause: 'reject' | 'nack' | 'recover' | 'closed' }

/** basic.get's answer from a type: the message and the properties it goes out with, or nothing. */
export interface Taken {
  readonly message: QueuedMessage
  readonly properties: MessageProperties
}

/** What the engine lends a queue type: the vhost's services, nothing else. */
export interface QueueTypeContext {
  readonly vhost: string
  readonly clock: Clock
  readonly storage: Storage | undefined
  /** Default durability of writes. */
  readonly durability: Durability
  /** Ready messages a paged queue keeps in memory. */
  readonly queueWindow: number
  readonly stopped: boolean
  /** Counts a failed storage write (BrokerStats.storageFailures). */
  storageFailed(): void
  /** Writes and resolves once stored (counted as a failure if it rejects). */
  write(ops: StorageOp[], durability?: Durability): Promise<void>
  writeInBackground(ops: StorageOp[]): void
  /**
   * Sends a basic.deliver of `message` to `consumer` with `properties`, tracks it on the
   * consumer's channel (unless no-ack) and counts it on the queue; returns the delivery tag.
   */
  deliver(consumer: ConsumerState, queue: QueueState, message: QueuedMessage, properties: MessageProperties): number
  /** Republishes a dead message through the queue's dead-letter exchange, if it has one. */
  deadLetter(queue: QueueState, message: QueuedMessage, reason: DeathReason): void
  /** Deletes a queue (auto-delete, x-expires) as queue.delete would, without the checks. */
  deleteQueue(queue: QueueState): void
  /**
   * Whether one more ready message of `size` bytes may be kept in memory under the vhost's
   * limits (maxReadyMessages/Bytes); if so it is counted. A client's publish past them is nacked.
   */
  admitToMemory(size: number): boolean
  /** Recovery: a stored message's publish id, so a retry of it is deduplicated. */
  rememberPublishId(publishId: string, now: number): void
}

/**
 * One queue type. Every method takes the queue it acts on (a QueueState the type created,
 * possibly a subclass holding the type's own state). Methods run synchronously inside the
 * broker's turn; only storage is awaited.
 */
export interface QueueType {
  readonly name: QueueTypeName
  /**
   * Checks a declaration against what the type allows (flags and arguments) and returns the
   * parsed arguments; throws a 406 (preconditionFailed) for anything the type refuses.
   */
  validate(declaration: QueueDeclaration): QueueArguments
  /** A new queue for a validated declaration (also used by recovery). */
  create(declaration: QueueDeclaration, options: QueueArguments): QueueState
  /** Puts a routed message on the queue (or straight to a consumer). */
  enqueue(queue: QueueState, message: IncomingMessage, options: EnqueueOptions): EnqueueOutcome
  /** A consumer joined (after the broker's own checks); throws an AmqpError to refuse its arguments. */
  consume(queue: QueueState, consumer: ConsumerState): void
  /** A consumer left (cancel, channel closed). Its unacked deliveries were settled before. */
  cancel(queue: QueueState, consumer: ConsumerState): void
  /** Hands ready messages to consumers while they have credit (the next delivery for each consumer). */
  drain(queue: QueueState): void
  /** basic.get: the head message, or undefined; a promise when it must be loaded first. */
  get(queue: QueueState, channel: ChannelState, noAck: boolean): Taken | undefined | Promise<Taken | undefined>
  /** A delivery of this queue was settled; unacked counts were already updated. */
  settle(queue: QueueState, message: QueuedMessage, settlement: Settlement): void
  /** queue.purge: drops the ready messages; returns how many. */
  purge(queue: QueueState): number
  /** The queue is being deleted: drop its messages and timers; returns how many ready messages went. */
  delete(queue: QueueState): number
  /** After a broker start: loads what storage holds for the queue. */
  recover(queue: QueueState, storage: Storage, now: number): Promise<void>
  /** The broker is stopping: cancel timers and loads. */
  stop(queue: QueueState): void
  /** Ready messages (and their bytes) this queue keeps in memory: what the vhost's memory limits count. */
  memory(queue: QueueState): { messages: number; bytes: number }
  /** Type-specific figures for inspection and the console (e.g. a stream's first and last offsets). */
  inspect(queue: QueueState): Record<string, number | string>
}

/** Builds a type from the vhost's collaborators. */
export type QueueTypeFactory = (context: QueueTypeContext) => QueueType

/** The queue types of one vhost, by their x-queue-type name. */
export class QueueTypes {
  private readonly types = new Map<string, QueueType>()

  register(type: QueueType): void {
    this.types.set(type.name, type)
  }

  get(name: QueueTypeName): QueueType | undefined {
    return this.types.get(name)
  }

  /** The type a declaration asks for (classic when x-queue-type is absent); 406 for an unknown one. */
  resolve(args: FieldTable): QueueType {
    const requested = args[QUEUE_TYPE_ARGUMENT] ?? 'classic'
    const type = typeof requested === 'string' ? this.types.get(requested) : undefined
    if (!type) throw preconditionFailed(`invalid arg '${QUEUE_TYPE_ARGUMENT}': unknown queue type '${String(requested)}'`)
    return type
  }
}
