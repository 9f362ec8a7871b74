/**
 * A received message (Kombu's `kombu.Message`): lazily decoded body, properties, delivery
 * info, and a settle state machine RECEIVED → ACK | REJECTED | REQUEUED. Settling twice throws
 * MessageStateError; settling a no-ack message does nothing. Acks are fire-and-forget like in
 * AMQP: a bad ack comes back later as a channel error.
 */
import type { Body, DeliveredMessage, FieldTable, MessageProperties } from '../protocol/frames.js'
import { DecodeError, MessageStateError } from './errors.js'
import { decode, decompress } from './serialization.js'

export type MessageState = 'RECEIVED' | 'ACK' | 'REJECTED' | 'REQUEUED'

export interface DeliveryInfo {
  readonly exchange: string
  readonly routingKey: string
  readonly deliveryTag: number
  readonly redelivered: boolean
  /** Absent for messages fetched with `get`. */
  readonly consumerTag?: string
  /** Messages left in the queue (only for `get`). */
  readonly messageCount?: number
}

export type SettleOp =
  | { op: 'basic.ack'; multiple: boolean }
  | { op: 'basic.nack'; multiple: boolean; requeue: boolean }
  | { op: 'basic.reject'; requeue: boolean }

/** What a message needs from its channel; implemented by Channel. */
export interface SettleTarget {
  readonly number: number
  settle(message: Message<unknown>, settle: SettleOp): void
}

export interface MessageInit {
  channel: SettleTarget
  /** The channel session the delivery belongs to; acks from an older session are dropped. */
  session: number
  delivery: DeliveredMessage
  consumerTag?: string
  messageCount?: number
  noAck: boolean
  accept?: ReadonlySet<string>
}

export class Message<T = unknown> {
  readonly channel: SettleTarget
  readonly session: number
  readonly deliveryTag: number
  readonly redelivered: boolean
  readonly exchange: string
  readonly routingKey: string
  readonly consumerTag: string | undefined
  readonly properties: Readonly<MessageProperties>
  /** The body as it came off the wire, decompressed but not decoded. */
  readonly rawBody: Body
  readonly noAck: boolean
  #state: MessageState = 'RECEIVED'
  readonly #accept: ReadonlySet<string> | undefined
  #decoded = false
  #body: unknown
  #error: unknown
  readonly #messageCount: number | undefined
  #deliveryInfo: DeliveryInfo | undefined

  /**
   * @param rawBody the body after decompression (default: the wire body)
   * @param error a decompression failure, thrown when the body is read
   */
  constructor(init: MessageInit, rawBody: Body = init.delivery.body, error?: unknown) {
    const { delivery } = init
    this.channel = init.channel
    this.session = init.session
    this.deliveryTag = delivery.deliveryTag
    this.redelivered = delivery.redelivered
    this.exchange = delivery.exchange
    this.routingKey = delivery.routingKey
    this.consumerTag = init.consumerTag
    this.properties = delivery.properties
    this.rawBody = rawBody
    this.noAck = init.noAck
    this.#accept = init.accept
    this.#error = error
    this.#messageCount = init.messageCount
  }

  /** Kombu's delivery_info; made when first read (most consumers never read it). */
  get deliveryInfo(): DeliveryInfo {
    if (this.#deliveryInfo === undefined) {
      const info: { -readonly [K in keyof DeliveryInfo]: DeliveryInfo[K] } = {
        exchange: this.exchange,
        routingKey: this.routingKey,
        deliveryTag: this.deliveryTag,
        redelivered: this.redelivered,
      }
      if (this.consumerTag !== undefined) info.consumerTag = this.consumerTag
      if (this.#messageCount !== undefined) info.messageCount = this.#messageCount
      this.#deliveryInfo = info
    }
    return this.#deliveryInfo
  }

  get state(): MessageState {
    return this.#state
  }

  /** True once the message was acked, rejected or requeued. */
  get acknowledged(): boolean {
    return this.#state !== 'RECEIVED'
  }

  get contentType(): string | undefined {
    return this.properties.contentType
  }

  get contentEncoding(): string | undefined {
    return this.properties.contentEncoding
  }

  get headers(): FieldTable {
    return this.properties.headers ?? {}
  }

  /** The decoded body; throws DecodeError or ContentDisallowedError. Memoized. */
  get body(): T {
    return this.decode()
  }

  /** Kombu's name for the decoded body. */
  get payload(): T {
    return this.decode()
  }

  decode(): T {
    if (this.#error !== undefined) throw this.#error
    if (!this.#decoded) {
      try {
        this.#body = decode(this.rawBody, this.properties.contentType, this.#accept)
      } catch (error) {
        this.#error = error
        throw error
      }
      this.#decoded = true
    }
    return this.#body as T
  }

  /** Acknowledges this delivery (and with `multiple`, every earlier one on the channel). */
  ack(options: { multiple?: boolean } = {}): void {
    this.#settle('ACK', { op: 'basic.ack', multiple: options.multiple ?? false })
  }

  /**
   * Rejects this delivery; without `requeue` it is dead-lettered or dropped. The default is
   * Kombu's `Message.reject(requeue=False)`: code ported from Kombu keeps its meaning, and a
   * message a consumer gives up on does not loop back to it. `Channel.basicReject(tag)`
   * keeps AMQP's (and amqplib's) default, `requeue: true`; `requeue()` is the explicit form.
   */
  reject(options: { requeue?: boolean } = {}): void {
    const requeue = options.requeue ?? false
    this.#settle(requeue ? 'REQUEUED' : 'REJECTED', { op: 'basic.reject', requeue })
  }

  /** Puts the message back at its original position, flagged redelivered. */
  requeue(): void {
    this.#settle('REQUEUED', { op: 'basic.reject', requeue: true })
  }

  /** RabbitMQ's bulk reject; `requeue` defaults to true as in AMQP. */
  nack(options: { multiple?: boolean; requeue?: boolean } = {}): void {
    const requeue = options.requeue ?? true
    this.#settle(requeue ? 'REQUEUED' : 'REJECTED', { op: 'basic.nack', multiple: options.multiple ?? false, requeue })
  }

  /** Marks the message settled without sending anything (done by `multiple` and recover). */
  markSettled(state: Exclude<MessageState, 'RECEIVED'>): void {
    if (this.#state === 'RECEIVED') this.#state = state
  }

  #settle(state: Exclude<MessageState, 'RECEIVED'>, settle: SettleOp): void {
    if (this.noAck) return
    if (this.#state !== 'RECEIVED') {
      throw new MessageStateError(`message ${this.deliveryTag} was already settled (${this.#state})`)
    }
    this.#state = state
    this.channel.settle(this, settle)
  }
}

export type MessageSource = MessageInit

/**
 * Builds a Message, decompressing first when the `compression` header says so. Synchronous
 * for uncompressed bodies, so deliveries keep their order without an extra turn.
 */
export const createMessage = <T>(source: MessageSource): Message<T> | Promise<Message<T>> => {
  const { delivery } = source
  const compression = delivery.properties.headers?.['compression']
  if (typeof compression !== 'string') return new Message<T>(source)
  // The codecs load on first use (a lazy chunk): most apps never compress.
  return decompress(delivery.body, compression).then(
    (rawBody) => new Message<T>(source, rawBody),
    (cause) =>
      new Message<T>(source, delivery.body, new DecodeError(`could not decompress a '${compression}' body: ${(cause as Error)?.message ?? cause}`, { cause })),
  )
}
