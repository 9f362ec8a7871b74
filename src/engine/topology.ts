/**
 * Topology commands: declaring, binding, unbinding, purging and deleting exchanges and queues,
 * with RabbitMQ's equivalence, exclusivity and auto-delete rules, and a queue's lifetime
 * (x-expires). What a queue does with its messages is its type's (queue-type.ts).
 */
import type { ClientCommand, FieldTable, QueueDelete, ReplyResults } from '../protocol/frames.js'
import type { StorageOp } from '../storage/types.js'
import { DELAYED_EXCHANGE_TYPE } from './delayed.js'
import { accessRefused, commandInvalid, notFound, preconditionFailed, resourceLocked } from './errors.js'
import { Exchange, isExchangeTypeName, makeBinding, type Binding } from './exchange.js'
import { validateHeadersBinding } from './headers.js'
import { storedBinding, write, writeInBackground } from './persistence.js'
import { declareReplyAddress } from './publishing.js'
import type { QueueState } from './queue.js'
import { inequivalentArgument } from './queue-arguments.js'
import { QUEUE_TYPE_ARGUMENT } from './queue-type.js'
import { REPLY_TO, isReplyAddress } from './reply-to.js'
import { tablesEqual } from '../protocol/table-key.js'
import { EMPTY, type ClientConnection, type VhostState } from './vhost.js'

// ------------------------------------------------------------------ exchanges

