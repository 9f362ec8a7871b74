/**
 * A queue declaration (Kombu's `Queue`): its flags, x-arguments and bindings. Unbound it is
 * plain data (serializable with toJSON/fromJSON); `bind(channelOrConnection)` returns a bound
 * copy. A server-named queue (name '') learns its name on declare and keeps following it
 * when a reconnect has to redeclare it under a new one.
 */
import type { FieldTable, ReplyResults } from '../protocol/frames.js'
import { Binding, type BindingJSON } from './binding.js'
import type { Channel } from './channel.js'
import { NotBoundError } from './errors.js'
import { Exchange, nameOf, toExchange, type BindOptions, type ExchangeJSON } from './exchange.js'
import type { Message } from './message.js'
import { queueArguments, sugarKeys, type QueueArgumentOptions } from './queue-arguments.js'
import { resolveAccept } from './serialization.js'
import { channelOf, connectionOf, type ChannelTarget } from './target.js'
import { ordered } from './util/ordered.js'

export interface QueueOptions extends QueueArgumentOptions {
  /** The exchange of the main binding (a string names an exchange declared elsewhere). */
  exchange?: Exchange<any> | string
  /** The binding key of the main binding. Default ''. */
  routingKey?: string
  /** Several bindings; when given they replace `exchange`/`routingKey`. */
  bindings?: readonly Binding[]
  /** Survives a broker restart. Default true. */
  durable?: boolean
  /** Only this connection may use it; deleted when it closes. Forces autoDelete. */
  exclusive?: boolean
  /** Deleted when its last consumer goes. Default false (true when exclusive). */
  autoDelete?: boolean
  /** Raw x-arguments for queue.declare (the sugar options are added on top). */
  queueArguments?: FieldTable
  /** x-arguments for the main binding. */
  bindingArguments?: FieldTable
  /** x-arguments for basic.consume, e.g. `{ 'x-priority': 10 }`. */
  consumerArguments?: FieldTable
  /** Consume without acks by default. */
  noAck?: boolean
  /** Never declare it (it is someone else's). */
  noDeclare?: boolean
}

export interface QueueJSON {
  name: string
  exchange?: ExchangeJSON
  routingKey: string
  bindings?: BindingJSON[]
  durable: boolean
  exclusive: boolean
  autoDelete: boolean
  queueArguments?: FieldTable
  bindingArguments?: FieldTable
  consumerArguments?: FieldTable
  noAck?: boolean
  noDeclare?: boolean
}

export interface QueueConsumeOptions<T> {
  consumerTag?: string
  callback: (message: Message<T>) => void
  noAck?: boolean
  /** Called when the broker cancels the consumer (the queue was deleted). */
  onCancel?: (consumerTag: string) => void
  accept?: Iterable<string>
}

export type QueueDeclareResult = ReplyResults['queue.declare']

/**
 * A queue whose messages have bodies of type `T`. `R` is the type of the replies to requests
 * sent to it (see `Connection.rpc` and `Connection.serve`); it only exists for the compiler.
 */
export class Queue<T = unknown, R = unknown> {
  readonly exchange: Exchange<any> | undefined
  readonly routingKey: string
  readonly bindings: readonly Binding[]
  readonly durable: boolean
  readonly exclusive: boolean
  readonly autoDelete: boolean
  /** Every x-argument sent with queue.declare (raw ones plus the sugar). */
  readonly arguments: FieldTable
  readonly bindingArguments: FieldTable | undefined
  readonly consumerArguments: FieldTable | undefined
  readonly noAck: boolean
  readonly noDeclare: boolean
  /** Carries the body type to Message<T>; never set. */
  declare readonly __body?: T
  /** Carries the reply type from serve() to rpc(); never set. */
  declare readonly __reply?: R
  #name: string
  #target: ChannelTarget | undefined

  constructor(name = '', options: QueueOptions = {}) {
    this.#name = name
    const bindings = options.bindings ?? []
    this.exchange = bindings.length || options.exchange === undefined ? undefined : toExchange(options.exchange)
    this.routingKey = options.routingKey ?? ''
    this.bindings = [...bindings]
    this.durable = options.durable ?? true
    this.exclusive = options.exclusive ?? false
    this.autoDelete = this.exclusive || (options.autoDelete ?? false)
    this.arguments = queueArguments(options)
    this.bindingArguments = options.bindingArguments
    this.consumerArguments = options.consumerArguments
    this.noAck = options.noAck ?? false
    this.noDeclare = options.noDeclare ?? false
  }

