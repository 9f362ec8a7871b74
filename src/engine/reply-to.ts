/**
 * Direct reply-to (RabbitMQ's `amq.rabbitmq.reply-to`): request/reply without a reply queue.
 * A requester consumes the pseudo-queue in no-ack mode (at most once per channel) and
 * publishes with `replyTo: 'amq.rabbitmq.reply-to'`; the broker rewrites that to an opaque
 * address naming the requester's channel, and a reply published to the default exchange under
 * that address goes straight to the requester's consumer. Nothing is queued: a reply for a
 * requester that is gone is dropped (at-most-once).
 */
import type { ChannelState } from './channel.js'
import { preconditionFailed } from './errors.js'

export const REPLY_TO = 'amq.rabbitmq.reply-to'
const PREFIX = `${REPLY_TO}.`

/** A generated reply address (`amq.rabbitmq.reply-to.<opaque>`). */
export const isReplyAddress = (name: string): boolean => name.startsWith(PREFIX) && name.length > PREFIX.length

export interface ReplyConsumer {
  readonly channel: ChannelState
  readonly tag: string
  readonly address: string
}

export class DirectReplyTo {
  private readonly byAddress = new Map<string, ReplyConsumer>()
  private readonly byChannel = new Map<ChannelState, ReplyConsumer>()
  private generated = 0

  constructor(private readonly brokerId: string) {}

  /** basic.consume on the pseudo-queue; RabbitMQ's checks and messages. */
  consume(channel: ChannelState, tag: string, noAck: boolean): void {
    if (!noAck) throw preconditionFailed(`reply consumer cannot acknowledge`)
    if (this.byChannel.has(channel)) throw preconditionFailed(`reply consumer already set`)
    // Opaque but unguessable enough that one tab cannot aim at another's channel by counting.
    const nonce = Math.random().toString(36).slice(2, 12)
    const address = `${PREFIX}${this.brokerId}.${(++this.generated).toString(36)}.${nonce}`
    const consumer: ReplyConsumer = { channel, tag, address }
    this.byChannel.set(channel, consumer)
    this.byAddress.set(address, consumer)
  }

  /** The channel's reply consumer, if it has one. */
  of(channel: ChannelState): ReplyConsumer | undefined {
    return this.byChannel.get(channel)
  }

  /** basic.cancel: true when `tag` was the channel's reply consumer (now gone). */
  cancel(channel: ChannelState, tag: string): boolean {
    const consumer = this.byChannel.get(channel)
    if (!consumer || consumer.tag !== tag) return false
    this.forget(consumer)
    return true
  }

  /** The channel closed: its replies have nowhere to go any more. */
  closeChannel(channel: ChannelState): void {
    const consumer = this.byChannel.get(channel)
    if (consumer) this.forget(consumer)
  }

  /** The address a publish on `channel` gets as its replyTo; 406 without a reply consumer, as RabbitMQ. */
  addressFor(channel: ChannelState): string {
    const consumer = this.byChannel.get(channel)
    if (!consumer) throw preconditionFailed(`fast reply consumer does not exist`)
    return consumer.address
  }

  /** Who a reply published under `address` goes to. */
  lookup(address: string): ReplyConsumer | undefined {
    return this.byAddress.get(address)
  }

  private forget(consumer: ReplyConsumer): void {
    this.byChannel.delete(consumer.channel)
    this.byAddress.delete(consumer.address)
  }
}
