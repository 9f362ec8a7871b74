/**
 * Everything the broker of one vhost knows, in one object that the modules acting on it take
 * as their first argument: topology.ts, publishing.ts, delivery.ts, dead-lettering.ts,
 * bounded-memory.ts and persistence.ts. Queues reach those modules only through their type's
 * collaborators (queue-type.ts, wired in broker.ts), so no engine module imports another
 * that imports it back (test/layering.node.test.ts checks).
 */
import type { ServerEvent } from '../protocol/frames.js'
import type { Durability, Storage } from '../storage/types.js'
import type { BrokerOptions, BrokerStats, ClientInfo } from './broker.js'
import type { ChannelState } from './channel.js'
import type { Clock } from './clock.js'
import { DedupWindow } from './dedup.js'
import { DelayedDelivery, type HeldMessage } from './delayed.js'
import { Exchange, type KnownExchangeType } from './exchange.js'
import { DEFAULT_QUEUE_WINDOW } from './paging.js'
import type { QueueState } from './queue.js'
import { QueueTypes } from './queue-type.js'
import { DirectReplyTo } from './reply-to.js'

export interface ClientConnection {
  readonly id: string
  readonly send: (event: ServerEvent) => void
  readonly info: ClientInfo
  readonly channels: Map<number, ChannelState>
  readonly connectedAt: number
}

/** The result of commands that answer nothing but ok. */
export const EMPTY: Record<string, never> = {}

const PREDECLARED: ReadonlyArray<[string, KnownExchangeType]> = [
  ['', 'direct'],
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
]

export class VhostState {
  readonly name: string
  readonly brokerId: string
  readonly stats: BrokerStats = { droppedFrames: 0, rejectedFrames: 0, storageFailures: 0, deduplicatedPublishes: 0 }
  readonly exchanges = new Map<string, Exchange>()
  readonly queues = new Map<string, QueueState>()
  /** The queue types queues are declared with (x-queue-type), registered by broker.ts. */
  readonly queueTypes = new QueueTypes()
  /** Messages held by x-delayed-message exchanges (recovery restores into it). */
  readonly delayed: DelayedDelivery
  readonly replyTo: DirectReplyTo
  /** Publish ids taken recently: a retry of one is confirmed again, not stored twice. */
  readonly dedup: DedupWindow
  readonly clients = new Map<string, ClientConnection>()
  readonly clock: Clock
  readonly storage: Storage | undefined
  readonly durability: Durability
  /** Ready messages a durable queue keeps in memory (recovery pages queues with it too). */
  readonly queueWindow: number
  readonly maxReadyMessages: number
  readonly maxReadyBytes: number
  /** Ready messages in memory as last counted, plus those accepted since (see overMemoryLimit). */
  memory = { messages: 0, bytes: 0, countedAt: -Infinity }
  /** Numbers generated queue names and consumer tags. */
  generated = 0
  stopped = false

  /** `release` routes a held delayed message that fell due. */
  constructor(options: BrokerOptions, release: (exchange: string, message: HeldMessage) => void) {
    this.name = options.vhost ?? '/'
    this.clock = options.clock
    this.delayed = new DelayedDelivery(this.clock, release)
    this.storage = options.storage
    this.durability = options.durability ?? 'relaxed'
    this.queueWindow = Math.max(1, Math.floor(options.queueWindow ?? DEFAULT_QUEUE_WINDOW))
    this.maxReadyMessages = options.maxReadyMessages ?? Infinity
    this.maxReadyBytes = options.maxReadyBytes ?? Infinity
    this.brokerId = options.brokerId ?? Math.random().toString(36).slice(2, 10)
    this.replyTo = new DirectReplyTo(this.brokerId)
    this.dedup = new DedupWindow(options.dedup)
    for (const [name, type] of PREDECLARED) this.exchanges.set(name, new Exchange(name, type, true, false, false, {}))
  }
}
