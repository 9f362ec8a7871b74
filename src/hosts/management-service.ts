/**
 * The management API of one broker. Actions go through an ordinary engine client (the same
 * frames a tab sends: declare, bind, publish with confirms, basic.get, ack/nack, purge); the
 * overview comes from `Broker.inspect()` plus rates sampled here from its counters.
 */
import type { Broker, BrokerSnapshot } from '../engine/broker.js'
import type { Clock } from '../engine/clock.js'
import { wireError } from '../protocol/errors.js'
import type { ClientKind, MessageProperties } from '../protocol/frames.js'
import type { FederationSpec, ShovelSpec } from '../protocol/remote.js'
import type {
  AckMode,
  BindingSpec,
  ClientOverview,
  ExchangeSpec,
  Liveness,
  ManagementApi,
  Overview,
  PeekedMessage,
  PublishSpec,
  QueueSpec,
  StreamOverview,
} from '../protocol/management.js'
import { clientLockName } from '../transport/names.js'
import { EngineClient, ManagementError, type CallChannel } from './engine-client.js'
import { RateTracker } from './management-rates.js'
import type { RemotesHandle } from './remotes.js'
import { systemClock } from './system-clock.js'

/** The part of the Web Locks API that tells which client locks are held. */
export interface LockQuery {
  query(): Promise<{ held?: Array<{ name?: string }>; pending?: Array<{ name?: string }> }>
}

export interface ManagementServiceOptions {
  clock?: Clock
  /** Milliseconds between rate samples. Default 1000. */
  sampleInterval?: number
  /** Where client liveness comes from; default `navigator.locks` where it has `query`. */
  locks?: LockQuery
  /** [remote] The host's remote brokers, when it has any. */
  remotes?: RemotesHandle
}

/** A remote link call, its failures (RemoteError: INVALID_ARGUMENT, NOT_FOUND…) as wire errors. */
async function remoteCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof ManagementError) throw error
    const code = (error as { code?: unknown })?.code
    const message = error instanceof Error ? error.message : String(error)
    throw new ManagementError(wireError(code === 'NOT_FOUND' ? 'NOT_FOUND' : code === 'INTERNAL_ERROR' ? 'INTERNAL_ERROR' : 'PRECONDITION_FAILED', message))
  }
}

const MANAGEMENT_PREFIX = 'management:'
/** Messages moved per round trip by moveMessages. */
const MOVE_CHUNK = 100
const MAX_GET = 10_000

export class ManagementService implements ManagementApi {
  readonly #broker: Broker
  readonly #client: EngineClient
  readonly #clock: Clock
  readonly #interval: number
  readonly #locks: LockQuery | undefined
  readonly #remotes: RemotesHandle | undefined
  readonly #rates = new RateTracker()
  #liveness = new Map<string, Liveness>()
  #users = 0
  #cancelSample: (() => void) | undefined

  constructor(broker: Broker, options: ManagementServiceOptions = {}) {
    this.#broker = broker
    this.#clock = options.clock ?? systemClock
    this.#interval = options.sampleInterval ?? 1000
    this.#locks = options.locks ?? defaultLockQuery()
    this.#remotes = options.remotes
    this.#client = new EngineClient(broker, `${MANAGEMENT_PREFIX}${broker.brokerId}:${Math.random().toString(36).slice(2, 8)}`)
  }

  // ---------------------------------------------------------------- sampling

  /** A console arrived: sample while anyone watches. */
  attach(): void {
    if (this.#users++ === 0) {
      this.#rates.reset()
      this.sample()
    }
  }

