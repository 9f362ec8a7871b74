/**
 * The broker of one vhost: RabbitMQ's AMQP 0-9-1 model, pure. Commands come in through
 * `receive`, events go out through each client's `send`. Every state change happens
 * synchronously in `receive`; only replies that wait for storage are deferred.
 * This file holds the public API and the dispatch of commands, and wires the queue types
 * (queue-types.ts) to their collaborators; the work is done by topology.ts, publishing.ts,
 * delivery.ts, dead-lettering.ts, bounded-memory.ts and persistence.ts on the vhost's state
 * (vhost.ts), and by each queue's type.
 */
import type { ClientCommand, ClientKind, ServerEvent } from '../protocol/frames.js'
import { errorData } from '../protocol/errors.js'
import { parseCommand } from '../protocol/guards.js'
import type { Durability, Storage } from '../storage/types.js'
import { ChannelState } from './channel.js'
import type { Clock } from './clock.js'
import type { DelayedDelivery } from './delayed.js'
import { overMemoryLimit } from './bounded-memory.js'
import { deadLetter } from './dead-lettering.js'
import { ack, cancel, closeChannel, consume, deliver, getMessage, qos, recover, reject } from './delivery.js'
import type { DedupOptions, DedupWindow } from './dedup.js'
import { AmqpError, NackError } from './errors.js'
import type { Exchange } from './exchange.js'
import { write, writeInBackground } from './persistence.js'
import { publish, releaseDelayed } from './publishing.js'
import type { QueueState } from './queue.js'
import type { QueueTypeContext, QueueTypes } from './queue-type.js'
import { BUILTIN_QUEUE_TYPES } from './queue-types.js'
import { recoverState } from './recovery.js'
import {
  bindExchange,
  bindQueue,
  declareExchange,
  declareQueue,
  deleteExchange,
  deleteQueue,
  deleteQueueCommand,
  purge,
  touch,
  unbindExchange,
  unbindQueue,
} from './topology.js'
import { EMPTY, VhostState, type ClientConnection } from './vhost.js'

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
  /** The deduplication window of publishes that carry a publish id (see dedup.ts). */
  dedup?: DedupOptions
}

export interface ClientInfo {
  kind?: ClientKind
  name?: string
}

export interface BrokerStats {
  /** Frames that could not be parsed or came from unknown clients. */
  droppedFrames: number
  /** Frames answered with an error. */
  rejectedFrames: number
  /** Storage writes that failed. */
  storageFailures: number
  /** Retried publishes dropped as duplicates of a message the broker had taken (and confirmed again). */
  deduplicatedPublishes: number
}

export class Broker {
  /** What every module acting on this vhost shares; the public fields below read from it. */
  private readonly state: VhostState

  private constructor(
    options: BrokerOptions,
    readonly epoch: number,
  ) {
    const state = new VhostState(options, (exchange, message) => releaseDelayed(state, exchange, message))
    this.state = state
    const context = queueTypeContext(state)
    for (const factory of BUILTIN_QUEUE_TYPES) state.queueTypes.register(factory(context))
  }

  get vhost(): string {
    return this.state.name
  }
  get brokerId(): string {
    return this.state.brokerId
  }
  get stats(): BrokerStats {
    return this.state.stats
  }
  /** @internal exposed for recovery and inspection */
  get exchanges(): Map<string, Exchange> {
    return this.state.exchanges
  }
  /** @internal */
  get queues(): Map<string, QueueState> {
    return this.state.queues
  }
  /** @internal messages held by x-delayed-message exchanges (recovery restores into it) */
  get delayed(): DelayedDelivery {
    return this.state.delayed
  }
  /** @internal recovery remembers the publish ids of the messages it loads */
  get dedup(): DedupWindow {
    return this.state.dedup
  }
  /** @internal recovery declares queues through them */
  get queueTypes(): QueueTypes {
    return this.state.queueTypes
  }

  /** Opens storage, recovers durable state and returns a running broker with a new epoch. */
  static async start(options: BrokerOptions): Promise<Broker> {
    const epoch = options.storage ? (await options.storage.open()).epoch : 1
    const broker = new Broker(options, epoch)
    if (options.storage) await recoverState(broker, options.storage, options.clock.now())
    for (const queue of broker.queues.values()) touch(broker.state, queue)
    broker.delayed.start()
    return broker
  }

  // ------------------------------------------------------------------ clients

  connect(clientId: string, send: (event: ServerEvent) => void, info: ClientInfo = {}): void {
    const clients = this.state.clients
    if (clients.has(clientId)) this.disconnect(clientId)
    clients.set(clientId, { id: clientId, send, info, channels: new Map(), connectedAt: this.state.clock.now() })
  }

  hasClient(clientId: string): boolean {
    return this.state.clients.has(clientId)
  }

