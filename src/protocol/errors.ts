/**
 * Errors cross the wire as plain data and are rebuilt into classes on the client
 * (see client/errors.ts). `name` picks the class, `replyCode` is the AMQP code when
 * the failure is an AMQP one, `code` is the stable machine-readable string.
 */
export interface ErrorData {
  readonly name: string
  readonly code: string
  readonly message: string
  readonly replyCode?: number
  /** What was closed by this error: nothing, the channel (soft) or the connection (hard). */
  readonly closes?: 'channel' | 'connection'
}

export const errorData = (
  name: string,
  code: string,
  message: string,
  extra: { replyCode?: number; closes?: 'channel' | 'connection' } = {},
): ErrorData => ({ name, code, message, ...extra })
