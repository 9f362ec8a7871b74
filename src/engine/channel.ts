import type { FieldTable } from '../protocol/frames.js'
import type { QueuedMessage } from './message.js'
import type { QueueState } from './queue.js'

/** An unacknowledged delivery, held by the channel that received it. */
export interface Delivery {
  readonly tag: number
  readonly queue: QueueState
  readonly message: QueuedMessage
  readonly consumer: ConsumerState | undefined
}

export class ConsumerState {
  unacked = 0
  constructor(
    readonly tag: string,
    readonly channel: ChannelState,
    readonly queue: QueueState,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** x-priority: higher-priority consumers get messages first. */
    readonly priority: number,
    /** Per-consumer prefetch (basic.qos global=false), fixed at consume time; 0 = unlimited. */
    readonly prefetch: number,
    readonly args: FieldTable,
  ) {}

  /** Credit: a no-ack consumer is never blocked; otherwise both the consumer and channel limits apply. */
  get hasCredit(): boolean {
    if (this.noAck) return true
    if (this.prefetch > 0 && this.unacked >= this.prefetch) return false
    return this.channel.hasGlobalCredit
  }
}

export class ChannelState {
  private nextTag = 1
  readonly unacked = new Map<number, Delivery>()
  readonly consumers = new Map<string, ConsumerState>()
  /** Prefetch given to consumers created from now on (RabbitMQ's global=false). */
  consumerPrefetch = 0
  /** Limit shared by every consumer of the channel (RabbitMQ's global=true). */
  globalPrefetch = 0
  /** Unacked deliveries to consumers with acks (basic.get deliveries do not count). */
  consumerUnacked = 0

  constructor(
    readonly id: number,
    readonly connectionId: string,
  ) {}

  get hasGlobalCredit(): boolean {
    return this.globalPrefetch === 0 || this.consumerUnacked < this.globalPrefetch
  }

  /** A tag for a delivery nobody acks (direct reply-to): it still takes its place in the sequence. */
  nextDeliveryTag(): number {
    return this.nextTag++
  }

  track(queue: QueueState, message: QueuedMessage, consumer: ConsumerState | undefined, noAck: boolean): number {
    const tag = this.nextTag++
    if (noAck) return tag
    this.unacked.set(tag, { tag, queue, message, consumer })
    if (consumer) {
      consumer.unacked++
      this.consumerUnacked++
    }
    return tag
  }

  /** Removes deliveries `tag` (or every one up to it with `multiple`); undefined if a tag is unknown. */
  settle(tag: number, multiple: boolean): Delivery[] | undefined {
    if (!multiple) {
      const delivery = this.unacked.get(tag)
      if (!delivery) return undefined
      this.release(delivery)
      return [delivery]
    }
    // `multiple` with tag 0 means every outstanding delivery (AMQP). Otherwise the tag itself
    // must be outstanding, as in RabbitMQ's collect_acks: a settled or never-issued tag is 406.
    if (tag !== 0 && !this.unacked.has(tag)) return undefined
    const settled: Delivery[] = []
    for (const delivery of this.unacked.values()) {
      if (tag !== 0 && delivery.tag > tag) break
      settled.push(delivery)
    }
    for (const delivery of settled) this.release(delivery)
    return settled
  }

  /** Every outstanding delivery, removed (close, recover). */
  takeAll(): Delivery[] {
    const all = [...this.unacked.values()]
    for (const delivery of all) this.release(delivery)
    return all
  }

  private release(delivery: Delivery): void {
    this.unacked.delete(delivery.tag)
    if (delivery.consumer) {
      delivery.consumer.unacked--
      this.consumerUnacked--
    }
  }
}
