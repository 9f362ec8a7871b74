import { isSoftError, replyText } from '../protocol/codes.js'
import { errorData, type ErrorData } from '../protocol/errors.js'

const NAMES: Record<number, string> = {
  311: 'ContentTooLargeError',
  312: 'NoRouteError',
  403: 'AccessRefusedError',
  404: 'NotFoundError',
  405: 'ResourceLockedError',
  406: 'PreconditionFailedError',
  501: 'FrameError',
  502: 'FrameError',
  503: 'CommandInvalidError',
  504: 'ChannelError',
  506: 'ResourceError',
  530: 'NotAllowedError',
  540: 'NotImplementedError',
  541: 'InternalError',
}

/** An AMQP failure inside the engine; turned into ErrorData at the boundary. */
export class AmqpError extends Error {
  constructor(
    readonly replyCode: number,
    message: string,
  ) {
    super(`${replyText(replyCode)} - ${message}`)
  }

  get soft(): boolean {
    return isSoftError(this.replyCode)
  }

  toData(): ErrorData {
    return errorData(NAMES[this.replyCode] ?? 'ChannelError', replyText(this.replyCode), this.message, {
      replyCode: this.replyCode,
      closes: this.soft ? 'channel' : 'connection',
    })
  }
}

export const notFound = (what: string) => new AmqpError(404, `no ${what}`)
export const accessRefused = (why: string) => new AmqpError(403, why)
export const resourceLocked = (why: string) => new AmqpError(405, why)
export const preconditionFailed = (why: string) => new AmqpError(406, why)
export const notImplemented = (why: string) => new AmqpError(540, why)
export const commandInvalid = (why: string) => new AmqpError(503, why)

/** A publish the broker refused (reject-publish overflow, storage failure, memory limit): a confirm nack. */
export class NackError extends Error {
  constructor(
    message: string,
    readonly code: 'NACK' | 'RESOURCE_LIMIT' = 'NACK',
  ) {
    super(message)
  }
}
