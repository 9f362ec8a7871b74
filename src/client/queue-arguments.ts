/**
 * Queue option sugar → RabbitMQ x-arguments. Times are milliseconds (RabbitMQ's unit; Kombu
 * takes seconds here, Warren does not).
 */
import type { FieldTable } from '../protocol/frames.js'

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx'

/** RabbitMQ's queue types (x-queue-type); classic when unset. */
export type QueueTypeName = 'classic' | 'quorum' | 'stream'

export interface QueueArgumentOptions {
  /**
   * x-queue-type. 'quorum': durable only (never exclusive or auto-delete), every message
   * stored, every return counts toward `deliveryLimit` (default 20) and goes to the back.
   */
  queueType?: QueueTypeName
  /** x-message-ttl: messages older than this many milliseconds are dropped or dead-lettered. */
  messageTtl?: number
  /** x-expires: the queue is deleted after this many milliseconds unused. */
  expires?: number
  /** x-max-length: ready messages. */
  maxLength?: number
  /** x-max-length-bytes: total body size of ready messages. */
  maxLengthBytes?: number
  /**
   * x-max-age (stream queues): whole segments older than this go. A RabbitMQ duration
   * ('7D', '12h', '30m', '10s') or milliseconds (sent as whole seconds, rounded up).
   */
  maxAge?: string | number
  /** x-stream-max-segment-size-bytes (stream queues): retention drops whole segments of this size. */
  maxSegmentSizeBytes?: number
  /** x-max-priority: turns on priorities 0..maxPriority. */
  maxPriority?: number
  /** x-dead-letter-exchange. */
  deadLetterExchange?: string | { readonly name: string }
  /** x-dead-letter-routing-key. */
  deadLetterRoutingKey?: string
  /** x-overflow: what happens at max length. Default drop-head. */
  overflow?: Overflow
  /** x-single-active-consumer. */
  singleActiveConsumer?: boolean
  /** x-delivery-limit: returns before a poison message is dropped or dead-lettered (-1: no limit). */
  deliveryLimit?: number
}

const sugar: ReadonlyArray<[keyof QueueArgumentOptions, string]> = [
  ['queueType', 'x-queue-type'],
  ['messageTtl', 'x-message-ttl'],
  ['expires', 'x-expires'],
  ['maxLength', 'x-max-length'],
  ['maxLengthBytes', 'x-max-length-bytes'],
  ['maxAge', 'x-max-age'],
  ['maxSegmentSizeBytes', 'x-stream-max-segment-size-bytes'],
  ['maxPriority', 'x-max-priority'],
  ['deadLetterExchange', 'x-dead-letter-exchange'],
  ['deadLetterRoutingKey', 'x-dead-letter-routing-key'],
  ['overflow', 'x-overflow'],
  ['singleActiveConsumer', 'x-single-active-consumer'],
  ['deliveryLimit', 'x-delivery-limit'],
]

/** Raw `queueArguments` first, then the sugar on top (as Kombu does). */
export const queueArguments = (options: QueueArgumentOptions & { queueArguments?: FieldTable }): FieldTable => {
  const args: FieldTable = { ...options.queueArguments }
  for (const [option, key] of sugar) {
    const value = options[option]
    if (value === undefined) continue
    args[key] = typeof value === 'object' ? value.name : value
  }
  // RabbitMQ takes x-max-age as a duration string only.
  if (typeof options.maxAge === 'number') args['x-max-age'] = `${Math.ceil(options.maxAge / 1000)}s`
  return args
}

export const sugarKeys: readonly (keyof QueueArgumentOptions)[] = sugar.map(([option]) => option)
