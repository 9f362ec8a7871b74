/**
 * [remote] What crosses a context boundary about remote brokers (RabbitMQ over Web-STOMP):
 * link declarations (broker options, the management API) and status notices (the broker host
 * tells every context of the vhost how its remotes are doing). Credentials are never part of
 * any of these: they stay in the broker host that holds the socket.
 */
import { PROTOCOL_VERSION } from './version.js'

/**
 * 'connecting' (first attempt or a retry under way), 'open', 'offline' (lost; a retry is
 * scheduled at `retryAt`), 'refused' (RabbitMQ rejected the login: retried only after a long
 * pause, never in a storm), 'stopped'.
 */
export type RemoteState = 'connecting' | 'open' | 'offline' | 'refused' | 'stopped'

export type LinkKind = 'shovel' | 'federation'

/** 'running' (moving messages), 'waiting' (for its remote), 'failed' (RabbitMQ refused it: see lastError). */
export type LinkState = 'running' | 'waiting' | 'failed'

export interface RemoteError {
  /** ACCESS_REFUSED, NOT_FOUND, CONNECTION_LOST, FRAME_TOO_LARGE, PRECONDITION_FAILED, REMOTE_ERROR… */
  readonly code: string
  readonly message: string
  /** Broker-host time (ms since the epoch). */
  readonly at: number
}

export interface LinkStatus {
  readonly name: string
  readonly kind: LinkKind
  readonly remote: string
  /** Shovel: the local queue; federation: the remote STOMP destination. */
  readonly source: string
  /** Shovel: the remote STOMP destination; federation: the local exchange (and routing key). */
  readonly destination: string
  readonly state: LinkState
  /** Messages moved (shovel: confirmed by RabbitMQ; federation: committed locally and acked). */
  readonly moved: number
  /** Sent but not yet confirmed (shovel), or received but not yet committed (federation). */
  readonly inFlight: number
  /** Shovel: messages waiting in the local queue (the outbox). */
  readonly backlog?: number
  readonly lastError?: RemoteError
}

export interface RemoteStatus {
  readonly name: string
  /** The socket's URL without any user info. */
  readonly url: string
  readonly vhost: string
  readonly state: RemoteState
  readonly lastError?: RemoteError
  /** When the next attempt is due (offline, refused), ms since the epoch. */
  readonly retryAt?: number
  /** Connection attempts so far. */
  readonly attempts: number
  /** Messages sent to RabbitMQ and confirmed / received from it and acked, since start. */
  readonly out: number
  readonly in: number
  /** Per second over the last sample interval. */
  readonly outRate: number
  readonly inRate: number
  readonly links: readonly LinkStatus[]
}

/** Forwards a local queue to a remote exchange (confirm-then-ack: the queue is the outbox). */
export interface ShovelSpec {
  readonly name: string
  readonly remote: string
  /** The local queue (declared durable if missing). */
  readonly queue: string
  /** The remote exchange ('' = the default exchange, with `routingKey` the queue name). */
  readonly exchange: string
  /** Default: the message's own routing key. */
  readonly routingKey?: string
  /** Messages sent and not yet confirmed, at most (default 100). */
  readonly prefetch?: number
}

/** Delivers remote messages into a local exchange, acked to RabbitMQ after the local commit. */
export interface FederationSpec {
  readonly name: string
  readonly remote: string
  /**
   * A remote queue (`{ queue }`), or an exchange and binding key through a named durable
   * queue that RabbitMQ keeps while the browser is away (`{ exchange, bindingKey, queueName }`).
   */
  readonly source:
    | { readonly queue: string }
    | { readonly exchange: string; readonly bindingKey: string; readonly queueName: string }
  /** The local exchange ('' = the default exchange) and routing key (default: the remote one). */
  readonly exchange: string
  readonly routingKey?: string
  /** Unacked remote messages at most (RabbitMQ's prefetch-count; default 100). */
  readonly prefetch?: number
}

/** The vhost's channel for remote status notices (broker host → every context). */
export const remotesChannelName = (vhost: string, version: number = PROTOCOL_VERSION): string =>
  `warren:v${version}:${vhost}:remotes`