export function declareExchange(vhost: VhostState, command: Extract<ClientCommand, { op: 'exchange.declare' }>): Promise<unknown> | unknown {
  const { exchange: name, passive } = command
  if (name === '') throw accessRefused(`operation not permitted on the default exchange`)
  const existing = vhost.exchanges.get(name)
  // A passive declare only checks existence, whatever its type (an empty one too).
  if (passive) {
    if (!existing) throw notFound(`exchange '${name}' in vhost '${vhost.name}'`)
    return EMPTY
  }
  if (command.type === undefined || !isExchangeTypeName(command.type)) throw commandInvalid(`unknown exchange type '${command.type ?? ''}'`)
  const type = command.type
  const durable = command.durable ?? false
  const autoDelete = command.autoDelete ?? false
  const internal = command.internal ?? false
  const args = command.arguments ?? {}
  if (existing) {
    const same =
      existing.type === type &&
      existing.durable === durable &&
      existing.autoDelete === autoDelete &&
      existing.internal === internal &&
      tablesEqual(existing.args, args)
    if (!same) throw preconditionFailed(`inequivalent arg for exchange '${name}' in vhost '${vhost.name}'`)
    return EMPTY
  }
  if (name.startsWith('amq.')) throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`)
  const ae = args['alternate-exchange']
  if (ae !== undefined && typeof ae !== 'string') throw preconditionFailed(`invalid arg 'alternate-exchange': not a string`)
  // An x-delayed-message exchange checks its x-delayed-type here (406 missing, 503 unknown).
  const exchange = new Exchange(name, type, durable, autoDelete, internal, args)
  vhost.exchanges.set(name, exchange)
  if (durable) return write(vhost, [{ kind: 'exchange.put', exchange: { name, type, durable: true, autoDelete, internal, arguments: args } }]).then(() => EMPTY)
  return EMPTY
}

export function deleteExchange(vhost: VhostState, name: string, ifUnused: boolean): unknown {
  if (name === '' || name.startsWith('amq.')) throw accessRefused(`operation not permitted on exchange '${name}'`)
  const exchange = vhost.exchanges.get(name)
  if (!exchange) return EMPTY
  if (ifUnused && exchange.bindings.size > 0) throw preconditionFailed(`exchange '${name}' in vhost '${vhost.name}' in use`)
  removeExchange(vhost, exchange)
  return EMPTY
}

function removeExchange(vhost: VhostState, exchange: Exchange): void {
  vhost.exchanges.delete(exchange.name)
  const ops: StorageOp[] = []
  if (exchange.durable) ops.push({ kind: 'exchange.delete', name: exchange.name })
  if (exchange.type === DELAYED_EXCHANGE_TYPE) ops.push(...vhost.delayed.discard(exchange.name, exchange.durable))
  // Bindings to this exchange from others go too; deleting never touches queues.
  for (const other of vhost.exchanges.values()) {
    for (const binding of [...other.bindings.values()]) {
      if (binding.destinationKind === 'exchange' && binding.destination === exchange.name) dropBinding(vhost, other, binding, ops)
    }
  }
  writeInBackground(vhost, ops)
}

export function bindExchange(vhost: VhostState, destination: string, source: string, routingKey: string, args: FieldTable): Promise<unknown> | unknown {
  if (destination === '' || source === '') throw accessRefused(`operation not permitted on the default exchange`)
  const to = vhost.exchanges.get(destination)
  if (!to) throw notFound(`exchange '${destination}' in vhost '${vhost.name}'`)
  const from = vhost.exchanges.get(source)
  if (!from) throw notFound(`exchange '${source}' in vhost '${vhost.name}'`)
  return addBinding(vhost, from, makeBinding(source, 'exchange', destination, routingKey, args), from.durable && to.durable)
}

export function unbindExchange(vhost: VhostState, destination: string, source: string, routingKey: string, args: FieldTable): unknown {
  if (destination === '' || source === '') throw accessRefused(`operation not permitted on the default exchange`)
  if (!vhost.exchanges.has(destination)) throw notFound(`exchange '${destination}' in vhost '${vhost.name}'`)
  const from = vhost.exchanges.get(source)
  if (!from) throw notFound(`exchange '${source}' in vhost '${vhost.name}'`)
  const ops: StorageOp[] = []
  dropBinding(vhost, from, makeBinding(source, 'exchange', destination, routingKey, args), ops)
  writeInBackground(vhost, ops)
  return EMPTY
}

function addBinding(vhost: VhostState, source: Exchange, binding: Binding, durable: boolean): Promise<unknown> | unknown {
  if (source.routingType === 'headers') {
    const problem = validateHeadersBinding(binding.arguments)
    if (problem) throw preconditionFailed(problem)
  }
  if (!source.addBinding(binding) || !durable) return EMPTY
  return write(vhost, [{ kind: 'binding.put', binding: storedBinding(binding) }]).then(() => EMPTY)
}

/** Removes a binding; an auto-delete source exchange goes with its last binding. */
function dropBinding(vhost: VhostState, source: Exchange, binding: Binding, ops: StorageOp[]): void {
  if (!source.removeBinding(binding)) return
  ops.push({ kind: 'binding.delete', binding: storedBinding(binding) })
  if (source.autoDelete && source.bindings.size === 0 && vhost.exchanges.get(source.name) === source) {
    vhost.exchanges.delete(source.name)
    if (source.durable) ops.push({ kind: 'exchange.delete', name: source.name })
    if (source.type === DELAYED_EXCHANGE_TYPE) ops.push(...vhost.delayed.discard(source.name, source.durable))
    for (const other of vhost.exchanges.values())
      for (const b of [...other.bindings.values()])
        if (b.destinationKind === 'exchange' && b.destination === source.name) dropBinding(vhost, other, b, ops)
  }
}

// ------------------------------------------------------------------ queues

export function declareQueue(vhost: VhostState, client: ClientConnection, command: Extract<ClientCommand, { op: 'queue.declare' }>): unknown {
  const name = command.queue === '' ? generateQueueName(vhost) : command.queue
  const existing = vhost.queues.get(name)
  if (command.passive) {
    if (name === REPLY_TO || isReplyAddress(name)) return declareReplyAddress(vhost, name)
    if (!existing) throw notFound(`queue '${name}' in vhost '${vhost.name}'`)
    checkExclusive(vhost, client, existing)
    touch(vhost, existing)
    return declareOk(existing)
  }
  const exclusive = command.exclusive ?? false
  // RabbitMQ makes exclusive queues transient whatever `durable` says.
  const durable = exclusive ? false : (command.durable ?? false)
  const autoDelete = command.autoDelete ?? false
  const args = command.arguments ?? {}
  if (existing) {
    checkExclusive(vhost, client, existing)
    // RabbitMQ's strict exclusive check: exclusiveness differing from the queue's is 405, not 406.
    if (existing.exclusive !== exclusive) throw resourceLocked(`cannot obtain exclusive access to locked queue '${name}' in vhost '${vhost.name}'`)
    if (existing.durable !== durable) throw preconditionFailed(`inequivalent arg 'durable' for queue '${name}' in vhost '${vhost.name}': received '${durable}' but current is '${existing.durable}'`)
    if (existing.autoDelete !== autoDelete) throw preconditionFailed(`inequivalent arg 'auto_delete' for queue '${name}' in vhost '${vhost.name}'`)
    // An absent x-queue-type means classic (RabbitMQ's default), so it is compared as a type.
    const type = vhost.queueTypes.resolve(args)
    if (type !== existing.type)
      throw preconditionFailed(`inequivalent arg '${QUEUE_TYPE_ARGUMENT}' for queue '${name}' in vhost '${vhost.name}': received '${type.name}' but current is '${existing.type.name}'`)
    const different = inequivalentArgument(existing.args, args)
    if (different) throw preconditionFailed(`inequivalent arg '${different}' for queue '${name}' in vhost '${vhost.name}'`)
    touch(vhost, existing)
    return declareOk(existing)
  }
  if (command.queue.startsWith('amq.')) throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`)
  const type = vhost.queueTypes.resolve(args)
  const declaration = { name, durable, owner: exclusive ? client.id : undefined, autoDelete, args, serverNamed: command.queue === '' }
  const queue = type.create(declaration, type.validate(declaration))
  vhost.queues.set(name, queue)
  touch(vhost, queue)
  if (durable) return write(vhost, [{ kind: 'queue.put', queue: { name, durable: true, autoDelete, arguments: args } }]).then(() => declareOk(queue))
  return declareOk(queue)
}

