/**
 * basic.publish and where a message goes: routing through exchanges, onto queues (length
 * limits, TTL, paging), into delayed exchanges, or straight to a direct reply-to consumer.
 * The reply to a publish is its confirm. A publish with a publish id goes through the
 * deduplication window first (dedup.ts).
 */
import type { BasicPublish, FieldTable, MessageProperties, ReplyResults } from '../protocol/frames.js'
import { memoryLimitNack, overMemoryLimit } from './bounded-memory.js'
import type { ChannelState } from './channel.js'
import { DELAYED_EXCHANGE_TYPE, delayedStoreName, delayOf, releasedProperties, type HeldMessage } from './delayed.js'
import { accessRefused, NackError, notFound, preconditionFailed } from './errors.js'
import type { Exchange } from './exchange.js'
import { bodySize } from './message.js'
import { storedHeld, write, writeInBackground } from './persistence.js'
import type { QueueState } from './queue.js'
import { parseExpiration } from './queue-arguments.js'
import type { EnqueueOptions, IncomingMessage } from './queue-type.js'
import { REPLY_TO, isReplyAddress } from './reply-to.js'
import type { ClientConnection, VhostState } from './vhost.js'

export function publish(vhost: VhostState, client: ClientConnection, channel: ChannelState, command: BasicPublish): Promise<unknown> | unknown {
  const exchange = vhost.exchanges.get(command.exchange)
  if (!exchange) throw notFound(`exchange '${command.exchange}' in vhost '${vhost.name}'`)
  if (exchange.internal) throw accessRefused(`cannot publish to internal exchange '${exchange.name}' in vhost '${vhost.name}'`)
  const ttl = parseExpiration(command.properties.expiration)
  const priority = command.properties.priority
  if (priority !== undefined && (!Number.isInteger(priority) || priority < 0 || priority > 255))
    throw preconditionFailed(`invalid priority ${priority}`)
  const id = command.publishId
  if (id === undefined) return publishOnce(vhost, client, channel, exchange, command, ttl, false)
  const now = vhost.clock.now()
  const verdict = vhost.dedup.judge(id, command.retryOf, vhost.brokerId, now)
  if (verdict.kind === 'duplicate') {
    vhost.stats.deduplicatedPublishes++
    return verdict.confirm instanceof Promise ? verdict.confirm.then(confirmedAgain) : confirmedAgain(verdict.confirm)
  }
  let outcome: ReplyResults['basic.publish'] | Promise<ReplyResults['basic.publish']>
  try {
    outcome = publishOnce(vhost, client, channel, exchange, command, ttl, verdict.maybeSeen)
  } catch (error) {
    // Refused (a length or memory limit), perhaps after reaching other queues: not held.
    vhost.dedup.remember(id, now, { routed: false }, true)
    throw error
  }
  vhost.dedup.remember(id, now, outcome)
  return outcome
}

const confirmedAgain = (confirm: { routed: boolean }): ReplyResults['basic.publish'] => ({ routed: confirm.routed, duplicate: true })

