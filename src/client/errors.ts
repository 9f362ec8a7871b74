/**
 * One error hierarchy for the whole client. Every class has a stable `code` (class names do
 * not survive minification, codes do), the AMQP `replyCode` when the failure is an AMQP one,
 * and chains its `cause`. Broker errors cross the wire as `ErrorData` and are rebuilt into the
 * right class by `fromErrorData`; protocol/errors.ts lists every one the broker can send.
 * Where a class sits says what the broker closed: a ChannelError closed the channel, a
 * ConnectionError the connection; the others closed nothing.
 */
import { isSoftError, type ErrorData } from '../protocol/errors.js'

export interface WarrenErrorOptions {
  cause?: unknown
  /** Overrides the class's default code (errors rebuilt from the broker keep its code). */
  code?: string
  /** The AMQP reply code, when the failure is an AMQP one. */
  replyCode?: number
}

export class WarrenError extends Error {
  static readonly code: string = 'WARREN_ERROR'
  static readonly replyCode: number | undefined = undefined
  override name = 'WarrenError'
  /** Stable, machine-readable failure code. */
  readonly code: string
  /** The AMQP reply code (404, 406, 541…), when the failure is an AMQP one. */
  readonly replyCode: number | undefined
  /** True when retrying after a reconnect may succeed (Kombu's "recoverable" errors). */
  get recoverable(): boolean {
    return false
  }

  constructor(message: string, options: WarrenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code ?? (new.target as unknown as { code: string }).code
    this.replyCode = options.replyCode ?? (new.target as unknown as { replyCode?: number }).replyCode
  }
}

// ---------------------------------------------------------------- AMQP errors

/** A soft AMQP error: the broker closed the channel, the connection lives on. */
export class ChannelError extends WarrenError {
  static override readonly code: string = 'CHANNEL_ERROR'
  override name = 'ChannelError'
}

/** A hard AMQP error or a lost connection: every channel of the connection is gone. */
export class ConnectionError extends WarrenError {
  static override readonly code: string = 'CONNECTION_ERROR'
  override name = 'ConnectionError'
}

/** 311: a message too large for the broker. */
export class ContentTooLargeError extends ChannelError {
  static override readonly code = 'CONTENT_TOO_LARGE'
  static override readonly replyCode = 311
  override name = 'ContentTooLargeError'
}
/** 312: a mandatory message no queue took (the broker returns these with basic.return). */
export class NoRouteError extends ChannelError {
  static override readonly code = 'NO_ROUTE'
  static override readonly replyCode = 312
  override name = 'NoRouteError'
}
/** 404: the exchange or queue does not exist. */
export class NotFoundError extends ChannelError {
  static override readonly code = 'NOT_FOUND'
  static override readonly replyCode = 404
  override name = 'NotFoundError'
}
/** 403: the default exchange, a reserved `amq.*` name, or an exclusive consumer conflict. */
export class AccessRefusedError extends ChannelError {
  static override readonly code = 'ACCESS_REFUSED'
  static override readonly replyCode = 403
  override name = 'AccessRefusedError'
}
/** 405: an exclusive queue of another connection. */
export class ResourceLockedError extends ChannelError {
  static override readonly code = 'RESOURCE_LOCKED'
  static override readonly replyCode = 405
  override name = 'ResourceLockedError'
}
/** 406: inequivalent redeclare, unknown delivery tag, if-unused/if-empty, bad expiration… */
export class PreconditionFailedError extends ChannelError {
  static override readonly code = 'PRECONDITION_FAILED'
  static override readonly replyCode = 406
  override name = 'PreconditionFailedError'
}
/** The channel was closed by the application; nothing more can be done on it. */
export class ChannelClosedError extends ChannelError {
  static override readonly code = 'CHANNEL_CLOSED'
  override name = 'ChannelClosedError'
}

