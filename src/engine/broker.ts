/**
 * The broker of one vhost: RabbitMQ's AMQP 0-9-1 model, pure. Commands come in through
 * `receive`, events go out through each client's `send`. Every state change happens
 * synchronously in `receive`; only replies that wait for storage are deferred.
 */
import type {
  BasicPublish,
  ClientCommand,
  ClientKind,
  FieldTable,
  MessageProperties,
  ReplyResults,
  ServerEvent,
} from '../protocol/frames.js'
import { errorData } from '../protocol/errors.js'
import { parseCommand } from '../protocol/guards.js'
import type { Durability, Storage, StorageOp } from '../storage/types.js'
import { ChannelState, ConsumerState, type Delivery } from './channel.js'
import type { Clock } from './clock.js'
import { deadLetterProperties, isDeadLetterCycle, originalRoutingKeys, type DeathReason } from './dead-letter.js'
import { AmqpError, accessRefused, commandInvalid, notFound, notImplemented, preconditionFailed, resourceLocked } from './errors.js'
import { DELAYED_EXCHANGE_TYPE, DelayedDelivery, delayedStoreName, delayOf, releasedProperties, type HeldMessage } from './delayed.js'
import { Exchange, isExchangeTypeName, makeBinding, type Binding, type KnownExchangeType } from './exchange.js'
import { validateHeadersBinding } from './headers.js'
import { bodySize, type QueuedMessage } from './message.js'
import { QueueState } from './queue.js'
import { inequivalentArgument, parseExpiration, parseQueueArguments } from './queue-arguments.js'
import { tablesEqual } from './table.js'
import { recoverState } from './recovery.js'
import { DEFAULT_QUEUE_WINDOW, type Paging, type PagingHost } from './paging.js'
import { DirectReplyTo, REPLY_TO, isReplyAddress } from './reply-to.js'

export interface BrokerOptions {
  vhost?: string
  clock: Clock
  storage?: Storage
  brokerId?: string
  /** Default durability of storage writes; a queue may ask for 'strict' with `x-durability`. */
  durability?: Durability
  /**
   * Ready messages a durable queue keeps in memory; further persistent ones stay in storage
   * until the queue drains (default 2048, as RabbitMQ's classic queues). See paging.ts.
   */
  queueWindow?: number
  /**
   * Bounded memory for the vhost: ready messages kept in memory (every queue's in-memory part,
   * transients waiting behind a paged-out tail, messages held by delayed exchanges) at most.
   * A publish that would keep one more in memory past a limit is refused with a nack whose
   * code is RESOURCE_LIMIT; paged-out messages cost no memory and do not count, and messages
   * moving inside the broker (dead-lettering, delayed releases) are never refused. Unacked
   * messages are bounded by prefetch instead. Default: no limit.
   */
  maxReadyMessages?: number
  /** The same for their body bytes. */
  maxReadyBytes?: number
}

export interface ClientInfo {
  kind?: ClientKind
  name?: string
}

interface ClientConnection {
  readonly id: string
  readonly send: (event: ServerEvent) => void
  readonly info: ClientInfo
  readonly channels: Map<number, ChannelState>
  readonly connectedAt: number
}

export interface BrokerStats {
  /** Frames that could not be parsed or came from unknown clients. */
  droppedFrames: number
  /** Frames answered with an error. */
  rejectedFrames: number
  /** Storage writes that failed. */
  storageFailures: number
}

/** A publish the broker refused (reject-publish overflow, storage failure, memory limit): a confirm nack. */
class NackError extends Error {
  constructor(
    message: string,
    readonly code: 'NACK' | 'RESOURCE_LIMIT' = 'NACK',
  ) {
    super(message)
  }
}

/** How stale the memory figure checked against the limits may get (broker clock, ms); see overMemoryLimit. */
const MEMORY_RECOUNT_MS = 16

const PREDECLARED: ReadonlyArray<[string, KnownExchangeType]> = [
  ['', 'direct'],
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
]

const EMPTY: Record<string, never> = {}

export class Broker {
  readonly vhost: string
  readonly brokerId: string
  readonly stats: BrokerStats = { droppedFrames: 0, rejectedFrames: 0, storageFailures: 0 }
  /** @internal exposed for recovery and inspection */
  readonly exchanges = new Map<string, Exchange>()
  /** @internal */
  readonly queues = new Map<string, QueueState>()
  /** @internal messages held by x-delayed-message exchanges (recovery restores into it) */
  readonly delayed: DelayedDelivery
  private readonly replyTo: DirectReplyTo
  private readonly clients = new Map<string, ClientConnection>()
  private readonly clock: Clock
  private readonly storage: Storage | undefined
  private readonly durability: Durability
  /** @internal recovery pages queues with it too */
  readonly queueWindow: number
  private readonly maxReadyMessages: number
  private readonly maxReadyBytes: number
  /** Ready messages in memory as last counted, plus those accepted since (see overMemoryLimit). */
  private memory = { messages: 0, bytes: 0, countedAt: -Infinity }
  private generated = 0
  private stopped = false

  private constructor(
    options: BrokerOptions,
    readonly epoch: number,
  ) {
    this.vhost = options.vhost ?? '/'
    this.clock = options.clock
    this.delayed = new DelayedDelivery(this.clock, (exchange, message) => this.releaseDelayed(exchange, message))
    this.storage = options.storage
    this.durability = options.durability ?? 'relaxed'
    this.queueWindow = Math.max(1, Math.floor(options.queueWindow ?? DEFAULT_QUEUE_WINDOW))
    this.maxReadyMessages = options.maxReadyMessages ?? Infinity
    this.maxReadyBytes = options.maxReadyBytes ?? Infinity
    this.brokerId = options.brokerId ?? Math.random().toString(36).slice(2, 10)
    this.replyTo = new DirectReplyTo(this.brokerId)
    for (const [name, type] of PREDECLARED) this.exchanges.set(name, new Exchange(name, type, true, false, false, {}))
  }

  /** Opens storage, recovers durable state and returns a running broker with a new epoch. */
  static async start(options: BrokerOptions): Promise<Broker> {
    const epoch = options.storage ? (await options.storage.open()).epoch : 1
    const broker = new Broker(options, epoch)
    if (options.storage) await recoverState(broker, options.storage)
    for (const queue of broker.queues.values()) {
      broker.touch(queue)
      broker.scheduleHeadExpiry(queue)
    }
    broker.delayed.start()
    return broker
  }

  // ------------------------------------------------------------------ clients

  connect(clientId: string, send: (event: ServerEvent) => void, info: ClientInfo = {}): void {
    if (this.clients.has(clientId)) this.disconnect(clientId)
    this.clients.set(clientId, { id: clientId, send, info, channels: new Map(), connectedAt: this.clock.now() })
  }