/** Routes and enqueues one publish; `maybeSeen` flags its copies redelivered (a retry the broker cannot place). */
function publishOnce(
  vhost: VhostState,
  client: ClientConnection,
  channel: ChannelState,
  exchange: Exchange,
  command: BasicPublish,
  ttl: number | undefined,
  maybeSeen: boolean,
): ReplyResults['basic.publish'] | Promise<ReplyResults['basic.publish']> {
  // Direct reply-to: a request's replyTo becomes its channel's address; a reply to such an
  // address goes straight to that consumer and counts as routed.
  if (command.properties.replyTo === REPLY_TO)
    command = { ...command, properties: { ...command.properties, replyTo: vhost.replyTo.addressFor(channel) } }
  if (command.exchange === '' && isReplyAddress(command.routingKey)) return deliverReply(vhost, command)
  if (exchange.type === DELAYED_EXCHANGE_TYPE) {
    const delay = delayOf(command.properties.headers)
    if (delay !== undefined) return holdDelayed(vhost, exchange, command, delay)
  }
  const headers = command.properties.headers
  const targets = routeWithCopies(vhost, exchange, command.routingKey, headers)
  if (targets.size === 0) {
    if (command.mandatory)
      client.send({
        op: 'basic.return',
        channel: channel.id,
        replyCode: 312,
        replyText: 'NO_ROUTE',
        exchange: command.exchange,
        routingKey: command.routingKey,
        properties: command.properties,
        body: command.body,
      })
    return { routed: false }
  }
  const incoming: IncomingMessage = {
    exchange: command.exchange,
    routingKey: command.routingKey,
    // Sender-selected distribution: BCC routes but is never delivered (CC is).
    properties: headers?.['BCC'] === undefined ? command.properties : { ...command.properties, headers: withoutKey(headers, 'BCC') },
    body: command.body,
    size: bodySize(command.body),
    ttl,
    persistent: command.properties.deliveryMode === 2,
  }
  let refused = false
  let limited = false
  const writes: Promise<void>[] = []
  const publisher: EnqueueOptions = { limited: true, durability: command.durability, publishId: command.publishId, redelivered: maybeSeen }
  for (const queue of targets) {
    const outcome = queue.type.enqueue(queue, incoming, publisher)
    if (outcome === 'refused') refused = true
    else if (outcome === 'limit') limited = true
    else if (outcome) writes.push(outcome)
  }
  const routed = { routed: true }
  const refusal = () => {
    if (limited) throw memoryLimitNack(vhost)
    if (refused) throw new NackError(`message refused by a queue at its length limit (x-overflow)`)
  }
  if (writes.length === 0) {
    refusal()
    return routed
  }
  return Promise.all(writes).then(
    () => {
      refusal()
      return routed
    },
    (error: unknown) => {
      throw new NackError(`message not stored: ${error instanceof Error ? error.message : String(error)}`)
    },
  )
}

/**
 * An x-delayed-message exchange holds a message with a positive x-delay until it is due. The
 * confirm means "accepted by the exchange" (after the write, for a persistent message on a
 * durable exchange), so the reply says routed. `mandatory` cannot be honoured: routing happens
 * later, with nobody to return to. The plugin returns every such message as NO_ROUTE at once
 * although it delivers it later; we send no return rather than a false one.
 */
function holdDelayed(vhost: VhostState, exchange: Exchange, command: BasicPublish, delay: number): ReplyResults['basic.publish'] | Promise<ReplyResults['basic.publish']> {
  const { routingKey, properties, body } = command
  const stored = exchange.durable && properties.deliveryMode === 2 && vhost.storage !== undefined
  const size = bodySize(body)
  // Held messages live in memory until due.
  if (overMemoryLimit(vhost, size)) throw memoryLimitNack(vhost)
  const message = vhost.delayed.hold(exchange.name, { delay, routingKey, properties, body, size, stored })
  const accepted = { routed: true }
  if (!stored) return accepted
  return write(vhost, [storedHeld(exchange.name, message)]).then(
    () => accepted,
    (error: unknown) => {
      message.stored = false
      throw new NackError(`message not stored: ${error instanceof Error ? error.message : String(error)}`)
    },
  )
}

/** A held message fell due: routed now through its exchange, with x-delay negated (the plugin's mark). */
export function releaseDelayed(vhost: VhostState, exchangeName: string, message: HeldMessage): void {
  const exchange = vhost.exchanges.get(exchangeName)
  if (exchange) {
    const properties = releasedProperties(message.properties, message.delay)
    const incoming: IncomingMessage = {
      exchange: exchangeName,
      routingKey: message.routingKey,
      properties,
      body: message.body,
      size: message.size,
      ttl: parseExpirationSafe(properties.expiration),
      persistent: properties.deliveryMode === 2,
    }
    for (const queue of route(vhost, exchange, message.routingKey, properties.headers)) {
      const storing = queue.type.enqueue(queue, incoming, {})
      if (storing instanceof Promise) storing.catch(() => undefined)
    }
  }
  // Forgotten after the queues' writes of this same turn (one storage transaction).
  if (message.stored) writeInBackground(vhost, [{ kind: 'message.delete', queue: delayedStoreName(exchangeName), seq: message.seq }])
}

