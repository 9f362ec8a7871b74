/**
 * Classic queues, RabbitMQ's default type: a returned message goes back to its original
 * position; only basic.reject and a closed channel count toward x-delivery-limit (a nack or
 * basic.recover does not); only persistent messages are stored.
 */
import { MessageQueueType, type MessageQueuePolicy } from './message-queue.js'
import { parseQueueArguments } from './queue-arguments.js'
import type { QueueTypeContext, QueueTypeFactory } from './queue-type.js'

const CLASSIC: MessageQueuePolicy = {
  name: 'classic',
  validate: (declaration) => parseQueueArguments(declaration.args),
  requeueAtBack: false,
  storesEveryMessage: false,
  countsAsFailure: (cause) => cause === 'reject' || cause === 'closed',
  alwaysCountDeliveries: false,
}

export const classicQueueType: QueueTypeFactory = (context: QueueTypeContext) => new MessageQueueType(context, CLASSIC)