/** 540: e.g. `immediate` publishes, `prefetchSize`. */
export class NotImplementedError extends ConnectionError {
  static override readonly code = 'NOT_IMPLEMENTED'
  static override readonly replyCode = 540
  override name = 'NotImplementedError'
}
/**
 * [remote] An AMQP operation the remote broker's protocol cannot carry out (over STOMP: declare,
 * bind or delete an exchange, passive declares, purge…). Nothing was closed.
 */
export class NotSupportedError extends WarrenError {
  static override readonly code = 'NOT_SUPPORTED'
  override name = 'NotSupportedError'
}
/** 503: a command the broker cannot carry out as sent (e.g. an unknown exchange type). */
export class CommandInvalidError extends ConnectionError {
  static override readonly code = 'COMMAND_INVALID'
  static override readonly replyCode = 503
  override name = 'CommandInvalidError'
}
/** 530: e.g. a consumer tag already in use on the channel. */
export class NotAllowedError extends ConnectionError {
  static override readonly code = 'NOT_ALLOWED'
  static override readonly replyCode = 530
  override name = 'NotAllowedError'
}
/** No broker answered (connect timeout), or no transport is registered for the URL. */
export class BrokerUnavailableError extends ConnectionError {
  static override readonly code = 'BROKER_UNAVAILABLE'
  override name = 'BrokerUnavailableError'
  override get recoverable(): boolean {
    return true
  }
}
/** A request was pending when the link closed or was lost. */
export class ConnectionClosedError extends ConnectionError {
  static override readonly code = 'CONNECTION_CLOSED'
  override name = 'ConnectionClosedError'
  override get recoverable(): boolean {
    return true
  }
}

// ---------------------------------------------------------------- answered, nothing closed

/** 502/503: the broker could not make sense of a frame; it dropped it and closed nothing. */
export class FrameError extends WarrenError {
  static override readonly code: string = 'FRAME_ERROR'
  static override readonly replyCode: number | undefined = 502
  override name = 'FrameError'
}
/**
 * 504: a command on a channel that is not open, or channel.open on one that is. RabbitMQ
 * closes the connection; this broker answers and keeps it (a stray frame of a stale context
 * must not take a live connection down).
 */
export class ChannelStateError extends WarrenError {
  static override readonly code = 'CHANNEL_ERROR'
  static override readonly replyCode = 504
  override name = 'ChannelStateError'
}
/** 541: a bug of the broker's; it answered the command and kept the connection. */
export class InternalError extends WarrenError {
  static override readonly code = 'INTERNAL_ERROR'
  static override readonly replyCode = 541
  override name = 'InternalError'
}

// ---------------------------------------------------------------- client errors

/** A request got no reply in time. Created where the request was made, for a useful stack. */
export class TimeoutError extends WarrenError {
  static override readonly code = 'TIMEOUT'
  override name = 'TimeoutError'
}
/** The broker nacked a publish (e.g. `x-overflow: reject-publish`, a storage failure). */
export class PublishNackError extends WarrenError {
  static override readonly code: string = 'NACK'
  override name = 'PublishNackError'
}
/** Nacked: the broker holds as many ready messages in memory as it may (maxReadyMessages/Bytes). */
export class ResourceLimitError extends PublishNackError {
  static override readonly code = 'RESOURCE_LIMIT'
  override name = 'ResourceLimitError'
}
/**
 * Nacked: a persistent message for a durable queue, and the broker cannot open IndexedDB (so
 * it would not survive a restart). The connection's `storage.broker` says 'unavailable'.
 */
export class StorageUnavailableError extends PublishNackError {
  static override readonly code = 'STORAGE_UNAVAILABLE'
  override name = 'StorageUnavailableError'
}
/** An entity method that needs a channel was called on an unbound entity. */
export class NotBoundError extends WarrenError {
  static override readonly code = 'NOT_BOUND'
  override name = 'NotBoundError'
}
/** A message was settled twice (ack after ack, reject after ack…). */
export class MessageStateError extends WarrenError {
  static override readonly code = 'MESSAGE_STATE'
  override name = 'MessageStateError'
}
/** `SimpleQueue.get` timed out or `getNowait` found nothing. */
export class EmptyError extends WarrenError {
  static override readonly code = 'EMPTY'
  override name = 'EmptyError'
}

