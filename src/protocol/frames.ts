/**
 * The wire contract between clients and the broker. Every frame is a plain,
 * structured-clone-able object with a string `op` tag. Clients send `ClientFrame`s,
 * the broker sends `ServerFrame`s. Transports carry arrays of frames (one post per turn).
 */
import type { WireClientFrame } from './compact.js'
import type { ErrorData } from './errors.js'

/** Header and argument tables: string keys, structured-clone-able values. */
export type FieldTable = Record<string, unknown>

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers'

export interface MessageProperties {
  contentType?: string
  contentEncoding?: string
  headers?: FieldTable
  /** 1 = transient, 2 = persistent. */
  deliveryMode?: 1 | 2
  priority?: number
  correlationId?: string
  replyTo?: string
  /** Per-message TTL in milliseconds, as a decimal string (AMQP's rule). */
  expiration?: string
  messageId?: string
  /** Seconds since the epoch. */
  timestamp?: number
  type?: string
  appId?: string
  userId?: string
}

/**
 * The broker never looks inside a body; it only measures it (for max-length-bytes).
 * Serializers on the client produce strings, bytes or structured-clone-able values.
 */
export type Body = unknown

// ---------------------------------------------------------------- commands

interface Command<Op extends string> {
  readonly op: Op
  /** Present when the client wants a reply (`ok` or `error`) for this command. */
  readonly id?: number
  readonly channel: number
}

export interface ChannelOpen extends Command<'channel.open'> {}
export interface ChannelClose extends Command<'channel.close'> {}
export interface BasicQos extends Command<'basic.qos'> {
  prefetchCount: number
  global?: boolean
}
export interface ExchangeDeclare extends Command<'exchange.declare'> {
  exchange: string
  /** Required unless passive (an empty or missing type is fine for a passive declare). */
  type?: string
  durable?: boolean
  autoDelete?: boolean
  internal?: boolean
  passive?: boolean
  arguments?: FieldTable
}
export interface ExchangeDelete extends Command<'exchange.delete'> {
  exchange: string
  ifUnused?: boolean
}
export interface ExchangeBind extends Command<'exchange.bind'> {
  destination: string
  source: string
  routingKey?: string
  arguments?: FieldTable
}
export interface ExchangeUnbind extends Command<'exchange.unbind'> {
  destination: string
  source: string
  routingKey?: string
  arguments?: FieldTable
}
export interface QueueDeclare extends Command<'queue.declare'> {
  /** Empty for a server-named queue. */
  queue: string
  durable?: boolean
  exclusive?: boolean
  autoDelete?: boolean
  passive?: boolean
  arguments?: FieldTable
}
export interface QueueBind extends Command<'queue.bind'> {
  queue: string
  exchange: string
  routingKey?: string
  arguments?: FieldTable
}
export interface QueueUnbind extends Command<'queue.unbind'> {
  queue: string
  exchange: string
  routingKey?: string
  arguments?: FieldTable
}
export interface QueuePurge extends Command<'queue.purge'> {
  queue: string
}
export interface QueueDelete extends Command<'queue.delete'> {
  queue: string
  ifUnused?: boolean
  ifEmpty?: boolean
}
export interface BasicPublish extends Command<'basic.publish'> {
  exchange: string
  routingKey: string
  mandatory?: boolean
  properties: MessageProperties
  body: Body
  /** 'strict': the confirm waits for a flushed (fsync'd) IndexedDB transaction (connection option). */
  durability?: 'relaxed' | 'strict'
  /**
   * The message's id in the broker's deduplication window: a publish with an id the broker
   * took recently is dropped and confirmed again (`duplicate: true`).
   */
  publishId?: string
  /**
   * Set on a retry of a publish whose outcome the publisher does not know: the id of the
   * broker the earlier attempt was sent to ('' if unknown). A retry the broker cannot place
   * is delivered flagged redelivered unless it is that same broker and can prove it never
   * got the earlier attempt.
   */
  retryOf?: string
}
export interface BasicConsume extends Command<'basic.consume'> {
  queue: string
  consumerTag?: string
  noAck?: boolean
  exclusive?: boolean
  arguments?: FieldTable
}
export interface BasicCancel extends Command<'basic.cancel'> {
  consumerTag: string
}
export interface BasicGet extends Command<'basic.get'> {
  queue: string
  noAck?: boolean
}
export interface BasicAck extends Command<'basic.ack'> {
  deliveryTag: number
  multiple?: boolean
}
export interface BasicNack extends Command<'basic.nack'> {
  deliveryTag: number
  multiple?: boolean
  requeue?: boolean
}
export interface BasicReject extends Command<'basic.reject'> {
  deliveryTag: number
  requeue?: boolean
}
export interface BasicRecover extends Command<'basic.recover'> {
  requeue?: boolean
}

export type ClientCommand =
  | ChannelOpen
  | ChannelClose
  | BasicQos
  | ExchangeDeclare
  | ExchangeDelete
  | ExchangeBind
  | ExchangeUnbind
  | QueueDeclare
  | QueueBind
  | QueueUnbind
  | QueuePurge
  | QueueDelete
  | BasicPublish
  | BasicConsume
  | BasicCancel
  | BasicGet
  | BasicAck
  | BasicNack
  | BasicReject
  | BasicRecover

export type CommandOp = ClientCommand['op']