  detach(): void {
    if (this.#users === 0) return
    if (--this.#users === 0) {
      this.#cancelSample?.()
      this.#cancelSample = undefined
    }
  }

  /** Takes one sample now and schedules the next (while attached). */
  sample(): void {
    this.#cancelSample?.()
    this.#cancelSample = undefined
    const snapshot = this.#broker.inspect()
    this.#rates.sample(snapshot.queues, this.#clock.now())
    void this.#refreshLiveness(snapshot)
    if (this.#users > 0) this.#cancelSample = this.#clock.schedule(this.#interval, () => this.sample())
  }

  async #refreshLiveness(snapshot: BrokerSnapshot): Promise<void> {
    if (!this.#locks) return
    try {
      const state = await this.#locks.query()
      const held = new Set((state.held ?? []).map((lock) => lock.name))
      const next = new Map<string, Liveness>()
      for (const client of snapshot.clients) {
        next.set(client.id, held.has(clientLockName(snapshot.vhost, client.id)) ? 'held' : 'released')
      }
      this.#liveness = next
    } catch {
      // Liveness stays as it was: it is a hint for the console, never a decision.
    }
  }

  close(): void {
    this.#users = 0
    this.#cancelSample?.()
    this.#cancelSample = undefined
    this.#client.close()
  }

  // ---------------------------------------------------------------- overview

  async overview(): Promise<Overview> {
    const snapshot = this.#broker.inspect()
    const kinds = new Map<string, { kind: ClientKind; name: string | undefined }>()
    for (const client of snapshot.clients) kinds.set(client.id, { kind: client.kind, name: client.name })
    const perClient = new Map<string, { consumers: number; unacked: number }>()

    const queues = snapshot.queues
      .map((queue) => {
        const consumers = queue.consumers.map((consumer) => {
          const tally = perClient.get(consumer.clientId) ?? { consumers: 0, unacked: 0 }
          tally.consumers++
          tally.unacked += consumer.unacked
          perClient.set(consumer.clientId, tally)
          const client = kinds.get(consumer.clientId)
          return {
            tag: consumer.tag,
            clientId: consumer.clientId,
            clientKind: client?.kind ?? 'unknown',
            clientName: client?.name,
            channel: consumer.channel,
            prefetch: consumer.prefetch,
            unacked: consumer.unacked,
            noAck: consumer.noAck,
            priority: consumer.priority,
            active: consumer.active,
          }
        })
        return {
          name: queue.name,
          type: queue.type,
          typeDetails: { ...queue.typeDetails },
          durable: queue.durable,
          exclusive: queue.exclusive,
          autoDelete: queue.autoDelete,
          arguments: queue.arguments,
          ready: queue.ready,
          unacked: queue.unacked,
          total: queue.ready + queue.unacked,
          consumers,
          counters: { ...queue.counters },
          rates: this.#rates.queueRates(queue.name),
          history: this.#rates.queueHistory(queue.name),
          ...(queue.type === 'stream' ? { stream: streamOverview(queue.typeDetails) } : {}),
        }
      })
      .sort((a, b) => a.name.localeCompare(b.name))

    const exchanges = snapshot.exchanges
      .map((exchange) => ({
        name: exchange.name,
        type: exchange.type,
        durable: exchange.durable,
        autoDelete: exchange.autoDelete,
        internal: exchange.internal,
        arguments: exchange.arguments,
        bindings: exchange.bindings.map((binding) => ({ ...binding })),
      }))
      .sort((a, b) => a.name.localeCompare(b.name))

    const clients: ClientOverview[] = snapshot.clients
      .filter((client) => !client.id.startsWith(MANAGEMENT_PREFIX))
      .map((client) => ({
        id: client.id,
        kind: client.kind,
        name: client.name,
        channels: client.channels,
        consumers: perClient.get(client.id)?.consumers ?? 0,
        unacked: perClient.get(client.id)?.unacked ?? 0,
        connectedAt: client.connectedAt,
        liveness: this.#liveness.get(client.id) ?? 'unknown',
      }))
      .sort((a, b) => a.connectedAt - b.connectedAt)

    let ready = 0
    let unacked = 0
    let consumers = 0
    for (const queue of queues) {
      ready += queue.ready
      unacked += queue.unacked
      consumers += queue.consumers.length
    }
    return {
      vhost: snapshot.vhost,
      epoch: snapshot.epoch,
      brokerId: this.#broker.brokerId,
      storage: snapshot.storage,
      now: this.#clock.now(),
      sampleInterval: this.#interval,
      totals: {
        exchanges: exchanges.length,
        queues: queues.length,
        clients: clients.length,
        consumers,
        ready,
        unacked,
        messages: ready + unacked,
      },
      rates: this.#rates.rates(),
      history: this.#rates.history(),
      exchanges,
      queues,
      clients,
      stats: { ...snapshot.stats },
      ...(this.#remotes ? { remotes: this.#remotes.status() } : {}),
    }
  }

  // ---------------------------------------------------------------- [remote] links

  async declareShovel(spec: ShovelSpec): Promise<void> {
    await remoteCall(() => this.#remotesOrThrow().declareShovel(spec))
  }

  async declareFederation(spec: FederationSpec): Promise<void> {
    await remoteCall(() => this.#remotesOrThrow().declareFederation(spec))
  }

  async deleteRemoteLink(name: string): Promise<boolean> {
    return remoteCall(() => this.#remotesOrThrow().deleteLink(String(name)))
  }

  #remotesOrThrow(): RemotesHandle {
    if (!this.#remotes) throw new ManagementError(wireError('NOT_FOUND', 'this broker has no remotes configured (startBroker({ remotes }))'))
    return this.#remotes
  }

  // ---------------------------------------------------------------- topology

  async declareExchange(spec: ExchangeSpec): Promise<void> {
    await this.#one((ch) =>
      ch.call({
        op: 'exchange.declare',
        exchange: spec.name,
        type: spec.type,
        durable: spec.durable ?? false,
        autoDelete: spec.autoDelete ?? false,
        internal: spec.internal ?? false,
        arguments: spec.arguments ?? {},
      }),
    )
  }

  async deleteExchange(name: string, options: { ifUnused?: boolean } = {}): Promise<void> {
    await this.#one((ch) => ch.call({ op: 'exchange.delete', exchange: name, ifUnused: options.ifUnused ?? false }))
  }

  declareQueue(spec: QueueSpec): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    return this.#one((ch) =>
      ch.call({
        op: 'queue.declare',
        queue: spec.name,
        durable: spec.durable ?? false,
        autoDelete: spec.autoDelete ?? false,
        arguments: spec.arguments ?? {},
      }),
    )
  }

  deleteQueue(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<{ messageCount: number }> {
    return this.#one((ch) =>
      ch.call({ op: 'queue.delete', queue: name, ifUnused: options.ifUnused ?? false, ifEmpty: options.ifEmpty ?? false }),
    )
  }

  async declareBinding(spec: BindingSpec): Promise<void> {
    await this.#one((ch) => ch.call(bindCommand(spec, 'bind')))
  }

  async deleteBinding(spec: BindingSpec): Promise<void> {
    await this.#one((ch) => ch.call(bindCommand(spec, 'unbind')))
  }

  purge(queue: string): Promise<{ messageCount: number }> {
    return this.#one((ch) => ch.call({ op: 'queue.purge', queue }))
  }

  // ---------------------------------------------------------------- messages

  publish(spec: PublishSpec): Promise<{ routed: boolean }> {
    const properties: MessageProperties = { ...(spec.properties ?? {}) }
    if (spec.headers && Object.keys(spec.headers).length > 0) properties.headers = { ...(properties.headers ?? {}), ...spec.headers }
    return this.#one((ch) =>
      ch.call({
        op: 'basic.publish',
        exchange: spec.exchange,
        routingKey: spec.routingKey,
        mandatory: spec.mandatory ?? false,
        properties,
        body: spec.body,
      }),
    )
  }

  getMessages(queue: string, count: number, options: { ackMode?: AckMode } = {}): Promise<PeekedMessage[]> {
    const wanted = clampCount(count, MAX_GET)
    const ackMode = options.ackMode ?? 'requeue'
    return this.#one(async (ch) => {
      const taken: PeekedMessage[] = []
      let lastTag: number | undefined
      while (taken.length < wanted) {
        const { message, messageCount } = await ch.call({ op: 'basic.get', queue, noAck: false })
        if (!message) break
        lastTag = message.deliveryTag
        taken.push({
          exchange: message.exchange,
          routingKey: message.routingKey,
          redelivered: message.redelivered,
          properties: message.properties,
          body: message.body,
          messageCount,
        })
      }
      // Requeued only once all are taken, so the loop never meets the same message twice.
      if (lastTag !== undefined) {
        if (ackMode === 'ack') await ch.call({ op: 'basic.ack', deliveryTag: lastTag, multiple: true })
        else await ch.call({ op: 'basic.nack', deliveryTag: lastTag, multiple: true, requeue: true })
      }
      return taken
    })
  }

