/**
 * Messages leaving queues: consumers (qos, consume, cancel), basic.get, delivering while
 * consumers have credit, and settling (ack, reject/nack, recover, requeue, a channel closing).
 */
import type { FieldTable, MessageProperties, ReplyResults } from '../protocol/frames.js'
import { pagingHost, refill } from './bounded-memory.js'
import { ConsumerState, type ChannelState, type Delivery } from './channel.js'
import { AmqpError, accessRefused, notImplemented, preconditionFailed } from './errors.js'
import { deadLetter, expire, scheduleHeadExpiry, touch } from './expiry.js'
import type { QueuedMessage } from './message.js'
import { forget, writeInBackground } from './persistence.js'
import { dropHeadOverLimit } from './publishing.js'
import type { QueueState } from './queue.js'
import { REPLY_TO } from './reply-to.js'
import { deleteQueue, queueFor } from './topology.js'
import { EMPTY, type ClientConnection, type VhostState } from './vhost.js'

// ------------------------------------------------------------------ consuming

export function qos(vhost: VhostState, channel: ChannelState, prefetchCount: number, global: boolean): unknown {
  if (global) channel.globalPrefetch = prefetchCount
  else channel.consumerPrefetch = prefetchCount
  drainChannelQueues(vhost, channel)
  return EMPTY
}

export function consume(
  vhost: VhostState,
  client: ClientConnection,
  channel: ChannelState,
  queueName: string,
  requestedTag: string | undefined,
  noAck: boolean,
  exclusive: boolean,
  args: FieldTable,
): ReplyResults['basic.consume'] {
  const tag = requestedTag || `amq.ctag-${vhost.brokerId}-${(++vhost.generated).toString(36)}`
  if (channel.consumers.has(tag) || vhost.replyTo.of(channel)?.tag === tag) throw new AmqpError(530, `attempt to reuse consumer tag '${tag}'`)
  if (queueName === REPLY_TO) {
    vhost.replyTo.consume(channel, tag, noAck)
    return { consumerTag: tag }
  }
  const queue = queueFor(vhost, client, queueName)
  if (exclusive && queue.options.singleActiveConsumer)
    throw accessRefused(`queue '${queue.name}' in vhost '${vhost.name}' has single active consumer: exclusive consume not allowed`)
  if (queue.consumers.some((consumer) => consumer.exclusive))
    throw accessRefused(`queue '${queue.name}' in vhost '${vhost.name}' in exclusive use`)
  if (exclusive && queue.consumers.length > 0)
    throw accessRefused(`queue '${queue.name}' in vhost '${vhost.name}' in use: cannot consume exclusively`)
  const rawPriority = args['x-priority']
  if (rawPriority !== undefined && !Number.isSafeInteger(rawPriority)) throw preconditionFailed(`invalid arg 'x-priority'`)
  const consumer = new ConsumerState(tag, channel, queue, noAck, exclusive, (rawPriority as number | undefined) ?? 0, channel.consumerPrefetch, args)
  channel.consumers.set(tag, consumer)
  queue.addConsumer(consumer)
  touch(vhost, queue)
  // Deliveries start after consume-ok has been sent.
  queueMicrotask(() => drain(vhost, queue))
  return { consumerTag: tag }
}

export function cancel(vhost: VhostState, channel: ChannelState, tag: string): unknown {
  if (vhost.replyTo.cancel(channel, tag)) return EMPTY
  const consumer = channel.consumers.get(tag)
  if (consumer) removeConsumer(vhost, consumer)
  return EMPTY
}

function removeConsumer(vhost: VhostState, consumer: ConsumerState, drainAfter = true): void {
  consumer.channel.consumers.delete(consumer.tag)
  const queue = consumer.queue
  const newlyActive = queue.removeConsumer(consumer)
  if (queue.deleted) return
  if (queue.autoDelete && queue.hadConsumer && queue.consumers.length === 0) {
    deleteQueue(vhost, queue)
    return
  }
  touch(vhost, queue)
  if (newlyActive && drainAfter) drain(vhost, queue)
}