export class SerializationError extends WarrenError {
  static override readonly code: string = 'SERIALIZATION'
  override name = 'SerializationError'
}
export class EncodeError extends SerializationError {
  static override readonly code = 'ENCODE'
  override name = 'EncodeError'
}
export class DecodeError extends SerializationError {
  static override readonly code = 'DECODE'
  override name = 'DecodeError'
}
/** No serializer or compression is registered under that name or content type. */
export class SerializerNotInstalledError extends SerializationError {
  static override readonly code: string = 'SERIALIZER_NOT_INSTALLED'
  override name = 'SerializerNotInstalledError'
}
/** The message's content type is not in the consumer's `accept` list. */
export class ContentDisallowedError extends SerializerNotInstalledError {
  static override readonly code = 'CONTENT_DISALLOWED'
  override name = 'ContentDisallowedError'
}

// ---------------------------------------------------------------- rebuilding

type ErrorClass = new (message: string, options?: WarrenErrorOptions) => WarrenError

const byName: Record<string, ErrorClass> = {
  WarrenError,
  ChannelError,
  ConnectionError,
  NotFoundError,
  AccessRefusedError,
  ResourceLockedError,
  PreconditionFailedError,
  ChannelClosedError,
  ContentTooLargeError,
  NoRouteError,
  NotImplementedError,
  NotSupportedError,
  CommandInvalidError,
  NotAllowedError,
  FrameError,
  ChannelStateError,
  InternalError,
  BrokerUnavailableError,
  ConnectionClosedError,
  TimeoutError,
  PublishNackError,
  ResourceLimitError,
  StorageUnavailableError,
  NotBoundError,
  MessageStateError,
  EmptyError,
  SerializationError,
  EncodeError,
  DecodeError,
  SerializerNotInstalledError,
  ContentDisallowedError,
}

const byReplyCode: Record<number, ErrorClass> = {
  311: ContentTooLargeError,
  312: NoRouteError,
  403: AccessRefusedError,
  404: NotFoundError,
  405: ResourceLockedError,
  406: PreconditionFailedError,
  501: FrameError,
  502: FrameError,
  504: ChannelStateError,
  530: NotAllowedError,
  540: NotImplementedError,
  541: InternalError,
}

/** Names too generic to pick a class: the reply code and the scope decide instead. */
const generic = new Set(['WarrenError', 'ChannelError', 'ConnectionError'])

/**
 * Rebuilds a broker error into its class: by a specific name, then by reply code, then by
 * what it closed (errors of a newer or older broker still land in the right branch).
 */
export const fromErrorData = (data: ErrorData, options: { cause?: unknown } = {}): WarrenError => {
  const { name, code, message, replyCode, closes } = data
  let Class: ErrorClass | undefined = Object.hasOwn(byName, name) && !generic.has(name) ? byName[name] : undefined
  if (!Class && code === 'NACK') Class = PublishNackError
  if (!Class && replyCode !== undefined) Class = byReplyCode[replyCode]
  if (!Class && closes === 'channel') Class = ChannelError
  if (!Class && closes === 'connection') Class = ConnectionError
  if (!Class && replyCode !== undefined) Class = isSoftError(replyCode) ? ChannelError : ConnectionError
  if (!Class && Object.hasOwn(byName, name)) Class = byName[name]
  return new (Class ?? WarrenError)(message, { code, ...(replyCode === undefined ? {} : { replyCode }), ...(options.cause === undefined ? {} : { cause: options.cause }) })
}

/** Whether `ensure`/`retry` should reconnect and try again after this error. */
export const isRecoverable = (error: unknown): boolean => error instanceof WarrenError && error.recoverable
