/**
 * Errors cross the wire as plain data and are rebuilt into classes on the client
 * (see client/errors.ts). `name` picks the class, `code` is the stable machine-readable
 * string, `replyCode` is the AMQP code when the failure is an AMQP one, and `closes` says
 * what the broker closed because of it.
 */
export interface ErrorData {
  readonly name: string
  readonly code: string
  readonly message: string
  readonly replyCode?: number
  /** What was closed by this error: nothing, the channel (soft) or the connection (hard). */
  readonly closes?: 'channel' | 'connection'
}

/**
 * Soft errors (311, 312, 313, 403–406) close the channel; every other code closes the
 * connection. Here rather than with the code table (codes.ts): the client needs only this.
 */
const SOFT: ReadonlySet<number> = new Set([311, 312, 313, 403, 404, 405, 406])

export const isSoftError = (code: number): boolean => SOFT.has(code)

export const errorData = (
  name: string,
  code: string,
  message: string,
  extra: { replyCode?: number; closes?: 'channel' | 'connection' } = {},
): ErrorData => ({ name, code, message, ...extra })

/** One kind of error the broker or a link sends: everything but the message. */
export interface WireError {
  readonly name: string
  readonly replyCode?: number
  readonly closes?: 'channel' | 'connection'
}

/**
 * Every error that can reach a client, by code: the broker builds its ErrorData only from
 * here (`wireError`), and the client has one class per name (a test holds the two together).
 * `closes` is what the broker does, which is RabbitMQ's scope except for 504 and 541: a
 * command on a channel that is not open (a stray frame from a stale context) and the broker's
 * own bug are answered, and the connection lives on.
 */
export const WIRE_ERRORS = {
  // Soft AMQP errors: the broker closes the channel.
  CONTENT_TOO_LARGE: { name: 'ContentTooLargeError', replyCode: 311, closes: 'channel' },
  NO_ROUTE: { name: 'NoRouteError', replyCode: 312, closes: 'channel' },
  ACCESS_REFUSED: { name: 'AccessRefusedError', replyCode: 403, closes: 'channel' },
  NOT_FOUND: { name: 'NotFoundError', replyCode: 404, closes: 'channel' },
  RESOURCE_LOCKED: { name: 'ResourceLockedError', replyCode: 405, closes: 'channel' },
  PRECONDITION_FAILED: { name: 'PreconditionFailedError', replyCode: 406, closes: 'channel' },
  // Hard AMQP errors: the broker closes the connection.
  COMMAND_INVALID: { name: 'CommandInvalidError', replyCode: 503, closes: 'connection' },
  NOT_ALLOWED: { name: 'NotAllowedError', replyCode: 530, closes: 'connection' },
  NOT_IMPLEMENTED: { name: 'NotImplementedError', replyCode: 540, closes: 'connection' },
  // Answered, nothing closed: a frame the broker could not parse is dropped.
  FRAME_ERROR: { name: 'FrameError', replyCode: 502 },
  UNKNOWN_OP: { name: 'FrameError', replyCode: 503 },
  CHANNEL_ERROR: { name: 'ChannelStateError', replyCode: 504 },
  INTERNAL_ERROR: { name: 'InternalError', replyCode: 541 },
  // Publisher-confirm nacks: the message was not taken; nothing closed.
  NACK: { name: 'PublishNackError' },
  RESOURCE_LIMIT: { name: 'ResourceLimitError' },
  STORAGE_UNAVAILABLE: { name: 'StorageUnavailableError' },
  // Link failures, raised on the client's side of a link.
  BROKER_UNAVAILABLE: { name: 'BrokerUnavailableError' },
  CONNECTION_CLOSED: { name: 'ConnectionClosedError' },
  ENCODE: { name: 'EncodeError' },
  // [remote] An AMQP operation RabbitMQ's STOMP adapter cannot carry out (a direct stomp+ws connection).
  NOT_SUPPORTED: { name: 'NotSupportedError' },
} as const satisfies Record<string, WireError>

export type WireErrorCode = keyof typeof WIRE_ERRORS

/** The ErrorData of one wire error. */
export const wireError = (code: WireErrorCode, message: string): ErrorData => {
  const { name, ...extra } = WIRE_ERRORS[code] as WireError
  return { name, code, message, ...extra }
}
