import type { FieldTable } from '../protocol/frames.js'
import { DELAYED_EXCHANGE_TYPE, parseDelayedType } from './delayed.js'
import { headersMatch } from './headers.js'
import { tableKey } from '../protocol/table-key.js'
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

/**
 * Headers routing checks every binding against the message (as RabbitMQ does), except that
 * an x-match 'all' binding requiring some header to equal a string can only match messages
 * carrying that exact string: such bindings are indexed by (header, value), so a publish
 * checks only the bindings its own string headers point to, plus the unindexed ones. With
 * 100,000 bindings that is ~100 routes/s against tens of thousands. Matches keep binding order.
 */
class HeadersRouter implements Router {
  private readonly all = new Map<Binding, number>()
  /** header → string value → 'all' bindings that require it. */
  private readonly index = new Map<string, Map<string, Set<Binding>>>()
  private readonly unindexed = new Set<Binding>()
  private readonly keyOf = new Map<Binding, [string, string]>()
  private next = 0

  add(binding: Binding) {
    if (this.all.has(binding)) return
    this.all.set(binding, this.next++)
    const key = indexKey(binding.arguments)
    if (!key) {
      this.unindexed.add(binding)
      return
    }
    this.keyOf.set(binding, key)
    let values = this.index.get(key[0])
    if (!values) this.index.set(key[0], (values = new Map()))
    let set = values.get(key[1])
    if (!set) values.set(key[1], (set = new Set()))
    set.add(binding)
  }

  remove(binding: Binding) {
    if (!this.all.delete(binding)) return
    this.unindexed.delete(binding)
    const key = this.keyOf.get(binding)
    if (!key) return
    this.keyOf.delete(binding)
    const values = this.index.get(key[0])
    const set = values?.get(key[1])
    set?.delete(binding)
    if (set?.size === 0) values!.delete(key[1])
    if (values?.size === 0) this.index.delete(key[0])
  }

  route(_routingKey: string, headers: FieldTable | undefined): Iterable<Binding> {
    // Few bindings: the plain scan is cheaper than gathering candidates.
    if (this.all.size <= 16 || this.index.size === 0) return this.scan(this.all.keys(), headers)
    const candidates = new Set<Binding>(this.unindexed)
    if (headers) {
      for (const name of Object.keys(headers)) {
        const value = headers[name]
        if (typeof value !== 'string') continue
        const set = this.index.get(name)?.get(value)
        if (set) for (const binding of set) candidates.add(binding)
      }
    }
    const matched = this.scan(candidates, headers)
    return matched.length > 1 ? matched.sort((a, b) => this.all.get(a)! - this.all.get(b)!) : matched
  }

  private scan(bindings: Iterable<Binding>, headers: FieldTable | undefined): Binding[] {
    const matched: Binding[] = []
    for (const binding of bindings) if (headersMatch(binding.arguments, headers)) matched.push(binding)
    return matched
  }
}

/**
 * For an x-match 'all' (or 'all-with-x') binding: one header it compares with a string value,
 * which a matching message must carry with exactly that value (a string equals only itself).
 */
function indexKey(args: FieldTable): [string, string] | undefined {
  try {
    const kind = Object.prototype.hasOwnProperty.call(args, 'x-match') ? args['x-match'] : 'all'
    if (kind !== 'all' && kind !== 'all-with-x') return undefined
    for (const key of Object.keys(args)) {
      if (key === 'x-match' || (kind === 'all' && key.startsWith('x-'))) continue
      const value = args[key]
      if (typeof value === 'string') return [key, value]
    }
  } catch {
    // a hostile table: checked the slow way
  }
  return undefined
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
