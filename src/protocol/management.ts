/**
 * The management contract: what a console may ask the broker of a vhost, and the shape of
 * the live overview it gets back. Request/response only (comlink over a BroadcastChannel of
 * the console's own); the publish/deliver hot path never goes through here.
 */
import type { Body, ClientKind, FieldTable, MessageProperties } from './frames.js'
import { PROTOCOL_VERSION } from './version.js'

// ---------------------------------------------------------------- channel names

const prefix = (vhost: string, version: number): string => `warren:v${version}:${vhost}`

/** Where consoles announce themselves to the broker of `vhost`. */
export const managementChannelName = (vhost: string, version: number = PROTOCOL_VERSION): string =>
  `${prefix(vhost, version)}:management`

/** The channel one console and the broker talk comlink on: exactly two parties. */
export const consoleChannelName = (vhost: string, consoleId: string, version: number = PROTOCOL_VERSION): string =>
  `${prefix(vhost, version)}:management:${consoleId}`

/** Origin-wide: every broker that serves management answers a `vhosts?` here. */
export const managementDirectoryName = (version: number = PROTOCOL_VERSION): string => `warren:v${version}#management`

/** Held by a console for its life; the broker waits on it to learn that the console is gone. */
export const consoleLockName = (vhost: string, consoleId: string): string => `warren:${vhost}:management:${consoleId}`

/** Announce-channel messages (console → broker and back). */
export type ManagementSignal =
  | { readonly op: 'management.open'; readonly consoleId: string }
  | { readonly op: 'management.close'; readonly consoleId: string }
  /** Broker → console, on the console's own channel: the API is being served there. */
  | { readonly op: 'management.ready'; readonly consoleId: string; readonly epoch: number; readonly brokerId: string }

/** Directory-channel messages. */
export type DirectorySignal =
  | { readonly op: 'vhosts?' }
  | { readonly op: 'vhost'; readonly vhost: string; readonly epoch: number; readonly brokerId: string }

// ---------------------------------------------------------------- overview

/** Messages per second over the last sampling interval. */
export interface Rates {
  publish: number
  deliver: number
  ack: number
  redeliver: number
}

/** One sampling interval: its rates, and the exact counts behind them. */
export interface RateSample extends Rates {
  /** Broker time (ms) at the end of the interval. */
  at: number
  counts: Rates
  /** Messages ready + unacked at the end of the interval. */
  ready: number
  unacked: number
}

export interface QueueCounters {
  published: number
  delivered: number
  acked: number
  redelivered: number
  deadLettered: number
  expired: number
}

export interface ConsumerOverview {
  tag: string
  clientId: string
  clientKind: ClientKind
  clientName: string | undefined
  channel: number
  prefetch: number
  unacked: number
  noAck: boolean
  priority: number
  /** False for a waiting single-active consumer. */
  active: boolean
}

export interface QueueOverview {
  name: string
  /** x-queue-type: 'classic', 'quorum' or 'stream'. */
  type: string
  /** Figures of its type (a stream's offsets and segments); empty for classic and quorum. */
  typeDetails: Record<string, number | string>
  durable: boolean
  exclusive: boolean
  autoDelete: boolean
  arguments: FieldTable
  ready: number
  unacked: number
  total: number
  consumers: ConsumerOverview[]
  counters: QueueCounters
  rates: Rates
  /** Oldest first; at most `QUEUE_HISTORY` samples. */
  history: RateSample[]
  /** Stream queues only: the log's first and last offsets (null when empty) and its segments. */
  stream?: StreamOverview
}

export interface StreamOverview {
  firstOffset: number
  lastOffset: number | null
  segments: number
}

export interface BindingOverview {
  source: string
  destination: string
  destinationKind: 'queue' | 'exchange'
  routingKey: string
  arguments: FieldTable
}

export interface ExchangeOverview {
  name: string
  type: string
  durable: boolean
  autoDelete: boolean
  internal: boolean
  arguments: FieldTable
  /** Bindings with this exchange as their source. */
  bindings: BindingOverview[]
}