export function getMessage(
  vhost: VhostState,
  client: ClientConnection,
  channel: ChannelState,
  name: string,
  noAck: boolean,
): ReplyResults['basic.get'] | Promise<ReplyResults['basic.get']> {
  const queue = queueFor(vhost, client, name)
  touch(vhost, queue)
  const message = takeHead(vhost, queue)
  if (!message && queue.paging?.onDisk && vhost.storage) {
    // The head is on disk: answer once its page is in (or empty if storage fails).
    return queue.paging
      .whenLoaded(queue, pagingHost(vhost, queue, vhost.storage))
      .then((loaded) => (loaded ? getMessage(vhost, client, channel, name, noAck) : { message: null, messageCount: queue.messageCount }))
  }
  refill(vhost, queue)
  if (!message) return { message: null, messageCount: 0 }
  const deliveryTag = handOut(vhost, channel, queue, message, undefined, noAck)
  scheduleHeadExpiry(vhost, queue)
  return {
    message: {
      deliveryTag,
      redelivered: message.redelivered,
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties: deliveredProperties(queue, message),
      body: message.body,
    },
    messageCount: queue.messageCount,
  }
}

/** Takes the head of the queue, dropping (and dead-lettering) expired messages on the way. */
function takeHead(vhost: VhostState, queue: QueueState): QueuedMessage | undefined {
  const now = vhost.clock.now()
  for (;;) {
    const message = queue.shift()
    if (!message) return undefined
    if (message.expiresAt !== undefined && message.expiresAt <= now) {
      forget(vhost, queue, [message])
      expire(vhost, queue, message)
      continue
    }
    return message
  }
}

/** Delivers ready messages while some consumer has credit. */
export function drain(vhost: VhostState, queue: QueueState): void {
  if (queue.deleted) return
  while (queue.messageCount > 0) {
    const consumer = queue.nextConsumer()
    if (!consumer) break
    const message = takeHead(vhost, queue)
    if (!message) break
    deliver(vhost, consumer, queue, message)
  }
  scheduleHeadExpiry(vhost, queue)
  refill(vhost, queue)
}

function drainChannelQueues(vhost: VhostState, channel: ChannelState): void {
  const queues = new Set<QueueState>()
  for (const consumer of channel.consumers.values()) queues.add(consumer.queue)
  for (const queue of queues) drain(vhost, queue)
}

export function deliver(vhost: VhostState, consumer: ConsumerState, queue: QueueState, message: QueuedMessage): void {
  const channel = consumer.channel
  const deliveryTag = handOut(vhost, channel, queue, message, consumer, consumer.noAck)
  vhost.clients.get(channel.connectionId)?.send({
    op: 'basic.deliver',
    channel: channel.id,
    consumerTag: consumer.tag,
    deliveryTag,
    redelivered: message.redelivered,
    exchange: message.exchange,
    routingKey: message.routingKey,
    properties: deliveredProperties(queue, message),
    body: message.body,
  })
}

/** Tracks a message handed out on a channel and counts it; with noAck it is settled (forgotten) at once. */
function handOut(vhost: VhostState, channel: ChannelState, queue: QueueState, message: QueuedMessage, consumer: ConsumerState | undefined, noAck: boolean): number {
  const deliveryTag = channel.track(queue, message, consumer, noAck)
  queue.counters.delivered++
  if (message.redelivered) queue.counters.redelivered++
  if (noAck) forget(vhost, queue, [message])
  else queue.unacked++
  return deliveryTag
}

/**
 * Redelivered messages of a queue with x-delivery-limit (-1 too) carry x-delivery-count (as quorum
 * queues do); any other queue hands back exactly the published properties (as classic ones do).
 */
function deliveredProperties(queue: QueueState, message: QueuedMessage): MessageProperties {
  if (message.deliveryCount === 0 || queue.args['x-delivery-limit'] === undefined) return message.properties
  return { ...message.properties, headers: { ...(message.properties.headers ?? {}), 'x-delivery-count': message.deliveryCount } }
}