  hasClient(clientId: string): boolean {
    return this.clients.has(clientId)
  }

  /** The client is gone: its channels close (unacked messages return), its exclusive queues go. */
  disconnect(clientId: string): void {
    const client = this.clients.get(clientId)
    if (!client) return
    this.clients.delete(clientId)
    for (const channel of client.channels.values()) this.closeChannel(client, channel)
    for (const queue of [...this.queues.values()]) if (queue.owner === clientId) this.deleteQueue(queue)
  }

  /** One untrusted frame from a client. Never throws. */
  receive(clientId: string, raw: unknown): void {
    const client = this.clients.get(clientId)
    if (!client || this.stopped) {
      this.stats.droppedFrames++
      return
    }
    const parsed = parseCommand(raw)
    if (!parsed.ok) {
      this.stats.rejectedFrames++
      if (parsed.id !== undefined) client.send({ op: 'error', id: parsed.id, error: parsed.error })
      else this.stats.droppedFrames++
      return
    }
    const command = parsed.frame
    try {
      const result = this.execute(client, command)
      if (result instanceof Promise) {
        result.then(
          (value) => this.reply(client, command, value),
          (error: unknown) => this.fail(client, command, error),
        )
      } else this.reply(client, command, result)
    } catch (error) {
      this.fail(client, command, error)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const queue of this.queues.values()) {
      queue.cancelHeadTimer?.()
      queue.cancelExpiryTimer?.()
      queue.paging?.stop()
    }
    this.delayed.stop()
    await this.storage?.close()
  }

  private reply(client: ClientConnection, command: ClientCommand, result: unknown): void {
    if (command.id !== undefined && this.clients.get(client.id) === client) client.send({ op: 'ok', id: command.id, result })
  }

  private fail(client: ClientConnection, command: ClientCommand, error: unknown): void {
    this.stats.rejectedFrames++
    // A late (storage) failure for a client that is gone, or reconnected under the same id, is nobody's answer.
    if (this.clients.get(client.id) !== client) return
    if (error instanceof NackError) {
      if (command.id !== undefined)
        client.send({ op: 'error', id: command.id, error: errorData('PublishNackError', error.code, error.message) })
      return
    }
    const amqp = error instanceof AmqpError ? error : new AmqpError(541, error instanceof Error ? error.message : String(error))
    const data = amqp.toData()
    if (command.id !== undefined) client.send({ op: 'error', id: command.id, error: data })
    if (amqp.replyCode === 541 || amqp.replyCode === 504) return // our bug or a stray frame: answer, keep the client
    if (amqp.soft) {
      const channel = client.channels.get(command.channel)
      if (channel) {
        this.closeChannel(client, channel)
        client.send({ op: 'channel.closed', channel: channel.id, error: data })
      }
    } else {
      client.send({ op: 'connection.closed', error: data })
      this.disconnect(client.id)
    }
  }

  // ------------------------------------------------------------------ commands

  private execute(client: ClientConnection, command: ClientCommand): unknown {
    if (command.op === 'channel.open') {
      if (client.channels.has(command.channel)) throw new AmqpError(504, `channel ${command.channel} is already open`)
      client.channels.set(command.channel, new ChannelState(command.channel, client.id))
      return EMPTY
    }
    const channel = client.channels.get(command.channel)
    if (!channel) throw new AmqpError(504, `channel ${command.channel} is not open`)
    switch (command.op) {
      case 'channel.close':
        this.closeChannel(client, channel)
        return EMPTY
      case 'basic.qos':
        return this.qos(channel, command.prefetchCount, command.global ?? false)
      case 'exchange.declare':
        return this.declareExchange(command)
      case 'exchange.delete':
        return this.deleteExchange(command.exchange, command.ifUnused ?? false)
      case 'exchange.bind':
        return this.bindExchange(command.destination, command.source, command.routingKey ?? '', command.arguments ?? {})
      case 'exchange.unbind':
        return this.unbindExchange(command.destination, command.source, command.routingKey ?? '', command.arguments ?? {})
      case 'queue.declare':
        return this.declareQueue(client, command)
      case 'queue.bind':
        return this.bindQueue(client, command.queue, command.exchange, command.routingKey ?? '', command.arguments ?? {})
      case 'queue.unbind':
        return this.unbindQueue(client, command.queue, command.exchange, command.routingKey ?? '', command.arguments ?? {})
      case 'queue.purge':
        return this.purge(client, command.queue)
      case 'queue.delete':
        return this.deleteQueueCommand(client, command.queue, command.ifUnused ?? false, command.ifEmpty ?? false)
      case 'basic.publish':
        return this.publish(client, channel, command)
      case 'basic.consume':
        return this.consume(client, channel, command.queue, command.consumerTag, command.noAck ?? false, command.exclusive ?? false, command.arguments ?? {})
      case 'basic.cancel':
        return this.cancel(channel, command.consumerTag)
      case 'basic.get':
        return this.get(client, channel, command.queue, command.noAck ?? false)
      case 'basic.ack':
        return this.ack(channel, command.deliveryTag, command.multiple ?? false)
      case 'basic.nack':
        return this.reject(channel, command.deliveryTag, command.multiple ?? false, command.requeue ?? true, false)
      case 'basic.reject':
        return this.reject(channel, command.deliveryTag, false, command.requeue ?? true, true)
      case 'basic.recover':
        return this.recover(channel, command.requeue ?? true)
    }
  }

  // ------------------------------------------------------------------ exchanges