/** What a successful reply carries, per command. */
export interface ReplyResults {
  'channel.open': Record<string, never>
  'channel.close': Record<string, never>
  'basic.qos': Record<string, never>
  'exchange.declare': Record<string, never>
  'exchange.delete': Record<string, never>
  'exchange.bind': Record<string, never>
  'exchange.unbind': Record<string, never>
  'queue.declare': { queue: string; messageCount: number; consumerCount: number }
  'queue.bind': Record<string, never>
  'queue.unbind': Record<string, never>
  'queue.purge': { messageCount: number }
  'queue.delete': { messageCount: number }
  /**
   * The publisher confirm: every target queue has the message (and, if persistent, on disk).
   * `duplicate`: a retry of a message the broker had already taken; nothing was stored again.
   */
  'basic.publish': { routed: boolean; duplicate?: true }
  'basic.consume': { consumerTag: string }
  'basic.cancel': Record<string, never>
  'basic.get': { message: GetOk | null; messageCount: number }
  'basic.ack': Record<string, never>
  'basic.nack': Record<string, never>
  'basic.reject': Record<string, never>
  'basic.recover': Record<string, never>
}

// ---------------------------------------------------------------- events

export interface DeliveredMessage {
  deliveryTag: number
  redelivered: boolean
  exchange: string
  routingKey: string
  properties: MessageProperties
  body: Body
}

export interface GetOk extends DeliveredMessage {}

export interface Ok {
  readonly op: 'ok'
  readonly id: number
  /**
   * Answers every request from `id` through `through` with the same `result`: consecutive
   * confirms in one frame (see confirms.ts). At most MAX_OK_RANGE ids.
   */
  readonly through?: number
  readonly result: unknown
}
export interface Fail {
  readonly op: 'error'
  readonly id: number
  readonly error: ErrorData
}
export interface BasicDeliver extends DeliveredMessage {
  readonly op: 'basic.deliver'
  readonly channel: number
  readonly consumerTag: string
}
export interface BasicReturn {
  readonly op: 'basic.return'
  readonly channel: number
  readonly replyCode: number
  readonly replyText: string
  readonly exchange: string
  readonly routingKey: string
  readonly properties: MessageProperties
  readonly body: Body
}
/** Broker-initiated cancel (the queue was deleted, or a single-active-consumer change). */
export interface BasicCancelNotify {
  readonly op: 'basic.cancel-notify'
  readonly channel: number
  readonly consumerTag: string
}
/** The broker closed a channel because of a soft error. */
export interface ChannelClosed {
  readonly op: 'channel.closed'
  readonly channel: number
  readonly error: ErrorData
}
/** The broker closed the connection because of a hard error. */
export interface ConnectionClosed {
  readonly op: 'connection.closed'
  readonly error: ErrorData
}

export type ServerEvent = Ok | Fail | BasicDeliver | BasicReturn | BasicCancelNotify | ChannelClosed | ConnectionClosed

// ---------------------------------------------------------------- link handshake

export type ClientKind = 'window' | 'iframe' | 'dedicated-worker' | 'shared-worker' | 'service-worker' | 'node' | 'unknown'

/**
 * First frame of a client on the broker channel. A hello never replaces a live session of the
 * same client id unless it names that session (`session`, the id its welcome carried) or the
 * client's Web Lock is gone: a stale context, or a buggy one, cannot take a client's place.
 */
export interface Hello {
  readonly op: 'hello'
  readonly clientId: string
  readonly protocol: number
  readonly kind: ClientKind
  /** An optional label shown in the management console. */
  readonly name?: string
  /** The session this client held before (after `unknown-session`, a bfcache restore). */
  readonly session?: string
}
/**
 * Where the broker keeps durable state. 'durable': IndexedDB (or a storage the app supplied);
 * 'memory': the app chose memory, nothing survives a restart; 'unavailable': IndexedDB could
 * not be opened, so persistent publishes to durable queues are nacked (STORAGE_UNAVAILABLE).
 */
export type StorageState = 'durable' | 'memory' | 'unavailable'

/** The broker's answer to `hello`, on the client's own channel or port. */
export interface Welcome {
  readonly op: 'welcome'
  readonly clientId: string
  readonly protocol: number
  /** Incremented on every broker start; a new epoch means the broker lost its memory. */
  readonly epoch: number
  readonly brokerId: string
  /** The session's unguessable id: every later batch and the goodbye carry it. */
  readonly session: string
  readonly storage?: StorageState
}
/** A client says goodbye (close, pagehide); only the session it names ends. */
export interface Goodbye {
  readonly op: 'goodbye'
  readonly clientId: string
  readonly session: string
}
/** Probe used to find out whether a broker is alive (workers cannot start one). */
export interface Ping {
  readonly op: 'ping'
  readonly clientId: string
  readonly nonce: number
}
export interface Pong {
  readonly op: 'pong'
  readonly nonce: number
  readonly epoch: number
}
/**
 * The broker does not know the session a batch named (it ended, it was replaced, the broker
 * restarted): say hello again. `session` is the one the batch carried; absent when a new
 * broker tells every live client at once (takeover), meaning whatever session it holds.
 */
export interface UnknownSession {
  readonly op: 'unknown-session'
  readonly clientId: string
  readonly session?: string
  readonly epoch: number
}

export type ClientFrame = ClientCommand | Hello | Goodbye | Ping
export type ServerFrame = ServerEvent | Welcome | Pong | UnknownSession

/**
 * Frames travel in batches; clients tag theirs so the broker knows whose they are. Commands
 * run only when `session` is the sender's live session; a hello needs none.
 */
export interface ClientBatch {
  readonly from: string
  readonly session?: string
  /** Publishes compact (compact.ts). */
  readonly frames: readonly WireClientFrame[]
}