function generateQueueName(vhost: VhostState): string {
  let name: string
  do name = `amq.gen-${vhost.brokerId}-${(++vhost.generated).toString(36)}`
  while (vhost.queues.has(name))
  return name
}

function declareOk(queue: QueueState): ReplyResults['queue.declare'] {
  return { queue: queue.name, messageCount: queue.messageCount, consumerCount: queue.consumers.length }
}

/** The queue a client names, if it exists and the client may use it. */
export function queueFor(vhost: VhostState, client: ClientConnection, name: string): QueueState {
  const queue = vhost.queues.get(name)
  if (!queue) throw notFound(`queue '${name}' in vhost '${vhost.name}'`)
  checkExclusive(vhost, client, queue)
  return queue
}

function checkExclusive(vhost: VhostState, client: ClientConnection, queue: QueueState): void {
  if (queue.owner !== undefined && queue.owner !== client.id)
    throw resourceLocked(`cannot obtain exclusive access to locked queue '${queue.name}' in vhost '${vhost.name}'`)
}

export function bindQueue(vhost: VhostState, client: ClientConnection, queueName: string, exchangeName: string, routingKey: string, args: FieldTable): unknown {
  const queue = queueFor(vhost, client, queueName)
  if (exchangeName === '') throw accessRefused(`operation not permitted on the default exchange`)
  const exchange = vhost.exchanges.get(exchangeName)
  if (!exchange) throw notFound(`exchange '${exchangeName}' in vhost '${vhost.name}'`)
  return addBinding(vhost, exchange, makeBinding(exchangeName, 'queue', queue.name, routingKey, args), exchange.durable && queue.durable)
}