// ------------------------------------------------------------------ settling

function settle(channel: ChannelState, tag: number, multiple: boolean): Delivery[] {
  const settled = channel.settle(tag, multiple)
  if (!settled) throw preconditionFailed(`unknown delivery tag ${tag}`)
  for (const delivery of settled) delivery.queue.unacked--
  return settled
}

export function ack(vhost: VhostState, channel: ChannelState, tag: number, multiple: boolean): unknown {
  const settled = settle(channel, tag, multiple)
  for (const { queue, message } of settled) {
    queue.counters.acked++
    forget(vhost, queue, [message])
  }
  afterSettle(vhost, channel, settled)
  return EMPTY
}

export function reject(vhost: VhostState, channel: ChannelState, tag: number, multiple: boolean, requeue: boolean, countsAsFailure: boolean): unknown {
  const settled = settle(channel, tag, multiple)
  for (const { queue, message } of settled) {
    if (requeue) requeueMessage(vhost, queue, message, countsAsFailure)
    else {
      forget(vhost, queue, [message])
      deadLetter(vhost, queue, message, 'rejected')
    }
  }
  afterSettle(vhost, channel, settled)
  return EMPTY
}

export function recover(vhost: VhostState, channel: ChannelState, requeue: boolean): unknown {
  if (!requeue) throw notImplemented(`requeue=false`)
  const all = channel.takeAll()
  for (const delivery of all) {
    delivery.queue.unacked--
    requeueMessage(vhost, delivery.queue, delivery.message, false)
  }
  afterSettle(vhost, channel, all)
  return EMPTY
}

/** Credit came back: queues of the settled deliveries (and, with a global limit, all of the channel's) can go on. */
function afterSettle(vhost: VhostState, channel: ChannelState, settled: Delivery[]): void {
  const queues = new Set<QueueState>()
  for (const delivery of settled) queues.add(delivery.queue)
  if (channel.globalPrefetch > 0) for (const consumer of channel.consumers.values()) queues.add(consumer.queue)
  for (const queue of queues) drain(vhost, queue)
}

/** Back to its original position, flagged redelivered; past x-delivery-limit it is dead-lettered. */
function requeueMessage(vhost: VhostState, queue: QueueState, message: QueuedMessage, countsAsFailure: boolean): void {
  if (queue.deleted) return
  message.redelivered = true
  if (countsAsFailure) message.deliveryCount++
  const limit = queue.options.deliveryLimit
  if (limit !== undefined && message.deliveryCount > limit) {
    forget(vhost, queue, [message])
    deadLetter(vhost, queue, message, 'delivery_limit')
    return
  }
  if (message.stored && countsAsFailure)
    writeInBackground(vhost, [{ kind: 'message.update', queue: queue.name, seq: message.seq, redelivered: true, deliveryCount: message.deliveryCount }])
  queue.push(message)
  // RabbitMQ trims after a requeue too (requeue_and_run → maybe_drop_head).
  dropHeadOverLimit(vhost, queue)
}

export function closeChannel(vhost: VhostState, client: ClientConnection, channel: ChannelState): void {
  if (client.channels.get(channel.id) !== channel) return
  client.channels.delete(channel.id)
  vhost.replyTo.closeChannel(channel)
  // Requeue first and detach every consumer before anything drains: a single-active-consumer
  // successor then gets the returned (older) messages first, and is never one of this channel's.
  const returned = channel.takeAll()
  const queues = new Set<QueueState>()
  for (const { queue, message } of returned) {
    queue.unacked--
    requeueMessage(vhost, queue, message, true)
    queues.add(queue)
  }
  for (const consumer of [...channel.consumers.values()]) {
    removeConsumer(vhost, consumer, false)
    queues.add(consumer.queue)
  }
  for (const queue of queues) drain(vhost, queue)
}
