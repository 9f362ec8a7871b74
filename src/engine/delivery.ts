/**
 * Messages leaving queues, the channel's side: consumers (qos, consume, cancel), basic.get,
 * deliveries and their tracking, and settling (ack, reject/nack, recover, a channel closing).
 * Which message goes out and what a settle does is the queue type's (queue-type.ts).
 */
import type { BasicConsume, BasicNack, BasicReject, MessageProperties, ReplyResults } from '../protocol/frames.js'
import { ConsumerState, type ChannelState, type Delivery } from './channel.js'
import { AmqpError, accessRefused, notImplemented, preconditionFailed } from './errors.js'
import type { QueuedMessage } from './message.js'
import type { QueueState } from './queue.js'
import type { Settlement, Taken } from './queue-type.js'
import { REPLY_TO } from './reply-to.js'
import { deleteQueue, queueFor, touch } from './topology.js'
import { EMPTY, type ClientConnection, type VhostState } from './vhost.js'

// ------------------------------------------------------------------ consuming

export function qos(channel: ChannelState, prefetchCount: number, global: boolean): unknown {
  if (global) channel.globalPrefetch = prefetchCount
  else channel.consumerPrefetch = prefetchCount
  drainChannelQueues(channel)
  return EMPTY
}

export function consume(vhost: VhostState, client: ClientConnection, channel: ChannelState, command: BasicConsume): ReplyResults['basic.consume'] {
  const { queue: queueName, noAck = false, exclusive = false, arguments: args = {} } = command
  const tag = command.consumerTag || `amq.ctag-${vhost.brokerId}-${(++vhost.generated).toString(36)}`
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
  queue.type.consume(queue, consumer)
  channel.consumers.set(tag, consumer)
  queue.addConsumer(consumer)
  touch(vhost, queue)
  // Deliveries start after consume-ok has been sent.
  queueMicrotask(() => queue.type.drain(queue))
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
  queue.type.cancel(queue, consumer)
  if (queue.deleted) return
  if (queue.autoDelete && queue.hadConsumer && queue.consumers.length === 0) {
    deleteQueue(vhost, queue)
    return
  }
  touch(vhost, queue)
  if (newlyActive && drainAfter) queue.type.drain(queue)
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
  const taken = queue.type.get(queue, channel, noAck)
  return taken instanceof Promise ? taken.then((later) => answerGet(channel, queue, later, noAck)) : answerGet(channel, queue, taken, noAck)
}

function answerGet(channel: ChannelState, queue: QueueState, taken: Taken | undefined, noAck: boolean): ReplyResults['basic.get'] {
  if (!taken) return { message: null, messageCount: queue.messageCount }
  const { message, properties } = taken
  const deliveryTag = handOut(channel, queue, message, undefined, noAck)
  return {
    message: { deliveryTag, redelivered: message.redelivered, exchange: message.exchange, routingKey: message.routingKey, properties, body: message.body },
    messageCount: queue.messageCount,
  }
}

function drainChannelQueues(channel: ChannelState): void {
  const queues = new Set<QueueState>()
  for (const consumer of channel.consumers.values()) queues.add(consumer.queue)
  for (const queue of queues) queue.type.drain(queue)
}

/** Sends a message to a consumer (QueueTypeContext.deliver); returns its delivery tag. */
export function deliver(vhost: VhostState, consumer: ConsumerState, queue: QueueState, message: QueuedMessage, properties: MessageProperties): number {
  const channel = consumer.channel
  const deliveryTag = handOut(channel, queue, message, consumer, consumer.noAck)
  vhost.clients.get(channel.connectionId)?.send({
    op: 'basic.deliver',
    channel: channel.id,
    consumerTag: consumer.tag,
    deliveryTag,
    redelivered: message.redelivered,
    exchange: message.exchange,
    routingKey: message.routingKey,
    properties,
    body: message.body,
  })
  return deliveryTag
}

/** Tracks a message handed out on a channel and counts it; with noAck it is settled at once. */
function handOut(channel: ChannelState, queue: QueueState, message: QueuedMessage, consumer: ConsumerState | undefined, noAck: boolean): number {
  const deliveryTag = channel.track(queue, message, consumer, noAck)
  queue.counters.delivered++
  if (message.redelivered) queue.counters.redelivered++
  if (noAck) queue.type.settle(queue, message, ACKED)
  else queue.unacked++
  return deliveryTag
}

const ACKED: Settlement = { kind: 'ack' }
const DISCARDED: Settlement = { kind: 'discard' }

// ------------------------------------------------------------------ settling

function settle(channel: ChannelState, tag: number, multiple: boolean): Delivery[] {
  const settled = channel.settle(tag, multiple)
  if (!settled) throw preconditionFailed(`unknown delivery tag ${tag}`)
  for (const delivery of settled) delivery.queue.unacked--
  return settled
}

export function ack(channel: ChannelState, tag: number, multiple: boolean): unknown {
  const settled = settle(channel, tag, multiple)
  for (const { queue, message } of settled) {
    queue.counters.acked++
    queue.type.settle(queue, message, ACKED)
  }
  afterSettle(channel, settled)
  return EMPTY
}

/** basic.reject and basic.nack: back to the queue, or dead-lettered. */
export function reject(channel: ChannelState, command: BasicReject | BasicNack): unknown {
  const method = command.op === 'basic.reject' ? 'reject' : 'nack'
  const multiple = command.op === 'basic.nack' && (command.multiple ?? false)
  const settled = settle(channel, command.deliveryTag, multiple)
  const settlement: Settlement = (command.requeue ?? true) ? { kind: 'requeue', cause: method } : DISCARDED
  for (const { queue, message } of settled) queue.type.settle(queue, message, settlement)
  afterSettle(channel, settled)
  return EMPTY
}

const RECOVERED: Settlement = { kind: 'requeue', cause: 'recover' }
const CLOSED: Settlement = { kind: 'requeue', cause: 'closed' }

export function recover(channel: ChannelState, requeue: boolean): unknown {
  if (!requeue) throw notImplemented(`requeue=false`)
  const all = channel.takeAll()
  for (const delivery of all) {
    delivery.queue.unacked--
    delivery.queue.type.settle(delivery.queue, delivery.message, RECOVERED)
  }
  afterSettle(channel, all)
  return EMPTY
}

/** Credit came back: queues of the settled deliveries (and, with a global limit, all of the channel's) can go on. */
function afterSettle(channel: ChannelState, settled: Delivery[]): void {
  const queues = new Set<QueueState>()
  for (const delivery of settled) queues.add(delivery.queue)
  if (channel.globalPrefetch > 0) for (const consumer of channel.consumers.values()) queues.add(consumer.queue)
  for (const queue of queues) queue.type.drain(queue)
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
    queue.type.settle(queue, message, CLOSED)
    queues.add(queue)
  }
  for (const consumer of [...channel.consumers.values()]) {
    removeConsumer(vhost, consumer, false)
    queues.add(consumer.queue)
  }
  for (const queue of queues) queue.type.drain(queue)
}