export function unbindQueue(vhost: VhostState, client: ClientConnection, queueName: string, exchangeName: string, routingKey: string, args: FieldTable): unknown {
  const queue = queueFor(vhost, client, queueName)
  if (exchangeName === '') throw accessRefused(`operation not permitted on the default exchange`)
  const exchange = vhost.exchanges.get(exchangeName)
  if (!exchange) throw notFound(`exchange '${exchangeName}' in vhost '${vhost.name}'`)
  const ops: StorageOp[] = []
  dropBinding(vhost, exchange, makeBinding(exchangeName, 'queue', queue.name, routingKey, args), ops)
  writeInBackground(vhost, ops)
  return EMPTY
}

export function purge(vhost: VhostState, client: ClientConnection, name: string): ReplyResults['queue.purge'] {
  const queue = queueFor(vhost, client, name)
  return { messageCount: queue.type.purge(queue) }
}

export function deleteQueueCommand(vhost: VhostState, client: ClientConnection, command: QueueDelete): ReplyResults['queue.delete'] {
  const { queue: name, ifUnused = false, ifEmpty = false } = command
  const queue = vhost.queues.get(name)
  if (!queue) return { messageCount: 0 }
  checkExclusive(vhost, client, queue)
  if (ifUnused && queue.consumers.length > 0) throw preconditionFailed(`queue '${name}' in vhost '${vhost.name}' in use`)
  if (ifEmpty && queue.messageCount > 0) throw preconditionFailed(`queue '${name}' in vhost '${vhost.name}' not empty`)
  return { messageCount: deleteQueue(vhost, queue) }
}

/** Deletes a queue: consumers get a cancel, bindings go, ready messages are dropped (not dead-lettered). */
export function deleteQueue(vhost: VhostState, queue: QueueState): number {
  if (queue.deleted) return 0
  queue.deleted = true
  vhost.queues.delete(queue.name)
  queue.cancelExpiryTimer?.()
  for (const consumer of [...queue.consumers]) {
    queue.removeConsumer(consumer)
    consumer.channel.consumers.delete(consumer.tag)
    vhost.clients.get(consumer.channel.connectionId)?.send({ op: 'basic.cancel-notify', channel: consumer.channel.id, consumerTag: consumer.tag })
  }
  const ops: StorageOp[] = []
  for (const exchange of [...vhost.exchanges.values()])
    for (const binding of [...exchange.bindings.values()])
      if (binding.destinationKind === 'queue' && binding.destination === queue.name) dropBinding(vhost, exchange, binding, ops)
  const dropped = queue.type.delete(queue)
  if (queue.durable) ops.push({ kind: 'queue.delete', name: queue.name })
  writeInBackground(vhost, ops)
  return dropped
}

// ------------------------------------------------------------------ queue lifetime

/**
 * x-expires: a queue unused for that long is deleted; any use restarts the clock. A use only
 * records its time: the one pending timer re-arms for the rest when it fires early, so a
 * basic.get loop does not cancel and set a timer per call.
 */
export function touch(vhost: VhostState, queue: QueueState): void {
  const expires = queue.options.expires
  if (expires === undefined || queue.deleted) return
  queue.lastUsedAt = vhost.clock.now()
  if (!queue.cancelExpiryTimer) armQueueExpiry(vhost, queue, expires, expires)
}

function armQueueExpiry(vhost: VhostState, queue: QueueState, expires: number, delay: number): void {
  queue.cancelExpiryTimer = vhost.clock.schedule(delay, () => {
    queue.cancelExpiryTimer = undefined
    // In use: the last consumer to leave touches the queue again, which re-arms.
    if (queue.deleted || vhost.stopped || queue.consumers.length > 0) return
    const left = queue.lastUsedAt + expires - vhost.clock.now()
    if (left > 0) armQueueExpiry(vhost, queue, expires, left)
    else deleteQueue(vhost, queue)
  })
}