  moveMessages(from: string, to: string, options: { limit?: number } = {}): Promise<{ moved: number }> {
    if (from === to) return Promise.reject(new ManagementError(wireError('PRECONDITION_FAILED', `PRECONDITION_FAILED - cannot move messages from '${from}' to itself`)))
    return this.#one(async (ch) => {
      await ch.call({ op: 'queue.declare', queue: to, passive: true })
      const { messageCount } = await ch.call({ op: 'queue.declare', queue: from, passive: true })
      const limit = Math.min(messageCount, options.limit === undefined ? Infinity : clampCount(options.limit, Infinity))
      let moved = 0
      while (moved < limit) {
        const chunk: Array<{ deliveryTag: number; properties: MessageProperties; body: unknown }> = []
        while (moved + chunk.length < limit && chunk.length < MOVE_CHUNK) {
          const { message } = await ch.call({ op: 'basic.get', queue: from, noAck: false })
          if (!message) break
          chunk.push(message)
        }
        if (chunk.length === 0) break
        const last = chunk.at(-1)!.deliveryTag
        let confirms: Array<{ routed: boolean }>
        try {
          confirms = await Promise.all(
            chunk.map((message) =>
              ch.call({ op: 'basic.publish', exchange: '', routingKey: to, mandatory: true, properties: withoutDeliveryCount(message.properties), body: message.body }),
            ),
          )
        } catch (error) {
          // Not all copies are safe: put the originals back (a duplicate beats a loss).
          await ch.call({ op: 'basic.nack', deliveryTag: last, multiple: true, requeue: true }).catch(() => {})
          throw error
        }
        if (confirms.some((confirm) => !confirm.routed)) {
          await ch.call({ op: 'basic.nack', deliveryTag: last, multiple: true, requeue: true })
          throw new ManagementError(wireError('NOT_FOUND', `NOT_FOUND - queue '${to}' went away while moving`))
        }
        await ch.call({ op: 'basic.ack', deliveryTag: last, multiple: true })
        moved += chunk.length
      }
      return { moved }
    })
  }

  #one<T>(fn: (channel: CallChannel) => Promise<T>): Promise<T> {
    return this.#client.withChannel(fn)
  }
}

