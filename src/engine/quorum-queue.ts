/**
 * Quorum queues (x-queue-type: quorum) as an application sees them, replication aside: durable
 * only, never exclusive, auto-delete or server-named; every message stored; every return of a
 * delivery counts toward x-delivery-limit (default 20) and goes to the back of the queue;
 * redeliveries carry x-delivery-count. This follows RabbitMQ 4.0-4.2 (4.3 stopped counting
 * nack and channel-close returns).
 */
import { requireDurableOnly } from './durable-only.js'
import { preconditionFailed } from './errors.js'
import { MessageQueueType, type MessageQueuePolicy } from './message-queue.js'
import { parseQueueArguments, type QueueArguments } from './queue-arguments.js'
import type { QueueDeclaration, QueueTypeContext, QueueTypeFactory } from './queue-type.js'

/** RabbitMQ 4's default x-delivery-limit for quorum queues. */
export const DEFAULT_DELIVERY_LIMIT = 20

/** Arguments of other queue types that a quorum queue refuses (RabbitMQ: "invalid arg … of queue type rabbit_quorum_queue"). */
const OTHER_TYPES_ARGUMENTS = [
  'x-max-priority',
  'x-queue-mode',
  'x-queue-master-locator',
  'x-queue-version',
  'x-max-age',
  'x-stream-max-segment-size-bytes',
  'x-stream-filter-size-bytes',
  'x-initial-cluster-size',
]

export function validateQuorum(declaration: QueueDeclaration): QueueArguments {
  requireDurableOnly(declaration, 'quorum', OTHER_TYPES_ARGUMENTS)
  const where = `for queue '${declaration.name}'`
  const options = parseQueueArguments(declaration.args)
  if (options.overflow === 'reject-publish-dlx')
    throw preconditionFailed(`invalid arg 'x-overflow' ${where}: 'reject-publish-dlx' is not supported by quorum queues`)
  if (declaration.args['x-delivery-limit'] === undefined) options.deliveryLimit = DEFAULT_DELIVERY_LIMIT
  return options
}

const QUORUM: MessageQueuePolicy = {
  name: 'quorum',
  validate: validateQuorum,
  requeueAtBack: true,
  storesEveryMessage: true,
  countsAsFailure: () => true,
  alwaysCountDeliveries: true,
}

export const quorumQueueType: QueueTypeFactory = (context: QueueTypeContext) => new MessageQueueType(context, QUORUM)
