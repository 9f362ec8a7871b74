/**
 * The management contract: what a console may ask the broker of a vhost, and the shape of
 * the live overview it gets back. Request/response only (comlink over a BroadcastChannel of
 * the console's own); the publish/deliver hot path never goes through here.
 */
import type { Body, ClientKind, FieldTable, MessageProperties, StorageState } from './frames.js'
import type { FederationSpec, RemoteStatus, ShovelSpec } from './remote.js'
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

const MAX_CONSOLE_ID_LENGTH = 200

const readSignal = (data: unknown): Record<string, unknown> | undefined =>
  typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined

/** An announce-channel message, copied; null for anything else. Never throws. */
export function parseManagementSignal(data: unknown): ManagementSignal | null {
  try {
    const r = readSignal(data)
    const op = r?.op
    const consoleId = r?.consoleId
    if (typeof consoleId !== 'string' || consoleId.length === 0 || consoleId.length > MAX_CONSOLE_ID_LENGTH) return null
    if (op === 'management.open' || op === 'management.close') return { op, consoleId }
    if (op === 'management.ready' && typeof r!.epoch === 'number' && typeof r!.brokerId === 'string')
      return { op, consoleId, epoch: r!.epoch, brokerId: r!.brokerId }
    return null
  } catch {
    return null
  }
}

/** A directory-channel message, copied; null for anything else. Never throws. */
export function parseDirectorySignal(data: unknown): DirectorySignal | null {
  try {
    const r = readSignal(data)
    if (r?.op === 'vhosts?') return { op: 'vhosts?' }
    if (r?.op === 'vhost' && typeof r.vhost === 'string' && typeof r.epoch === 'number' && typeof r.brokerId === 'string')
      return { op: 'vhost', vhost: r.vhost, epoch: r.epoch, brokerId: r.brokerId }
    return null
  } catch {
    return null
  }
}

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
  /** What the broker keeps durable state on (see StorageState). */
  storage: StorageState
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
  /** [remote] Remote brokers and their shovel and federation links, when the host has any. */
  remotes?: RemoteStatus[]
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
 * The broker's management surface, called through comlink as a typed `Remote<ManagementApi>`.
 * Every method is request/response and returns a promise. A failure rejects with the plain
 * ErrorData of the wire table (the client rebuilds it into its error class), its message
 * carrying the AMQP reply text (e.g. `NOT_FOUND - no queue 'x'`). No method is named like a
 * member of Function.prototype (`bind`, `call`, `apply`…): comlink's proxy would take those
 * for its own.
 */
export interface ManagementApi {
  overview(): Promise<Overview>
  declareExchange(spec: ExchangeSpec): Promise<void>
  deleteExchange(name: string, options?: { ifUnused?: boolean }): Promise<void>
  declareQueue(spec: QueueSpec): Promise<{ queue: string; messageCount: number; consumerCount: number }>
  deleteQueue(name: string, options?: { ifUnused?: boolean; ifEmpty?: boolean }): Promise<{ messageCount: number }>
  declareBinding(spec: BindingSpec): Promise<void>
  deleteBinding(spec: BindingSpec): Promise<void>
  publish(spec: PublishSpec): Promise<{ routed: boolean }>
  /** Takes up to `count` messages; `ack` removes them, `requeue` puts them back (redelivered). */
  getMessages(queue: string, count: number, options?: { ackMode?: AckMode }): Promise<PeekedMessage[]>
  purge(queue: string): Promise<{ messageCount: number }>
  /**
   * Shovels the messages ready in `from` to `to` (through the default exchange), each one
   * acked only after its publish was confirmed. Moves at most the count ready at the start.
   */
  moveMessages(from: string, to: string, options?: { limit?: number }): Promise<{ moved: number }>
  /** [remote] Declares (or replaces) a shovel: a local queue forwarded to a remote exchange. */
  declareShovel(spec: ShovelSpec): Promise<void>
  /** [remote] Declares (or replaces) a federation link: a remote source into a local exchange. */
  declareFederation(spec: FederationSpec): Promise<void>
  /** [remote] Removes a shovel or federation link; false if there was none of that name. */
  deleteRemoteLink(name: string): Promise<boolean>
}

export type ManagementMethod = keyof ManagementApi

/** Every ManagementApi method by name: what a console may call over the wire, and nothing else. */
export const MANAGEMENT_METHODS = [
  'overview',
  'declareExchange',
  'deleteExchange',
  'declareQueue',
  'deleteQueue',
  'declareBinding',
  'deleteBinding',
  'publish',
  'getMessages',
  'purge',
  'moveMessages',
  'declareShovel',
  'declareFederation',
  'deleteRemoteLink',
] as const satisfies ReadonlyArray<ManagementMethod>

const methods: ReadonlySet<string> = new Set(MANAGEMENT_METHODS)

/**
 * The only comlink messages the broker serves on a console's channel: a call of one API method
 * (comlink's APPLY on a one-step path). Everything else comlink can carry (GET, SET, CONSTRUCT,
 * calls on a method's own properties) would reach past the API into the broker's context.
 */
export function isManagementCall(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false
  const { type, path, argumentList } = data as { type?: unknown; path?: unknown; argumentList?: unknown }
  return (
    type === 'APPLY' &&
    Array.isArray(path) &&
    path.length === 1 &&
    typeof path[0] === 'string' &&
    methods.has(path[0]) &&
    Array.isArray(argumentList)
  )
}