  private declareExchange(command: Extract<ClientCommand, { op: 'exchange.declare' }>): Promise<unknown> | unknown {
    const { exchange: name, passive } = command
    if (name === '') throw accessRefused(`operation not permitted on the default exchange`)
    const existing = this.exchanges.get(name)
    if (passive) {
      if (!existing) throw notFound(`exchange '${name}' in vhost '${this.vhost}'`)
      return EMPTY
    }
    if (!isExchangeTypeName(command.type)) throw commandInvalid(`unknown exchange type '${command.type}'`)
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
      if (!same) throw preconditionFailed(`inequivalent arg for exchange '${name}' in vhost '${this.vhost}'`)
      return EMPTY
    }
    if (name.startsWith('amq.')) throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`)
    const ae = args['alternate-exchange']
    if (ae !== undefined && typeof ae !== 'string') throw preconditionFailed(`invalid arg 'alternate-exchange': not a string`)
    // An x-delayed-message exchange checks its x-delayed-type here (406 missing, 503 unknown).
    const exchange = new Exchange(name, type, durable, autoDelete, internal, args)
    this.exchanges.set(name, exchange)
    if (durable) return this.write([{ kind: 'exchange.put', exchange: { name, type, durable: true, autoDelete, internal, arguments: args } }]).then(() => EMPTY)
    return EMPTY
  }

  private deleteExchange(name: string, ifUnused: boolean): unknown {
    if (name === '' || name.startsWith('amq.')) throw accessRefused(`operation not permitted on exchange '${name}'`)
    const exchange = this.exchanges.get(name)
    if (!exchange) return EMPTY
    if (ifUnused && exchange.bindings.size > 0) throw preconditionFailed(`exchange '${name}' in vhost '${this.vhost}' in use`)
    this.removeExchange(exchange)
    return EMPTY
  }

  private removeExchange(exchange: Exchange): void {
    this.exchanges.delete(exchange.name)
    const ops: StorageOp[] = []
    if (exchange.durable) ops.push({ kind: 'exchange.delete', name: exchange.name })
    if (exchange.type === DELAYED_EXCHANGE_TYPE) ops.push(...this.delayed.discard(exchange.name, exchange.durable))
    // Bindings to this exchange from others go too; deleting never touches queues.
    for (const other of this.exchanges.values()) {
      for (const binding of [...other.bindings.values()]) {
        if (binding.destinationKind === 'exchange' && binding.destination === exchange.name) this.dropBinding(other, binding, ops)
      }
    }
    this.writeInBackground(ops)
  }

  private bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): Promise<unknown> | unknown {
    if (destination === '' || source === '') throw accessRefused(`operation not permitted on the default exchange`)
    const to = this.exchanges.get(destination)
    if (!to) throw notFound(`exchange '${destination}' in vhost '${this.vhost}'`)
    const from = this.exchanges.get(source)
    if (!from) throw notFound(`exchange '${source}' in vhost '${this.vhost}'`)
    return this.addBinding(from, makeBinding(source, 'exchange', destination, routingKey, args), from.durable && to.durable)
  }

  private unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): unknown {
    if (destination === '' || source === '') throw accessRefused(`operation not permitted on the default exchange`)
    if (!this.exchanges.has(destination)) throw notFound(`exchange '${destination}' in vhost '${this.vhost}'`)
    const from = this.exchanges.get(source)
    if (!from) throw notFound(`exchange '${source}' in vhost '${this.vhost}'`)
    const ops: StorageOp[] = []
    this.dropBinding(from, makeBinding(source, 'exchange', destination, routingKey, args), ops)
    this.writeInBackground(ops)
    return EMPTY
  }

  private addBinding(source: Exchange, binding: Binding, durable: boolean): Promise<unknown> | unknown {
    if (source.routingType === 'headers') {
      const problem = validateHeadersBinding(binding.arguments)
      if (problem) throw preconditionFailed(problem)
    }
    if (!source.addBinding(binding) || !durable) return EMPTY
    return this.write([{ kind: 'binding.put', binding: storedBinding(binding) }]).then(() => EMPTY)
  }

  /** Removes a binding; an auto-delete source exchange goes with its last binding. */
  private dropBinding(source: Exchange, binding: Binding, ops: StorageOp[]): void {
    if (!source.removeBinding(binding)) return
    ops.push({ kind: 'binding.delete', binding: storedBinding(binding) })
    if (source.autoDelete && source.bindings.size === 0 && this.exchanges.get(source.name) === source) {
      this.exchanges.delete(source.name)
      if (source.durable) ops.push({ kind: 'exchange.delete', name: source.name })
      if (source.type === DELAYED_EXCHANGE_TYPE) ops.push(...this.delayed.discard(source.name, source.durable))
      for (const other of this.exchanges.values())
        for (const b of [...other.bindings.values()])
          if (b.destinationKind === 'exchange' && b.destination === source.name) this.dropBinding(other, b, ops)
    }
  }

  // ------------------------------------------------------------------ queues

  private declareQueue(client: ClientConnection, command: Extract<ClientCommand, { op: 'queue.declare' }>): unknown {
    const name = command.queue === '' ? this.generateQueueName() : command.queue
    const existing = this.queues.get(name)
    if (command.passive) {
      if (name === REPLY_TO || isReplyAddress(name)) return this.declareReplyAddress(name)
      if (!existing) throw notFound(`queue '${name}' in vhost '${this.vhost}'`)
      this.checkExclusive(client, existing)
      this.touch(existing)
      return declareOk(existing)
    }
    const exclusive = command.exclusive ?? false
    // RabbitMQ makes exclusive queues transient whatever `durable` says.
    const durable = exclusive ? false : (command.durable ?? false)
    const autoDelete = command.autoDelete ?? false
    const args = command.arguments ?? {}
    if (existing) {
      this.checkExclusive(client, existing)
      // RabbitMQ's strict exclusive check: exclusiveness differing from the queue's is 405, not 406.
      if (existing.exclusive !== exclusive) throw resourceLocked(`cannot obtain exclusive access to locked queue '${name}' in vhost '${this.vhost}'`)
      if (existing.durable !== durable) throw preconditionFailed(`inequivalent arg 'durable' for queue '${name}' in vhost '${this.vhost}': received '${durable}' but current is '${existing.durable}'`)
      if (existing.autoDelete !== autoDelete) throw preconditionFailed(`inequivalent arg 'auto_delete' for queue '${name}' in vhost '${this.vhost}'`)
      const different = inequivalentArgument(existing.args, args)
      if (different) throw preconditionFailed(`inequivalent arg '${different}' for queue '${name}' in vhost '${this.vhost}'`)
      this.touch(existing)
      return declareOk(existing)
    }
    if (command.queue.startsWith('amq.')) throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`)
    const options = parseQueueArguments(args)
    const queue = new QueueState(name, durable, exclusive ? client.id : undefined, autoDelete, args, options)
    if (durable && this.storage) queue.enablePaging(this.queueWindow)
    this.queues.set(name, queue)
    this.touch(queue)
    if (durable) return this.write([{ kind: 'queue.put', queue: { name, durable: true, autoDelete, arguments: args } }]).then(() => declareOk(queue))
    return declareOk(queue)
  }

  private generateQueueName(): string {
    let name: string
    do name = `amq.gen-${this.brokerId}-${(++this.generated).toString(36)}`
    while (this.queues.has(name))
    return name
  }

  private queueFor(client: ClientConnection, name: string): QueueState {
    const queue = this.queues.get(name)
    if (!queue) throw notFound(`queue '${name}' in vhost '${this.vhost}'`)
    this.checkExclusive(client, queue)
    return queue
  }

  private checkExclusive(client: ClientConnection, queue: QueueState): void {
    if (queue.owner !== undefined && queue.owner !== client.id)
      throw resourceLocked(`cannot obtain exclusive access to locked queue '${queue.name}' in vhost '${this.vhost}'`)
  }

  private bindQueue(client: ClientConnection, queueName: string, exchangeName: string, routingKey: string, args: FieldTable): unknown {
    const queue = this.queueFor(client, queueName)
    if (exchangeName === '') throw accessRefused(`operation not permitted on the default exchange`)
    const exchange = this.exchanges.get(exchangeName)
    if (!exchange) throw notFound(`exchange '${exchangeName}' in vhost '${this.vhost}'`)
    return this.addBinding(exchange, makeBinding(exchangeName, 'queue', queue.name, routingKey, args), exchange.durable && queue.durable)
  }

  private unbindQueue(client: ClientConnection, queueName: string, exchangeName: string, routingKey: string, args: FieldTable): unknown {
    const queue = this.queueFor(client, queueName)
    if (exchangeName === '') throw accessRefused(`operation not permitted on the default exchange`)
    const exchange = this.exchanges.get(exchangeName)
    if (!exchange) throw notFound(`exchange '${exchangeName}' in vhost '${this.vhost}'`)
    const ops: StorageOp[] = []
    this.dropBinding(exchange, makeBinding(exchangeName, 'queue', queue.name, routingKey, args), ops)
    this.writeInBackground(ops)
    return EMPTY
  }

  private purge(client: ClientConnection, name: string): ReplyResults['queue.purge'] {
    const queue = this.queueFor(client, name)
    const purged = queue.drainReady()
    this.forget(queue, purged)
    // Paged-out messages go by seq range, above every unacked one.
    const paged = queue.paging?.drop(queue.nextSeq - 1)
    if (paged?.range) this.writeInBackground([{ kind: 'message.deleteRange', queue: queue.name, fromSeq: paged.range[0], toSeq: paged.range[1] }])
    queue.cancelHeadTimer?.()
    return { messageCount: purged.length + (paged?.count ?? 0) }
  }

  private deleteQueueCommand(client: ClientConnection, name: string, ifUnused: boolean, ifEmpty: boolean): ReplyResults['queue.delete'] {
    const queue = this.queues.get(name)
    if (!queue) return { messageCount: 0 }
    this.checkExclusive(client, queue)
    if (ifUnused && queue.consumers.length > 0) throw preconditionFailed(`queue '${name}' in vhost '${this.vhost}' in use`)
    if (ifEmpty && queue.messageCount > 0) throw preconditionFailed(`queue '${name}' in vhost '${this.vhost}' not empty`)
    return { messageCount: this.deleteQueue(queue) }
  }

  /** Deletes a queue: consumers get a cancel, bindings go, ready messages are dropped (not dead-lettered). */
  private deleteQueue(queue: QueueState): number {
    if (queue.deleted) return 0
    queue.deleted = true
    this.queues.delete(queue.name)
    queue.cancelHeadTimer?.()
    queue.cancelExpiryTimer?.()
    for (const consumer of [...queue.consumers]) {
      queue.removeConsumer(consumer)
      consumer.channel.consumers.delete(consumer.tag)
      this.clients.get(consumer.channel.connectionId)?.send({ op: 'basic.cancel-notify', channel: consumer.channel.id, consumerTag: consumer.tag })
    }
    const ops: StorageOp[] = []
    for (const exchange of [...this.exchanges.values()])
      for (const binding of [...exchange.bindings.values()])
        if (binding.destinationKind === 'queue' && binding.destination === queue.name) this.dropBinding(exchange, binding, ops)
    const dropped = queue.drainReady()
    const paged = queue.paging?.drop(queue.nextSeq - 1).count ?? 0
    queue.paging?.stop()
    if (queue.durable) ops.push({ kind: 'queue.delete', name: queue.name })
    this.writeInBackground(ops)
    return dropped.length + paged
  }

  /**
   * x-expires: a queue unused for that long is deleted; any use restarts the clock. A use only
   * records its time: the one pending timer re-arms for the rest when it fires early, so a
   * basic.get loop does not cancel and set a timer per call.
   */
  private touch(queue: QueueState): void {
    const expires = queue.options.expires
    if (expires === undefined || queue.deleted) return
    queue.lastUsedAt = this.clock.now()
    if (!queue.cancelExpiryTimer) this.armQueueExpiry(queue, expires, expires)
  }

  private armQueueExpiry(queue: QueueState, expires: number, delay: number): void {
    queue.cancelExpiryTimer = this.clock.schedule(delay, () => {
      queue.cancelExpiryTimer = undefined
      // In use: the last consumer to leave touches the queue again, which re-arms.
      if (queue.deleted || this.stopped || queue.consumers.length > 0) return
      const left = queue.lastUsedAt + expires - this.clock.now()
      if (left > 0) this.armQueueExpiry(queue, expires, left)
      else this.deleteQueue(queue)
    })
  }

  // ------------------------------------------------------------------ publishing

  private publish(client: ClientConnection, channel: ChannelState, command: BasicPublish): Promise<unknown> | unknown {
    const exchange = this.exchanges.get(command.exchange)
    if (!exchange) throw notFound(`exchange '${command.exchange}' in vhost '${this.vhost}'`)
    if (exchange.internal) throw accessRefused(`cannot publish to internal exchange '${exchange.name}' in vhost '${this.vhost}'`)
    const ttl = parseExpiration(command.properties.expiration)
    const priority = command.properties.priority
    if (priority !== undefined && (!Number.isInteger(priority) || priority < 0 || priority > 255))
      throw preconditionFailed(`invalid priority ${priority}`)
    // Direct reply-to: a request's replyTo becomes its channel's address; a reply to such an
    // address goes straight to that consumer and counts as routed.
    if (command.properties.replyTo === REPLY_TO)
      command = { ...command, properties: { ...command.properties, replyTo: this.replyTo.addressFor(channel) } }
    if (command.exchange === '' && isReplyAddress(command.routingKey)) return this.deliverReply(command)
    if (exchange.type === DELAYED_EXCHANGE_TYPE) {
      const delay = delayOf(command.properties.headers)
      if (delay !== undefined) return this.holdDelayed(exchange, command, delay)
    }
    const targets = this.route(exchange, command.routingKey, command.properties.headers)
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
    const size = bodySize(command.body)
    const persistent = command.properties.deliveryMode === 2
    let refused = false
    let limited = false
    const writes: Promise<void>[] = []
    for (const queue of targets) {
      const outcome = this.enqueue(queue, command.exchange, command.routingKey, command.properties, command.body, size, ttl, persistent, true)
      if (outcome === 'refused') refused = true
      else if (outcome === 'limit') limited = true
      else if (outcome) writes.push(outcome)
    }
    const routed = { routed: true }
    const refusal = () => {
      if (limited) throw this.memoryLimitNack()
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
  private holdDelayed(exchange: Exchange, command: BasicPublish, delay: number): Promise<unknown> | unknown {
    const { routingKey, properties, body } = command
    const stored = exchange.durable && properties.deliveryMode === 2 && this.storage !== undefined
    const size = bodySize(body)
    // Held messages live in memory until due.
    if (this.overMemoryLimit(size)) throw this.memoryLimitNack()
    const message = this.delayed.hold(exchange.name, { delay, routingKey, properties, body, size, stored })
    const accepted = { routed: true }
    if (!stored) return accepted
    return this.write([storedHeld(exchange.name, message)]).then(
      () => accepted,
      (error: unknown) => {
        message.stored = false
        throw new NackError(`message not stored: ${error instanceof Error ? error.message : String(error)}`)
      },
    )
  }

  /** A held message fell due: routed now through its exchange, with x-delay negated (the plugin's mark). */
  private releaseDelayed(exchangeName: string, message: HeldMessage): void {
    const exchange = this.exchanges.get(exchangeName)
    if (exchange) {
      const properties = releasedProperties(message.properties, message.delay)
      const ttl = parseExpirationSafe(properties.expiration)
      const persistent = properties.deliveryMode === 2
      for (const queue of this.route(exchange, message.routingKey, properties.headers)) {
        const write = this.enqueue(queue, exchangeName, message.routingKey, properties, message.body, message.size, ttl, persistent)
        if (write instanceof Promise) write.catch(() => undefined)
      }
    }
    // Forgotten after the queues' writes of this same turn (one storage transaction).
    if (message.stored) this.writeInBackground([{ kind: 'message.delete', queue: delayedStoreName(exchangeName), seq: message.seq }])
  }

  /** A reply to a direct reply-to address: no queue, straight to the requester's consumer, dropped if it is gone. */
  private deliverReply(command: BasicPublish): ReplyResults['basic.publish'] {
    const target = this.replyTo.lookup(command.routingKey)
    const client = target && this.clients.get(target.channel.connectionId)
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
  private declareReplyAddress(name: string): ReplyResults['queue.declare'] {
    if (name !== REPLY_TO && !this.replyTo.lookup(name)) throw notFound(`queue '${name}' in vhost '${this.vhost}'`)
    return { queue: name, messageCount: 0, consumerCount: 1 }
  }

  /** The queues a message reaches: through exchange-to-exchange bindings, then alternate exchanges. */
  private route(exchange: Exchange, routingKey: string, headers: FieldTable | undefined): Set<QueueState> {
    const queues = new Set<QueueState>()
    // A worklist over exchanges, each visited once (cycles end). As in rabbit_exchange:route,
    // every exchange on the way whose own bindings match nothing hands the message to its AE.
    const seen = new Set<string>([exchange.name])
    const work: Exchange[] = [exchange]
    const follow = (name: string) => {
      const next = this.exchanges.get(name)
      if (next && !seen.has(name)) {
        seen.add(name)
        work.push(next)
      }
    }
    for (let current = work.pop(); current; current = work.pop()) {
      if (current.name === '') {
        const queue = this.queues.get(routingKey)
        if (queue) queues.add(queue)
        continue
      }
      let matched = false
      for (const binding of current.route(routingKey, headers)) {
        matched = true
        if (binding.destinationKind === 'queue') {
          const queue = this.queues.get(binding.destination)
          if (queue) queues.add(queue)
        } else follow(binding.destination)
      }
      if (!matched && current.alternateExchange !== undefined) follow(current.alternateExchange)
    }
    return queues
  }

  /**
   * Puts a message on one queue. Returns 'refused' for a reject-publish overflow, 'limit' when
   * a client's publish (`limited`) would keep one more message in memory than the vhost's
   * limits allow, the storage write to wait for (persistent message, durable queue), or undefined.
   */
  private enqueue(
    queue: QueueState,
    exchange: string,
    routingKey: string,
    properties: MessageProperties,
    body: unknown,
    size: number,
    messageTtl: number | undefined,
    persistent: boolean,
    limited = false,
  ): 'refused' | 'limit' | Promise<void> | undefined {
    const now = this.clock.now()
    const queueTtl = queue.options.messageTtl
    const ttl = queueTtl === undefined ? messageTtl : messageTtl === undefined ? queueTtl : Math.min(queueTtl, messageTtl)
    const message: QueuedMessage = {
      seq: queue.nextSeq++,
      exchange,
      routingKey,
      properties,
      body,
      size,
      expiresAt: ttl === undefined ? undefined : now + ttl,
      redelivered: false,
      deliveryCount: 0,
      stored: persistent && queue.durable && this.storage !== undefined,
    }
    if (queue.options.overflow !== 'drop-head' && queue.wouldOverflow(size)) {
      if (queue.options.overflow === 'reject-publish-dlx') this.deadLetter(queue, { ...message, stored: false }, 'maxlen')
      return 'refused'
    }
    queue.counters.published++
    // Straight to a consumer when nothing waits ahead of it (and TTL 0 allows nothing else).
    if (queue.messageCount === 0) {
      const consumer = queue.nextConsumer()
      if (consumer) {
        const write = message.stored ? this.write([storedPut(queue, message)], this.durabilityOf(queue)) : undefined
        this.deliver(consumer, queue, message)
        return write
      }
    }
    if (ttl === 0) {
      this.expire(queue, { ...message, stored: false })
      return undefined
    }
    // Checked before anything is written: a refused message must not turn up after a restart.
    const paged = message.stored && queue.paging?.shouldPage(queue.ready.length) === true
    if (limited && !paged && this.overMemoryLimit(size)) {
      queue.counters.published--
      return 'limit'
    }
    const write = message.stored ? this.write([storedPut(queue, message)], this.durabilityOf(queue)) : undefined
    if (queue.paging && this.pageOut(queue, queue.paging, message, write)) return write
    const head = queue.ready.peek()
    queue.push(message)
    this.dropHeadOverLimit(queue)
    // A new head (first message, a higher priority, or drops) needs its own expiry timer.
    if (queue.ready.peek() !== head) this.scheduleHeadExpiry(queue)
    return write
  }

  /** drop-head overflow: the oldest ready messages go (dead-lettered, reason maxlen) until within limits. */
  private dropHeadOverLimit(queue: QueueState): void {
    if (queue.options.overflow !== 'drop-head') return
    while (queue.overLimit) {
      const dropped = queue.shift()
      if (!dropped) break
      this.forget(queue, [dropped])
      this.deadLetter(queue, dropped, 'maxlen')
    }
    // Dropping may empty memory while older messages wait on disk: they are dropped once loaded.
    this.refill(queue)
  }

  // ------------------------------------------------------------------ bounded memory (paging.ts)

  /**
   * Whether one more in-memory ready message of `size` bytes would pass the vhost's limits.
   * Counting walks every queue, so it is done at most once per MEMORY_RECOUNT_MS of broker
   * time; messages accepted in between are added to the count, and those that left are not
   * taken off until the next one (so the figure can only be too high, never too low).
   */
  private overMemoryLimit(size: number): boolean {
    if (this.maxReadyMessages === Infinity && this.maxReadyBytes === Infinity) return false
    const memory = this.memory
    const now = this.clock.now()
    if (now - memory.countedAt >= MEMORY_RECOUNT_MS) {
      let messages = 0
      let bytes = 0
      for (const queue of this.queues.values()) {
        messages += queue.ready.length
        bytes += queue.readyBytes
        const paging = queue.paging
        if (paging) {
          messages += paging.size - paging.count
          bytes += paging.overflowBytes
        }
      }
      for (const exchange of this.exchanges.values()) if (exchange.type === DELAYED_EXCHANGE_TYPE) messages += this.delayed.pending(exchange.name)
      memory.messages = messages
      memory.bytes = bytes
      memory.countedAt = now
    }
    if (memory.messages + 1 > this.maxReadyMessages || memory.bytes + size > this.maxReadyBytes) return true
    memory.messages++
    memory.bytes += size
    return false
  }

  private memoryLimitNack(): NackError {
    return new NackError(
      `the broker of vhost '${this.vhost}' holds as many ready messages in memory as it may (maxReadyMessages ${this.maxReadyMessages}, maxReadyBytes ${this.maxReadyBytes}): consume some, or use durable queues and persistent messages, which are paged out to storage`,
      'RESOURCE_LIMIT',
    )
  }

  /** Keeps a message out of memory when the queue's tail is on disk or its window is full. */
  private pageOut(queue: QueueState, paging: Paging, message: QueuedMessage, write: Promise<void> | undefined): boolean {
    if (write && paging.shouldPage(queue.ready.length)) {
      // If every paged write fails, nothing is on disk any more: the held transients go to memory.
      paging.pageOut(message, write, (overflow) => this.pagedIn(queue, overflow))
    } else if (paging.onDisk) paging.hold(message)
    else return false
    this.dropHeadOverLimit(queue)
    return true
  }

  /** Loads the next page of a queue whose tail is on disk, once its memory part runs low. */
  private refill(queue: QueueState): void {
    if (queue.paging?.onDisk && this.storage) queue.paging.refill(queue, this.pagingHost(queue, this.storage))
  }

  private pagingHost(queue: QueueState, storage: Storage): PagingHost {
    const broker = this
    return {
      storage,
      clock: this.clock,
      get stopped() {
        return broker.stopped
      },
      loaded: (messages) => this.pagedIn(queue, messages),
      failed: () => {
        this.stats.storageFailures++
      },
    }
  }

  /** Messages back from disk (or overflow): in memory again, then trimmed, timed and delivered. */
  private pagedIn(queue: QueueState, messages: QueuedMessage[]): void {
    if (queue.deleted) return
    for (const message of messages) queue.push(message)
    this.dropHeadOverLimit(queue)
    this.drain(queue)
  }

  private durabilityOf(queue: QueueState): Durability {
    return queue.args['x-durability'] === 'strict' ? 'strict' : this.durability
  }

  // ------------------------------------------------------------------ consuming

  private qos(channel: ChannelState, prefetchCount: number, global: boolean): unknown {
    if (global) channel.globalPrefetch = prefetchCount
    else channel.consumerPrefetch = prefetchCount
    this.drainChannelQueues(channel)
    return EMPTY
  }

  private consume(
    client: ClientConnection,
    channel: ChannelState,
    queueName: string,
    requestedTag: string | undefined,
    noAck: boolean,
    exclusive: boolean,
    args: FieldTable,
  ): ReplyResults['basic.consume'] {
    const tag = requestedTag || `amq.ctag-${this.brokerId}-${(++this.generated).toString(36)}`
    if (channel.consumers.has(tag) || this.replyTo.of(channel)?.tag === tag) throw new AmqpError(530, `attempt to reuse consumer tag '${tag}'`)
    if (queueName === REPLY_TO) {
      this.replyTo.consume(channel, tag, noAck)
      return { consumerTag: tag }
    }
    const queue = this.queueFor(client, queueName)
    if (exclusive && queue.options.singleActiveConsumer)
      throw accessRefused(`queue '${queue.name}' in vhost '${this.vhost}' has single active consumer: exclusive consume not allowed`)
    if (queue.consumers.some((consumer) => consumer.exclusive))
      throw accessRefused(`queue '${queue.name}' in vhost '${this.vhost}' in exclusive use`)
    if (exclusive && queue.consumers.length > 0)
      throw accessRefused(`queue '${queue.name}' in vhost '${this.vhost}' in use: cannot consume exclusively`)
    const rawPriority = args['x-priority']
    if (rawPriority !== undefined && !Number.isSafeInteger(rawPriority)) throw preconditionFailed(`invalid arg 'x-priority'`)
    const consumer = new ConsumerState(tag, channel, queue, noAck, exclusive, (rawPriority as number | undefined) ?? 0, channel.consumerPrefetch, args)
    channel.consumers.set(tag, consumer)
    queue.addConsumer(consumer)
    this.touch(queue)
    // Deliveries start after consume-ok has been sent.
    queueMicrotask(() => this.drain(queue))
    return { consumerTag: tag }
  }

  private cancel(channel: ChannelState, tag: string): unknown {
    if (this.replyTo.cancel(channel, tag)) return EMPTY
    const consumer = channel.consumers.get(tag)
    if (consumer) this.removeConsumer(consumer)
    return EMPTY
  }

  private removeConsumer(consumer: ConsumerState, drain = true): void {
    consumer.channel.consumers.delete(consumer.tag)
    const queue = consumer.queue
    const newlyActive = queue.removeConsumer(consumer)
    if (queue.deleted) return
    if (queue.autoDelete && queue.hadConsumer && queue.consumers.length === 0) {
      this.deleteQueue(queue)
      return
    }
    this.touch(queue)
    if (newlyActive && drain) this.drain(queue)
  }

  private get(client: ClientConnection, channel: ChannelState, name: string, noAck: boolean): ReplyResults['basic.get'] | Promise<ReplyResults['basic.get']> {
    const queue = this.queueFor(client, name)
    this.touch(queue)
    const message = this.takeHead(queue)
    if (!message && queue.paging?.onDisk && this.storage) {
      // The head is on disk: answer once its page is in (or empty if storage fails).
      return queue.paging
        .whenLoaded(queue, this.pagingHost(queue, this.storage))
        .then((loaded) => (loaded ? this.get(client, channel, name, noAck) : { message: null, messageCount: queue.messageCount }))
    }
    this.refill(queue)
    if (!message) return { message: null, messageCount: 0 }
    const deliveryTag = channel.track(queue, message, undefined, noAck)
    queue.counters.delivered++
    if (message.redelivered) queue.counters.redelivered++
    if (noAck) this.forget(queue, [message])
    else queue.unacked++
    this.scheduleHeadExpiry(queue)
    return {
      message: {
        deliveryTag,
        redelivered: message.redelivered,
        exchange: message.exchange,
        routingKey: message.routingKey,
        properties: deliveredProperties(message),
        body: message.body,
      },
      messageCount: queue.messageCount,
    }
  }

  /** Takes the head of the queue, dropping (and dead-lettering) expired messages on the way. */
  private takeHead(queue: QueueState): QueuedMessage | undefined {
    const now = this.clock.now()
    for (;;) {
      const message = queue.shift()
      if (!message) return undefined
      if (message.expiresAt !== undefined && message.expiresAt <= now) {
        this.forget(queue, [message])
        this.expire(queue, message)
        continue
      }
      return message
    }
  }

  /** Delivers ready messages while some consumer has credit. */
  private drain(queue: QueueState): void {
    if (queue.deleted) return
    while (queue.messageCount > 0) {
      const consumer = queue.nextConsumer()
      if (!consumer) break
      const message = this.takeHead(queue)
      if (!message) break
      this.deliver(consumer, queue, message)
    }
    this.scheduleHeadExpiry(queue)
    this.refill(queue)
  }

  private drainChannelQueues(channel: ChannelState): void {
    const queues = new Set<QueueState>()
    for (const consumer of channel.consumers.values()) queues.add(consumer.queue)
    for (const queue of queues) this.drain(queue)
  }

  private deliver(consumer: ConsumerState, queue: QueueState, message: QueuedMessage): void {
    const channel = consumer.channel
    const deliveryTag = channel.track(queue, message, consumer, consumer.noAck)
    queue.counters.delivered++
    if (message.redelivered) queue.counters.redelivered++
    if (consumer.noAck) this.forget(queue, [message])
    else queue.unacked++
    this.clients.get(channel.connectionId)?.send({
      op: 'basic.deliver',
      channel: channel.id,
      consumerTag: consumer.tag,
      deliveryTag,
      redelivered: message.redelivered,
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties: deliveredProperties(message),
      body: message.body,
    })
  }

  // ------------------------------------------------------------------ settling

  private settle(channel: ChannelState, tag: number, multiple: boolean): Delivery[] {
    const settled = channel.settle(tag, multiple)
    if (!settled) throw preconditionFailed(`unknown delivery tag ${tag}`)
    for (const delivery of settled) delivery.queue.unacked--
    return settled
  }

  private ack(channel: ChannelState, tag: number, multiple: boolean): unknown {
    const settled = this.settle(channel, tag, multiple)
    for (const { queue, message } of settled) {
      queue.counters.acked++
      this.forget(queue, [message])
    }
    this.afterSettle(channel, settled)
    return EMPTY
  }

  private reject(channel: ChannelState, tag: number, multiple: boolean, requeue: boolean, countsAsFailure: boolean): unknown {
    const settled = this.settle(channel, tag, multiple)
    for (const { queue, message } of settled) {
      if (requeue) this.requeue(queue, message, countsAsFailure)
      else {
        this.forget(queue, [message])
        this.deadLetter(queue, message, 'rejected')
      }
    }
    this.afterSettle(channel, settled)
    return EMPTY
  }

  private recover(channel: ChannelState, requeue: boolean): unknown {
    if (!requeue) throw notImplemented(`requeue=false`)
    const all = channel.takeAll()
    for (const delivery of all) {
      delivery.queue.unacked--
      this.requeue(delivery.queue, delivery.message, false)
    }
    this.afterSettle(channel, all)
    return EMPTY
  }

  /** Credit came back: queues of the settled deliveries (and, with a global limit, all of the channel's) can go on. */
  private afterSettle(channel: ChannelState, settled: Delivery[]): void {
    const queues = new Set<QueueState>()
    for (const delivery of settled) queues.add(delivery.queue)
    if (channel.globalPrefetch > 0) for (const consumer of channel.consumers.values()) queues.add(consumer.queue)
    for (const queue of queues) this.drain(queue)
  }

  /** Back to its original position, flagged redelivered; past x-delivery-limit it is dead-lettered. */
  private requeue(queue: QueueState, message: QueuedMessage, countsAsFailure: boolean): void {
    if (queue.deleted) return
    message.redelivered = true
    if (countsAsFailure) message.deliveryCount++
    const limit = queue.options.deliveryLimit
    if (limit !== undefined && message.deliveryCount > limit) {
      this.forget(queue, [message])
      this.deadLetter(queue, message, 'delivery_limit')
      return
    }
    if (message.stored && countsAsFailure)
      this.writeInBackground([{ kind: 'message.update', queue: queue.name, seq: message.seq, redelivered: true, deliveryCount: message.deliveryCount }])
    queue.push(message)
    // RabbitMQ trims after a requeue too (requeue_and_run → maybe_drop_head).
    this.dropHeadOverLimit(queue)
  }

  private closeChannel(client: ClientConnection, channel: ChannelState): void {
    if (client.channels.get(channel.id) !== channel) return
    client.channels.delete(channel.id)
    this.replyTo.closeChannel(channel)
    // Requeue first and detach every consumer before anything drains: a single-active-consumer
    // successor then gets the returned (older) messages first, and is never one of this channel's.
    const returned = channel.takeAll()
    const queues = new Set<QueueState>()
    for (const { queue, message } of returned) {
      queue.unacked--
      this.requeue(queue, message, true)
      queues.add(queue)
    }
    for (const consumer of [...channel.consumers.values()]) {
      this.removeConsumer(consumer, false)
      queues.add(consumer.queue)
    }
    for (const queue of queues) this.drain(queue)
  }

  // ------------------------------------------------------------------ expiry and dead-lettering

  /**
   * Keeps the queue's one timer on its head's deadline. A pending timer due no later than
   * that is kept: it re-arms when it fires, so consuming from a TTL queue does not cancel and
   * set a timer per message.
   */
  private scheduleHeadExpiry(queue: QueueState): void {
    const at = queue.deleted || this.stopped ? undefined : queue.ready.peek()?.expiresAt
    if (at === undefined) {
      queue.cancelHeadTimer?.()
      return
    }
    if (queue.cancelHeadTimer && queue.headTimerAt !== undefined && queue.headTimerAt <= at) return
    queue.cancelHeadTimer?.()
    const cancel = this.clock.schedule(Math.max(0, at - this.clock.now()), () => {
      queue.cancelHeadTimer = undefined
      queue.headTimerAt = undefined
      this.expireHead(queue)
    })
    queue.headTimerAt = at
    // Whoever cancels (purge, delete, stop) also clears the state this check relies on.
    queue.cancelHeadTimer = () => {
      cancel()
      queue.cancelHeadTimer = undefined
      queue.headTimerAt = undefined
    }
  }

  /** Removes expired messages at the head (only the head: RabbitMQ's rule). */
  private expireHead(queue: QueueState): void {
    const now = this.clock.now()
    for (;;) {
      const head = queue.ready.peek()
      if (!head || head.expiresAt === undefined || head.expiresAt > now) break
      queue.shift()
      this.forget(queue, [head])
      this.expire(queue, head)
    }
    this.scheduleHeadExpiry(queue)
    this.refill(queue)
  }

  private expire(queue: QueueState, message: QueuedMessage): void {
    queue.counters.expired++
    this.deadLetter(queue, message, 'expired')
  }

  /** Republishes a dead message to the queue's DLX; a missing DLX drops it silently. */
  private deadLetter(queue: QueueState, message: QueuedMessage, reason: DeathReason): void {
    const dlxName = queue.options.deadLetterExchange
    if (dlxName === undefined) return
    const dlx = this.exchanges.get(dlxName)
    if (!dlx) return
    queue.counters.deadLettered++
    const dlrk = queue.options.deadLetterRoutingKey
    const properties = deadLetterProperties(message.properties, queue.name, reason, message.exchange, message.routingKey, this.clock.now(), dlrk !== undefined)
    const keys = dlrk !== undefined ? [dlrk] : originalRoutingKeys(message.routingKey, message.properties.headers)
    const targets = new Set<QueueState>()
    for (const key of keys) for (const target of this.route(dlx, key, properties.headers)) targets.add(target)
    const persistent = properties.deliveryMode === 2
    for (const target of targets) {
      if (isDeadLetterCycle(properties.headers, target.name)) continue
      const routingKey = dlrk ?? message.routingKey
      const expiration = parseExpirationSafe(properties.expiration)
      const write = this.enqueue(target, dlxName, routingKey, properties, message.body, message.size, expiration, persistent)
      if (write instanceof Promise) write.catch(() => this.stats.storageFailures++)
    }
  }

  // ------------------------------------------------------------------ storage

  /** Forgets settled or dropped messages in storage. */
  private forget(queue: QueueState, messages: QueuedMessage[]): void {
    // queue.delete already dropped a deleted queue's messages; its seqs may now belong to a new queue of that name.
    if (queue.deleted) return
    const ops: StorageOp[] = []
    for (const message of messages) if (message.stored) ops.push({ kind: 'message.delete', queue: queue.name, seq: message.seq })
    this.writeInBackground(ops)
  }

  private write(ops: StorageOp[], durability: Durability = this.durability): Promise<void> {
    if (!this.storage || ops.length === 0) return Promise.resolve()
    return this.storage.apply(ops, durability).catch((error: unknown) => {
      this.stats.storageFailures++
      throw error
    })
  }

  private writeInBackground(ops: StorageOp[]): void {
    if (!this.storage || ops.length === 0) return
    this.write(ops).catch(() => undefined)
  }

  // ------------------------------------------------------------------ inspection

  /** A snapshot for management and tests; never a live reference. */
  inspect() {
    return {
      vhost: this.vhost,
      epoch: this.epoch,
      exchanges: [...this.exchanges.values()].map((exchange) => ({
        name: exchange.name,
        type: exchange.type,
        durable: exchange.durable,
        autoDelete: exchange.autoDelete,
        internal: exchange.internal,
        arguments: exchange.args,
        bindings: [...exchange.bindings.values()].map(({ id: _id, ...binding }) => binding),
        /** Messages held by an x-delayed-message exchange. */
        delayed: this.delayed.pending(exchange.name),
      })),
      queues: [...this.queues.values()].map((queue) => ({
        name: queue.name,
        durable: queue.durable,
        exclusive: queue.exclusive,
        autoDelete: queue.autoDelete,
        arguments: queue.args,
        ready: queue.messageCount,
        /** Of those, kept in storage only (bounded memory). */
        paged: queue.paging?.count ?? 0,
        unacked: queue.unacked,
        consumers: queue.consumers.map((consumer) => ({
          tag: consumer.tag,
          clientId: consumer.channel.connectionId,
          channel: consumer.channel.id,
          prefetch: consumer.prefetch,
          unacked: consumer.unacked,
          noAck: consumer.noAck,
          priority: consumer.priority,
          active: queue.options.singleActiveConsumer ? queue.activeConsumer === consumer : true,
        })),
        counters: { ...queue.counters },
      })),
      clients: [...this.clients.values()].map((client) => ({
        id: client.id,
        kind: client.info.kind ?? 'unknown',
        name: client.info.name,
        channels: client.channels.size,
        connectedAt: client.connectedAt,
      })),
      stats: { ...this.stats },
    }
  }
}

export type BrokerSnapshot = ReturnType<Broker['inspect']>

function declareOk(queue: QueueState): ReplyResults['queue.declare'] {
  return { queue: queue.name, messageCount: queue.messageCount, consumerCount: queue.consumers.length }
}

function storedBinding(binding: Binding) {
  return {
    source: binding.source,
    destination: binding.destination,
    destinationKind: binding.destinationKind,
    routingKey: binding.routingKey,
    arguments: binding.arguments,
  }
}

/** A held delayed message is stored as a message of a storage-only "queue" named after its exchange. */
function storedHeld(exchange: string, message: HeldMessage): StorageOp {
  return {
    kind: 'message.put',
    message: {
      queue: delayedStoreName(exchange),
      seq: message.seq,
      exchange,
      routingKey: message.routingKey,
      properties: message.properties,
      body: message.body,
      size: message.size,
      redelivered: false,
      deliveryCount: 0,
      dueAt: message.dueAt,
    },
  }
}

function storedPut(queue: QueueState, message: QueuedMessage): StorageOp {
  return {
    kind: 'message.put',
    message: {
      queue: queue.name,
      seq: message.seq,
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties: message.properties,
      body: message.body,
      size: message.size,
      ...(message.expiresAt !== undefined ? { expiresAt: message.expiresAt } : {}),
      redelivered: message.redelivered,
      deliveryCount: message.deliveryCount,
    },
  }
}

/** Redelivered messages of a queue with failures carry x-delivery-count (as quorum queues do). */
function deliveredProperties(message: QueuedMessage): MessageProperties {
  if (message.deliveryCount === 0) return message.properties
  return { ...message.properties, headers: { ...(message.properties.headers ?? {}), 'x-delivery-count': message.deliveryCount } }
}

function parseExpirationSafe(expiration: string | undefined): number | undefined {
  try {
    return parseExpiration(expiration)
  } catch {
    return undefined
  }
}