export type RemotesNotice =
  /** The host's current view of every remote (sent on every change, and on request). */
  | { readonly op: 'remotes'; readonly remotes: readonly RemoteStatus[] }
  /** A context asks for the current view. */
  | { readonly op: 'remotes?' }

const MAX_NAME = 255
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME
const isKey = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_NAME
const isPrefetch = (v: unknown): v is number | undefined =>
  v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65_535)

/** Why a link spec is invalid, or undefined when it is fine. */
export function shovelSpecProblem(spec: unknown): string | undefined {
  if (!isRecord(spec)) return 'a shovel spec must be an object'
  if (!isName(spec.name)) return 'shovel: name must be a non-empty string'
  if (!isName(spec.remote)) return `shovel '${String(spec.name)}': remote must name a configured remote`
  if (!isName(spec.queue)) return `shovel '${spec.name}': queue must be a non-empty string`
  if (!isKey(spec.exchange)) return `shovel '${spec.name}': exchange must be a string`
  if (spec.routingKey !== undefined && !isKey(spec.routingKey)) return `shovel '${spec.name}': routingKey must be a string`
  if (!isPrefetch(spec.prefetch)) return `shovel '${spec.name}': prefetch must be an integer in 1..65535`
  return undefined
}

export function federationSpecProblem(spec: unknown): string | undefined {
  if (!isRecord(spec)) return 'a federation spec must be an object'
  if (!isName(spec.name)) return 'federation: name must be a non-empty string'
  if (!isName(spec.remote)) return `federation '${String(spec.name)}': remote must name a configured remote`
  const source = spec.source
  if (!isRecord(source)) return `federation '${spec.name}': source must be { queue } or { exchange, bindingKey, queueName }`
  if ('queue' in source) {
    if (!isName(source.queue)) return `federation '${spec.name}': source.queue must be a non-empty string`
  } else if (!isName(source.exchange) || !isKey(source.bindingKey) || !isName(source.queueName)) {
    return `federation '${spec.name}': source needs exchange, bindingKey and queueName (the durable subscription queue)`
  }
  if (!isKey(spec.exchange)) return `federation '${spec.name}': exchange must be a string`
  if (spec.routingKey !== undefined && !isKey(spec.routingKey)) return `federation '${spec.name}': routingKey must be a string`
  if (!isPrefetch(spec.prefetch)) return `federation '${spec.name}': prefetch must be an integer in 1..65535`
  return undefined
}

/** A plain copy of a valid spec (only its known fields). */
export function copyShovelSpec(spec: ShovelSpec): ShovelSpec {
  const { name, remote, queue, exchange, routingKey, prefetch } = spec
  return { name, remote, queue, exchange, ...(routingKey !== undefined ? { routingKey } : {}), ...(prefetch !== undefined ? { prefetch } : {}) }
}

export function copyFederationSpec(spec: FederationSpec): FederationSpec {
  const { name, remote, exchange, routingKey, prefetch } = spec
  const source = 'queue' in spec.source
    ? { queue: spec.source.queue }
    : { exchange: spec.source.exchange, bindingKey: spec.source.bindingKey, queueName: spec.source.queueName }
  return { name, remote, source, exchange, ...(routingKey !== undefined ? { routingKey } : {}), ...(prefetch !== undefined ? { prefetch } : {}) }
}

const REMOTE_STATES: ReadonlySet<string> = new Set(['connecting', 'open', 'offline', 'refused', 'stopped'])

/** A remotes-channel notice, shallowly checked (the status is display data); null for anything else. Never throws. */
export function parseRemotesNotice(data: unknown): RemotesNotice | null {
  try {
    if (!isRecord(data)) return null
    if (data.op === 'remotes?') return { op: 'remotes?' }
    if (data.op !== 'remotes' || !Array.isArray(data.remotes)) return null
    const remotes = data.remotes.filter(
      (r): r is RemoteStatus => isRecord(r) && typeof r.name === 'string' && typeof r.state === 'string' &&
        REMOTE_STATES.has(r.state) && Array.isArray(r.links),
    )
    return remotes.length === data.remotes.length ? { op: 'remotes', remotes } : null
  } catch {
    return null
  }
}