  /** The client is gone: its channels close (unacked messages return), its exclusive queues go. */
  disconnect(clientId: string): void {
    const state = this.state
    const client = state.clients.get(clientId)
    if (!client) return
    state.clients.delete(clientId)
    for (const channel of client.channels.values()) closeChannel(state, client, channel)
    for (const queue of [...state.queues.values()]) if (queue.owner === clientId) deleteQueue(state, queue)
  }

  /** One untrusted frame from a client. Never throws. */
  receive(clientId: string, raw: unknown): void {
    const client = this.state.clients.get(clientId)
    if (!client || this.state.stopped) {
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
    this.state.stopped = true
    for (const queue of this.queues.values()) {
      queue.cancelExpiryTimer?.()
      queue.type.stop(queue)
    }
    this.delayed.stop()
    await this.state.storage?.close()
  }

  private reply(client: ClientConnection, command: ClientCommand, result: unknown): void {
    if (command.id !== undefined && this.state.clients.get(client.id) === client) client.send({ op: 'ok', id: command.id, result })
  }

  private fail(client: ClientConnection, command: ClientCommand, error: unknown): void {
    this.stats.rejectedFrames++
    // A late (storage) failure for a client that is gone, or reconnected under the same id, is nobody's answer.
    if (this.state.clients.get(client.id) !== client) return
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
        closeChannel(this.state, client, channel)
        client.send({ op: 'channel.closed', channel: channel.id, error: data })
      }
    } else {
      client.send({ op: 'connection.closed', error: data })
      this.disconnect(client.id)
    }
  }

  // ------------------------------------------------------------------ commands

  private execute(client: ClientConnection, command: ClientCommand): unknown {
    const state = this.state
    if (command.op === 'channel.open') {
      if (client.channels.has(command.channel)) throw new AmqpError(504, `channel ${command.channel} is already open`)
      client.channels.set(command.channel, new ChannelState(command.channel, client.id))
      return EMPTY
    }
    const channel = client.channels.get(command.channel)
    if (!channel) throw new AmqpError(504, `channel ${command.channel} is not open`)
    switch (command.op) {
      case 'channel.close':
        closeChannel(state, client, channel)
        return EMPTY
      case 'basic.qos':
        return qos(channel, command.prefetchCount, command.global ?? false)
      case 'exchange.declare':
        return declareExchange(state, command)
      case 'exchange.delete':
        return deleteExchange(state, command.exchange, command.ifUnused ?? false)
      case 'exchange.bind':
        return bindExchange(state, command.destination, command.source, command.routingKey ?? '', command.arguments ?? {})
      case 'exchange.unbind':
        return unbindExchange(state, command.destination, command.source, command.routingKey ?? '', command.arguments ?? {})
      case 'queue.declare':
        return declareQueue(state, client, command)
      case 'queue.bind':
        return bindQueue(state, client, command.queue, command.exchange, command.routingKey ?? '', command.arguments ?? {})
      case 'queue.unbind':
        return unbindQueue(state, client, command.queue, command.exchange, command.routingKey ?? '', command.arguments ?? {})
      case 'queue.purge':
        return purge(state, client, command.queue)
      case 'queue.delete':
        return deleteQueueCommand(state, client, command)
      case 'basic.publish':
        return publish(state, client, channel, command)
      case 'basic.consume':
        return consume(state, client, channel, command)
      case 'basic.cancel':
        return cancel(state, channel, command.consumerTag)
      case 'basic.get':
        return getMessage(state, client, channel, command.queue, command.noAck ?? false)
      case 'basic.ack':
        return ack(channel, command.deliveryTag, command.multiple ?? false)
      case 'basic.nack':
      case 'basic.reject':
        return reject(channel, command)
      case 'basic.recover':
        return recover(channel, command.requeue ?? true)
    }
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
        type: queue.type.name,
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
        /** Figures of the queue's type (a stream's offsets, for one). */
        typeDetails: queue.type.inspect(queue),
      })),
      clients: [...this.state.clients.values()].map((client) => ({
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

const ROUTED = { routed: true }

/** The collaborators every queue type of a vhost gets (see queue-type.ts). */
function queueTypeContext(state: VhostState): QueueTypeContext {
  return {
    vhost: state.name,
    clock: state.clock,
    storage: state.storage,
    durability: state.durability,
    queueWindow: state.queueWindow,
    get stopped() {
      return state.stopped
    },
    storageFailed: () => {
      state.stats.storageFailures++
    },
    write: (ops, durability) => write(state, ops, durability),
    writeInBackground: (ops) => writeInBackground(state, ops),
    deliver: (consumer, queue, message, properties) => deliver(state, consumer, queue, message, properties),
    deadLetter: (queue, message, reason) => deadLetter(state, queue, message, reason),
    deleteQueue: (queue) => {
      deleteQueue(state, queue)
    },
    admitToMemory: (size) => !overMemoryLimit(state, size),
    rememberPublishId: (publishId, now) => state.dedup.remember(publishId, now, ROUTED),
  }
}
