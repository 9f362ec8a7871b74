/**
 * One error hierarchy for the whole client. Every class has a stable `code` (class names do
 * not survive minification, codes do) and chains its `cause`. Broker errors cross the wire
 * as `ErrorData` and are rebuilt into the right class by `fromErrorData`.
 */
import type { ErrorData } from '../protocol/errors.js'
import { isSoftError } from '../protocol/codes.js'

export interface WarrenErrorOptions {
  cause?: unknown
  /** Overrides the class's default code (errors rebuilt from the broker keep its code). */
  code?: string
  /** The AMQP reply code, when the failure is an AMQP one. */
  replyCode?: number
}

export class WarrenError extends Error {
  static readonly code: string = 'WARREN_ERROR'
  override name = 'WarrenError'
  /** Stable, machine-readable failure code. */
  readonly code: string
  /** True when retrying after a reconnect may succeed (Kombu's "recoverable" errors). */
  get recoverable(): boolean {
    return false
  }

  constructor(message: string, options: WarrenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code ?? (new.target as unknown as { code: string }).code
  }
}

// ---------------------------------------------------------------- AMQP errors

/** A soft AMQP error: the broker closed the channel, the connection lives on. */
export class ChannelError extends WarrenError {
  static override readonly code: string = 'CHANNEL_ERROR'
  static readonly replyCode: number | undefined = undefined
  override name = 'ChannelError'
  readonly replyCode: number | undefined
  constructor(message: string, options: WarrenErrorOptions = {}) {
    super(message, options)
    this.replyCode = options.replyCode ?? (new.target as unknown as { replyCode?: number }).replyCode
  }
}

/** A hard AMQP error or a lost connection: every channel of the connection is gone. */
export class ConnectionError extends WarrenError {
  static override readonly code: string = 'CONNECTION_ERROR'
  static readonly replyCode: number | undefined = undefined
  override name = 'ConnectionError'
  readonly replyCode: number | undefined
  constructor(message: string, options: WarrenErrorOptions = {}) {
    super(message, options)
    this.replyCode = options.replyCode ?? (new.target as unknown as { replyCode?: number }).replyCode
  }
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
/** 501/502: the broker could not make sense of a frame. */
export class FrameError extends ConnectionError {
  static override readonly code = 'FRAME_ERROR'
  static override readonly replyCode = 501
  override name = 'FrameError'
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

// ---------------------------------------------------------------- client errors

/** A request got no reply in time. Created where the request was made, for a useful stack. */
export class TimeoutError extends WarrenError {
  static override readonly code = 'TIMEOUT'
  override name = 'TimeoutError'
}
/** The broker nacked a publish (e.g. `x-overflow: reject-publish`, a storage failure). */
export class PublishNackError extends WarrenError {
  static override readonly code = 'PUBLISH_NACK'
  override name = 'PublishNackError'
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
  NotImplementedError,
  FrameError,
  BrokerUnavailableError,
  ConnectionClosedError,
  TimeoutError,
  PublishNackError,
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
  403: AccessRefusedError,
  404: NotFoundError,
  405: ResourceLockedError,
  406: PreconditionFailedError,
  501: FrameError,
  502: FrameError,
  540: NotImplementedError,
}

/** Names too generic to pick a class: the reply code and the scope decide instead. */
const generic = new Set(['WarrenError', 'ChannelError', 'ConnectionError'])

/**
 * Rebuilds a broker error into its class: by a specific name, then by reply code, then by
 * what it closed (AMQP's 504 is called CHANNEL_ERROR but closes the connection).
 */
export const fromErrorData = (data: ErrorData): WarrenError => {
  const { name, code, message, replyCode, closes } = data
  let Class: ErrorClass | undefined = Object.hasOwn(byName, name) && !generic.has(name) ? byName[name] : undefined
  if (!Class && code === 'NACK') Class = PublishNackError
  if (!Class && replyCode !== undefined) Class = byReplyCode[replyCode]
  if (!Class && closes === 'channel') Class = ChannelError
  if (!Class && closes === 'connection') Class = ConnectionError
  if (!Class && replyCode !== undefined) Class = isSoftError(replyCode) ? ChannelError : ConnectionError
  if (!Class && Object.hasOwn(byName, name)) Class = byName[name]
  return new (Class ?? WarrenError)(message, replyCode === undefined ? { code } : { code, replyCode })
}

/** Whether `ensure`/`retry` should reconnect and try again after this error. */
export const isRecoverable = (error: unknown): boolean => error instanceof WarrenError && error.recoverable