/** A reply to a direct reply-to address: no queue, straight to the requester's consumer, dropped if it is gone. */
function deliverReply(vhost: VhostState, command: BasicPublish): ReplyResults['basic.publish'] {
  const target = vhost.replyTo.lookup(command.routingKey)
  const client = target && vhost.clients.get(target.channel.connectionId)
  if (target && client?.channels.get(target.channel.id) === target.channel)
    client.send({
      op: 'basic.deliver',
      channel: target.channel.id,
      consumerTag: target.tag,
      deliveryTag: target.channel.nextDeliveryTag(),
      redelivered: false,
      exchange: '',
      routingKey: command.routingKey,
      properties: command.properties,
      body: command.body,
    })
  return { routed: true }
}

/** Passive declare of a reply address: it exists while its requester's channel does (RabbitMQ's liveness check). */
export function declareReplyAddress(vhost: VhostState, name: string): ReplyResults['queue.declare'] {
  if (name !== REPLY_TO && !vhost.replyTo.lookup(name)) throw notFound(`queue '${name}' in vhost '${vhost.name}'`)
  return { queue: name, messageCount: 0, consumerCount: 1 }
}

/**
 * The queues a publish reaches: its routing key, plus the keys of its CC and BCC headers
 * (RabbitMQ's sender-selected distribution: arrays of strings, anything else ignored).
 */
function routeWithCopies(vhost: VhostState, exchange: Exchange, routingKey: string, headers: FieldTable | undefined): Set<QueueState> {
  const targets = route(vhost, exchange, routingKey, headers)
  for (const key of [...copyKeys(headers?.['CC']), ...copyKeys(headers?.['BCC'])])
    for (const queue of route(vhost, exchange, key, headers)) targets.add(queue)
  return targets
}

function copyKeys(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((key): key is string => typeof key === 'string') : []
}

function withoutKey(table: FieldTable, key: string): FieldTable {
  const { [key]: _dropped, ...rest } = table
  return rest
}

/** The queues a message reaches: through exchange-to-exchange bindings, then alternate exchanges. */
export function route(vhost: VhostState, exchange: Exchange, routingKey: string, headers: FieldTable | undefined): Set<QueueState> {
  const queues = new Set<QueueState>()
  // A worklist over exchanges, each visited once (cycles end). As in rabbit_exchange:route,
  // every exchange on the way whose own bindings match nothing hands the message to its AE.
  const seen = new Set<string>([exchange.name])
  const work: Exchange[] = [exchange]
  const follow = (name: string) => {
    const next = vhost.exchanges.get(name)
    if (next && !seen.has(name)) {
      seen.add(name)
      work.push(next)
    }
  }
  for (let current = work.pop(); current; current = work.pop()) {
    if (current.name === '') {
      const queue = vhost.queues.get(routingKey)
      if (queue) queues.add(queue)
      continue
    }
    let matched = false
    for (const binding of current.route(routingKey, headers)) {
      matched = true
      if (binding.destinationKind === 'queue') {
        const queue = vhost.queues.get(binding.destination)
        if (queue) queues.add(queue)
      } else follow(binding.destination)
    }
    if (!matched && current.alternateExchange !== undefined) follow(current.alternateExchange)
  }
  return queues
}

/** For messages moving inside the broker (delayed releases, dead-lettering): a bad expiration means none, never a failure. */
export function parseExpirationSafe(expiration: string | undefined): number | undefined {
  try {
    return parseExpiration(expiration)
  } catch {
    return undefined
  }
}
