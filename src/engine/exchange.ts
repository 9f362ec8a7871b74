import type { FieldTable } from '../protocol/frames.js'
import { DELAYED_EXCHANGE_TYPE, parseDelayedType } from './delayed.js'
import { headersMatch } from './headers.js'
import { tableKey } from './table.js'
import { TopicTrie } from './topic.js'

export const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers'] as const
export type KnownExchangeType = (typeof EXCHANGE_TYPES)[number]
/** A declared exchange's type: a routing type, or the delayed-message type that proxies to one. */
export type ExchangeTypeName = KnownExchangeType | typeof DELAYED_EXCHANGE_TYPE

export const isExchangeTypeName = (type: string): type is ExchangeTypeName =>
  type === DELAYED_EXCHANGE_TYPE || (EXCHANGE_TYPES as readonly string[]).includes(type)

export interface Binding {
  readonly source: string
  readonly destination: string
  readonly destinationKind: 'queue' | 'exchange'
  readonly routingKey: string
  readonly arguments: FieldTable
  /** Identity: AMQP bindings are equal when source, destination, key and arguments are. */
  readonly id: string
}

export function makeBinding(
  source: string,
  destinationKind: 'queue' | 'exchange',
  destination: string,
  routingKey: string,
  args: FieldTable,
): Binding {
  return {
    source,
    destination,
    destinationKind,
    routingKey,
    arguments: args,
    id: `${destinationKind}\u0000${destination}\u0000${routingKey}\u0000${tableKey(args)}`,
  }
}

/** Finds the bindings a message matches; one implementation per exchange type. */
interface Router {
  add(binding: Binding): void
  remove(binding: Binding): void
  route(routingKey: string, headers: FieldTable | undefined): Iterable<Binding>
}

class DirectRouter implements Router {
  private readonly byKey = new Map<string, Set<Binding>>()
  add(binding: Binding) {
    let set = this.byKey.get(binding.routingKey)
    if (!set) this.byKey.set(binding.routingKey, (set = new Set()))
    set.add(binding)
  }
  remove(binding: Binding) {
    const set = this.byKey.get(binding.routingKey)
    set?.delete(binding)
    if (set?.size === 0) this.byKey.delete(binding.routingKey)
  }
  route(routingKey: string) {
    return this.byKey.get(routingKey) ?? []
  }
}

class FanoutRouter implements Router {
  private readonly all = new Set<Binding>()
  add(binding: Binding) {
    this.all.add(binding)
  }
  remove(binding: Binding) {
    this.all.delete(binding)
  }
  route() {
    return this.all
  }
}

class TopicRouter implements Router {
  private readonly trie = new TopicTrie<Binding>()
  add(binding: Binding) {
    this.trie.add(binding.routingKey, binding)
  }
  remove(binding: Binding) {
    this.trie.remove(binding.routingKey, binding)
  }
  route(routingKey: string) {
    return this.trie.match(routingKey)
  }
}

class HeadersRouter implements Router {
  private readonly all = new Set<Binding>()
  add(binding: Binding) {
    this.all.add(binding)
  }
  remove(binding: Binding) {
    this.all.delete(binding)
  }
  *route(_routingKey: string, headers: FieldTable | undefined) {
    for (const binding of this.all) if (headersMatch(binding.arguments, headers)) yield binding
  }
}

const ROUTERS: Record<KnownExchangeType, () => Router> = {
  direct: () => new DirectRouter(),
  fanout: () => new FanoutRouter(),
  topic: () => new TopicRouter(),
  headers: () => new HeadersRouter(),
}

export class Exchange {
  /** Bindings where this exchange is the source, by binding id. */
  readonly bindings = new Map<string, Binding>()
  private readonly router: Router
  /** Whose routing rules apply: an x-delayed-message exchange routes as its x-delayed-type. */
  readonly routingType: KnownExchangeType
  /** Auto-delete applies only to an exchange that once had a binding. */
  hadBinding = false

  constructor(
    readonly name: string,
    readonly type: ExchangeTypeName,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly args: FieldTable,
  ) {
    this.routingType = type === DELAYED_EXCHANGE_TYPE ? parseDelayedType(args, EXCHANGE_TYPES) : type
    this.router = ROUTERS[this.routingType]()
  }

  get alternateExchange(): string | undefined {
    const ae = this.args['alternate-exchange']
    return typeof ae === 'string' ? ae : undefined
  }

  addBinding(binding: Binding): boolean {
    if (this.bindings.has(binding.id)) return false
    this.bindings.set(binding.id, binding)
    this.router.add(binding)
    this.hadBinding = true
    return true
  }

  removeBinding(binding: Binding): boolean {
    const existing = this.bindings.get(binding.id)
    if (!existing) return false
    this.bindings.delete(binding.id)
    this.router.remove(existing)
    return true
  }

  route(routingKey: string, headers: FieldTable | undefined): Iterable<Binding> {
    return this.router.route(routingKey, headers)
  }
}
