/**
 * An exchange declaration (Kombu's `Exchange`). Entities are plain, serializable declarations;
 * `bind(channelOrConnection)` returns a bound copy whose methods talk to the broker.
 */
import type { ExchangeType, FieldTable, ReplyResults } from '../protocol/frames.js'
import type { Channel } from './channel.js'
import { NotBoundError } from './errors.js'
import { deliveryModeOf, prepareMessage, type DeliveryMode, type MessageOptions } from './publish.js'
import { channelOf, type ChannelTarget } from './target.js'

export interface ExchangeOptions {
  /** Survives a broker restart. Default true. */
  durable?: boolean
  /** Deleted when its last binding goes. Default false. */
  autoDelete?: boolean
  /** Only other exchanges may publish to it. Default false. */
  internal?: boolean
  /** The default delivery mode of messages published through it (else persistent). */
  deliveryMode?: DeliveryMode
  /** x-arguments, e.g. `{ 'alternate-exchange': 'unrouted' }`. */
  arguments?: FieldTable
  /** Only check that it exists (404 otherwise). */
  passive?: boolean
  /** Never declare it (it is someone else's). */
  noDeclare?: boolean
}

export interface ExchangeJSON {
  name: string
  type: string
  durable: boolean
  autoDelete: boolean
  internal: boolean
  deliveryMode?: 1 | 2
  arguments?: FieldTable
  passive?: boolean
  noDeclare?: boolean
}

export interface BindOptions {
  routingKey?: string
  arguments?: FieldTable
}

export type PublishConfirm = ReplyResults['basic.publish']

/** `''` is the default exchange and `amq.*` are predeclared: Kombu never declares them. */
const isPredeclared = (name: string) => name === '' || name.startsWith('amq.')

export class Exchange<T = unknown> {
  readonly name: string
  readonly type: ExchangeType | (string & {})
  readonly durable: boolean
  readonly autoDelete: boolean
  readonly internal: boolean
  readonly deliveryMode: 1 | 2 | undefined
  readonly arguments: FieldTable
  readonly passive: boolean
  readonly noDeclare: boolean
  /** Carries the body type to Message<T>; never set. */
  declare readonly __body?: T
  #target: ChannelTarget | undefined

  constructor(name = '', type: ExchangeType | (string & {}) = 'direct', options: ExchangeOptions = {}) {
    this.name = name
    this.type = type
    this.durable = options.durable ?? true
    this.autoDelete = options.autoDelete ?? false
    this.internal = options.internal ?? false
    this.deliveryMode = deliveryModeOf(options.deliveryMode)
    this.arguments = { ...options.arguments }
    this.passive = options.passive ?? false
    this.noDeclare = options.noDeclare ?? false
  }

  /** A copy of this declaration bound to a channel (or a connection's default channel). */
  bind(target: ChannelTarget): Exchange<T> {
    const copy = new Exchange<T>(this.name, this.type, this.#options())
    copy.#target = target
    return copy
  }

  get isBound(): boolean {
    return this.#target !== undefined
  }

  get channel(): Channel {
    if (!this.#target) throw new NotBoundError(`exchange '${this.name}' is not bound to a channel: call bind(channel) first`)
    return channelOf(this.#target)
  }

  /** Declares it (a no-op for the default exchange, `amq.*` and `noDeclare`). */
  async declare(options: { passive?: boolean } = {}): Promise<void> {
    const channel = this.channel
    if (this.noDeclare || isPredeclared(this.name)) return
    await channel.exchangeDeclare({
      exchange: this.name,
      type: this.type,
      durable: this.durable,
      autoDelete: this.autoDelete,
      internal: this.internal,
      passive: options.passive ?? this.passive,
      arguments: this.arguments,
    })
  }

  async delete(options: { ifUnused?: boolean } = {}): Promise<void> {
    await this.channel.exchangeDelete(this.name, options)
  }

  /** Exchange-to-exchange binding: messages from `source` flow into this exchange. */
  async bindTo(source: Exchange<any> | string, options: BindOptions = {}): Promise<void> {
    await this.channel.exchangeBind({ destination: this.name, source: nameOf(source), ...bindArgs(options) })
  }

  async unbindFrom(source: Exchange<any> | string, options: BindOptions = {}): Promise<void> {
    await this.channel.exchangeUnbind({ destination: this.name, source: nameOf(source), ...bindArgs(options) })
  }

  /**
   * Low-level publish through this exchange, without Producer's declare and retry (Kombu's
   * `Exchange.publish`). Resolves with the publisher confirm.
   */
  async publish(body: T, options: MessageOptions & { routingKey?: string; mandatory?: boolean } = {}): Promise<PublishConfirm> {
    const channel = this.channel
    const prepared = await prepareMessage(body, options, { deliveryMode: this.deliveryMode })
    return channel.basicPublish({
      exchange: this.name,
      routingKey: options.routingKey ?? '',
      mandatory: options.mandatory ?? false,
      ...prepared,
    })
  }

  /** Equal declarations share a maybeDeclare cache entry. */
  get cacheKey(): string {
    return `exchange:${JSON.stringify(this.toJSON())}`
  }

  /** Kombu's `can_cache_declaration`: auto-delete entities may vanish, so always redeclare them. */
  get canCacheDeclaration(): boolean {
    return !this.autoDelete
  }

  equals(other: Exchange<any>): boolean {
    return this.cacheKey === other.cacheKey
  }

  toJSON(): ExchangeJSON {
    return {
      name: this.name,
      type: this.type,
      durable: this.durable,
      autoDelete: this.autoDelete,
      internal: this.internal,
      ...(this.deliveryMode === undefined ? {} : { deliveryMode: this.deliveryMode }),
      ...(Object.keys(this.arguments).length ? { arguments: this.arguments } : {}),
      ...(this.passive ? { passive: true } : {}),
      ...(this.noDeclare ? { noDeclare: true } : {}),
    }
  }

  static fromJSON<T = unknown>(json: ExchangeJSON): Exchange<T> {
    const { name, type, ...options } = json
    return new Exchange<T>(name, type, options)
  }

  #options(): ExchangeOptions {
    const { name: _name, type: _type, ...options } = this.toJSON()
    return options
  }
}

export const nameOf = (entity: { readonly name: string } | string): string =>
  typeof entity === 'string' ? entity : entity.name

const bindArgs = (options: BindOptions) => ({
  routingKey: options.routingKey ?? '',
  ...(options.arguments ? { arguments: options.arguments } : {}),
})

/** A string names an exchange someone else declares: it is bound to, never declared. */
export const toExchange = (exchange: Exchange<any> | string): Exchange<any> =>
  typeof exchange === 'string' ? new Exchange(exchange, 'direct', { noDeclare: true }) : exchange