/** Whether the client's Web Lock is held (it lives) and the broker waits on it (it is watched). */
export type Liveness = 'held' | 'released' | 'unknown'

export interface ClientOverview {
  id: string
  kind: ClientKind
  name: string | undefined
  channels: number
  consumers: number
  unacked: number
  connectedAt: number
  liveness: Liveness
}

export interface Totals {
  exchanges: number
  queues: number
  clients: number
  consumers: number
  ready: number
  unacked: number
  messages: number
}

export interface Overview {
  vhost: string
  epoch: number
  brokerId: string
  /** Broker time (ms) of this snapshot. */
  now: number
  /** Milliseconds between rate samples. */
  sampleInterval: number
  totals: Totals
  rates: Rates
  /** Oldest first; at most `OVERVIEW_HISTORY` samples. */
  history: RateSample[]
  exchanges: ExchangeOverview[]
  queues: QueueOverview[]
  clients: ClientOverview[]
  stats: Record<string, number>
}

export const OVERVIEW_HISTORY = 60
export const QUEUE_HISTORY = 30

// ---------------------------------------------------------------- actions

export interface ExchangeSpec {
  name: string
  type: string
  durable?: boolean
  autoDelete?: boolean
  internal?: boolean
  arguments?: FieldTable
}

export interface QueueSpec {
  name: string
  durable?: boolean
  autoDelete?: boolean
  arguments?: FieldTable
}

export interface BindingSpec {
  source: string
  destination: string
  destinationKind?: 'queue' | 'exchange'
  routingKey?: string
  arguments?: FieldTable
}

export interface PublishSpec {
  exchange: string
  routingKey: string
  properties?: MessageProperties
  /** Merged over `properties.headers`. */
  headers?: FieldTable
  body: Body
  mandatory?: boolean
}

export type AckMode = 'ack' | 'requeue'

/** A message taken with `getMessages`. */
export interface PeekedMessage {
  exchange: string
  routingKey: string
  redelivered: boolean
  properties: MessageProperties
  body: Body
  /** Messages left ready in the queue after this one was taken. */
  messageCount: number
}

/**
 * The broker's management surface. Every method is request/response; through comlink each
 * returns a promise, and a failure rejects with an Error whose message carries the AMQP
 * reply text (e.g. `NOT_FOUND - no queue 'x'`).
 */
export interface ManagementApi {
  overview(): Promise<Overview>
  declareExchange(spec: ExchangeSpec): Promise<void>
  deleteExchange(name: string, options?: { ifUnused?: boolean }): Promise<void>
  declareQueue(spec: QueueSpec): Promise<{ queue: string; messageCount: number; consumerCount: number }>
  deleteQueue(name: string, options?: { ifUnused?: boolean; ifEmpty?: boolean }): Promise<{ messageCount: number }>
  bind(spec: BindingSpec): Promise<void>
  unbind(spec: BindingSpec): Promise<void>
  publish(spec: PublishSpec): Promise<{ routed: boolean }>
  /** Takes up to `count` messages; `ack` removes them, `requeue` puts them back (redelivered). */
  getMessages(queue: string, count: number, options?: { ackMode?: AckMode }): Promise<PeekedMessage[]>
  purge(queue: string): Promise<{ messageCount: number }>
  /**
   * Shovels the messages ready in `from` to `to` (through the default exchange), each one
   * acked only after its publish was confirmed. Moves at most the count ready at the start.
   */
  moveMessages(from: string, to: string, options?: { limit?: number }): Promise<{ moved: number }>
}

/** What comlink carries: one dispatcher, so no method name collides with a proxy's own. */
export interface ManagementWire {
  invoke(method: string, args: unknown[]): unknown
}

/** Every ManagementApi method by name: what a console may `invoke` over the wire, and nothing else. */
export const MANAGEMENT_METHODS = [
  'overview',
  'declareExchange',
  'deleteExchange',
  'declareQueue',
  'deleteQueue',
  'bind',
  'unbind',
  'publish',
  'getMessages',
  'purge',
  'moveMessages',
] as const satisfies ReadonlyArray<keyof ManagementApi>

export type ManagementMethod = (typeof MANAGEMENT_METHODS)[number]