function bindCommand(spec: BindingSpec, what: 'bind' | 'unbind') {
  const routingKey = spec.routingKey ?? ''
  const args = spec.arguments ?? {}
  if ((spec.destinationKind ?? 'queue') === 'exchange') {
    return { op: `exchange.${what}` as const, destination: spec.destination, source: spec.source, routingKey, arguments: args }
  }
  return { op: `queue.${what}` as const, queue: spec.destination, exchange: spec.source, routingKey, arguments: args }
}

function clampCount(count: number, max: number): number {
  if (!Number.isFinite(count)) return max
  return Math.max(0, Math.min(max, Math.floor(count)))
}

/** The engine adds x-delivery-count on redelivery; a moved message starts afresh. */
function withoutDeliveryCount(properties: MessageProperties): MessageProperties {
  if (!properties.headers || !('x-delivery-count' in properties.headers)) return properties
  const { 'x-delivery-count': _count, ...headers } = properties.headers
  return { ...properties, headers }
}

function defaultLockQuery(): LockQuery | undefined {
  const locks = (globalThis as { navigator?: { locks?: Partial<LockQuery> } }).navigator?.locks
  return typeof locks?.query === 'function' ? (locks as LockQuery) : undefined
}

/** A stream queue's figures from its type's inspect(). */
function streamOverview(details: Record<string, number | string>): StreamOverview {
  const { firstOffset, lastOffset, segments } = details
  return {
    firstOffset: Number(firstOffset ?? 0),
    lastOffset: typeof lastOffset === 'number' ? lastOffset : null,
    segments: Number(segments ?? 0),
  }
}