  /** The queue's name; for a bound server-named queue, the one the broker gave it. */
  get name(): string {
    if (!this.#target || this.#name === '') return this.#name
    return connectionOf(this.#target).topology.resolve(this.#name)
  }

  bind(target: ChannelTarget): Queue<T, R> {
    const copy = new Queue<T, R>(this.#name, this.#options())
    copy.#target = target
    return copy
  }

  get isBound(): boolean {
    return this.#target !== undefined
  }

  get channel(): Channel {
    if (!this.#target) throw new NotBoundError(`queue '${this.#name}' is not bound to a channel: call bind(channel) first`)
    return channelOf(this.#target)
  }

  /**
   * Declares the exchange(s), the queue and every binding, in that order (Kombu's
   * convenience). Resolves with the queue's name, the broker's choice when it was ''.
   */
  async declare(): Promise<string> {
    const channel = this.channel
    if (this.noDeclare) return this.name
    // Exchanges this connection already declared the same way need no second round trip.
    const connection = channel.connection
    if (this.exchange) await connection.maybeDeclare(this.exchange, channel)
    for (const b of this.bindings) await connection.maybeDeclare(b.exchange, channel)
    await this.queueDeclare()
    if (this.exchange?.name) await this.queueBind()
    for (const b of this.bindings) {
      await this.bindTo(b.exchange, { routingKey: b.routingKey, ...(b.arguments ? { arguments: b.arguments } : {}) })
    }
    return this.name
  }

  /** queue.declare alone; `passive` only checks that it exists (404 otherwise). */
  async queueDeclare(options: { passive?: boolean } = {}): Promise<QueueDeclareResult> {
    const result = await this.channel.queueDeclare({
      queue: this.name,
      durable: this.durable,
      exclusive: this.exclusive,
      autoDelete: this.autoDelete,
      passive: options.passive ?? false,
      arguments: this.arguments,
    })
    if (this.#name === '') this.#name = result.queue
    return result
  }

  /** Binds to the main exchange with the main routing key. */
  async queueBind(): Promise<void> {
    if (!this.exchange) return
    await this.bindTo(this.exchange, {
      routingKey: this.routingKey,
      ...(this.bindingArguments ? { arguments: this.bindingArguments } : {}),
    })
  }

  async bindTo(exchange: Exchange<any> | string, options: BindOptions = {}): Promise<void> {
    await this.channel.queueBind({ queue: this.name, exchange: nameOf(exchange), ...bindArgs(options) })
  }

  async unbindFrom(exchange: Exchange<any> | string, options: BindOptions = {}): Promise<void> {
    await this.channel.queueUnbind({ queue: this.name, exchange: nameOf(exchange), ...bindArgs(options) })
  }

  /** Removes the ready messages; resolves with how many. */
  purge(): Promise<number> {
    return this.channel.queuePurge(this.name)
  }

  delete(options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    return this.channel.queueDelete(this.name, options)
  }

  /** basic.get: one message, or undefined when the queue is empty. */
  get(options: { noAck?: boolean; accept?: Iterable<string> } = {}): Promise<Message<T> | undefined> {
    const accept = resolveAccept(options.accept)
    return this.channel.basicGet<T>(this.name, {
      noAck: options.noAck ?? this.noAck,
      ...(accept ? { accept } : {}),
    })
  }

  /** Low-level basic.consume with one callback; resolves with the consumer tag. */
  consume(options: QueueConsumeOptions<T>): Promise<string> {
    const channel = this.channel
    const accept = resolveAccept(options.accept)
    const report = (error: unknown) => channel.connection.reportError(error)
    const deliver = ordered<Message<unknown>>((message) => options.callback(message as Message<T>), report)
    let tag = ''
    return channel
      .basicConsume(
        this.name,
        {
          deliver: (message) => deliver(message),
          ended: (end) => {
            if (end.by === 'broker') options.onCancel?.(tag)
          },
        },
        {
          ...(options.consumerTag ? { consumerTag: options.consumerTag } : {}),
          noAck: options.noAck ?? this.noAck,
          ...(this.consumerArguments ? { arguments: this.consumerArguments } : {}),
          ...(accept ? { accept } : {}),
        },
      )
      .then((consumerTag) => (tag = consumerTag))
  }

  cancel(consumerTag: string): Promise<void> {
    return this.channel.basicCancel(consumerTag)
  }

  /** Equal declarations share a maybeDeclare cache entry. */
  get cacheKey(): string {
    return `queue:${JSON.stringify(this.toJSON())}`
  }

  /**
   * Auto-delete (and so exclusive) queues may vanish, and each declare of '' makes a new
   * queue: maybeDeclare never caches those.
   */
  get canCacheDeclaration(): boolean {
    return !this.autoDelete && this.name !== ''
  }

  equals(other: Queue<any>): boolean {
    return this.cacheKey === other.cacheKey
  }

  toJSON(): QueueJSON {
    return {
      name: this.name,
      ...(this.exchange ? { exchange: this.exchange.toJSON() } : {}),
      routingKey: this.routingKey,
      ...(this.bindings.length ? { bindings: this.bindings.map((b) => b.toJSON()) } : {}),
      durable: this.durable,
      exclusive: this.exclusive,
      autoDelete: this.autoDelete,
      ...(Object.keys(this.arguments).length ? { queueArguments: this.arguments } : {}),
      ...(this.bindingArguments ? { bindingArguments: this.bindingArguments } : {}),
      ...(this.consumerArguments ? { consumerArguments: this.consumerArguments } : {}),
      ...(this.noAck ? { noAck: true } : {}),
      ...(this.noDeclare ? { noDeclare: true } : {}),
    }
  }

  static fromJSON<T = unknown>(json: QueueJSON): Queue<T> {
    const { name, exchange, bindings, ...options } = json
    return new Queue<T>(name, {
      ...options,
      ...(exchange ? { exchange: Exchange.fromJSON(exchange) } : {}),
      ...(bindings ? { bindings: bindings.map((b) => Binding.fromJSON(b)) } : {}),
    })
  }

  #options(): QueueOptions {
    const { name: _name, exchange: _exchange, bindings: _bindings, ...json } = this.toJSON()
    const options: QueueOptions = { ...json, bindings: this.bindings }
    if (this.exchange) options.exchange = this.exchange
    for (const key of sugarKeys) delete options[key]
    return options
  }
}

const bindArgs = (options: BindOptions) => ({
  routingKey: options.routingKey ?? '',
  ...(options.arguments ? { arguments: options.arguments } : {}),
})
