/**
 * The engine's failures, internal to it: the broker turns each into ErrorData at its boundary
 * (`toData`), built from the one table of wire errors in protocol/errors.ts, and clients
 * rebuild that into their classes. Nothing else of these classes leaves the engine.
 */
import { replyText } from '../protocol/codes.js'
import { wireError, type ErrorData, type WireErrorCode } from '../protocol/errors.js'

/** The AMQP reply codes the engine fails with, and their code in the wire table. */
const CODES = {
  311: 'CONTENT_TOO_LARGE',
  312: 'NO_ROUTE',
  403: 'ACCESS_REFUSED',
  404: 'NOT_FOUND',
  405: 'RESOURCE_LOCKED',
  406: 'PRECONDITION_FAILED',
  503: 'COMMAND_INVALID',
  504: 'CHANNEL_ERROR',
  530: 'NOT_ALLOWED',
  540: 'NOT_IMPLEMENTED',
  541: 'INTERNAL_ERROR',
} as const satisfies Record<number, WireErrorCode>

export type EngineReplyCode = keyof typeof CODES

/** An AMQP failure inside the engine. */
export class AmqpError extends Error {
  constructor(
    readonly replyCode: EngineReplyCode,
    message: string,
  ) {
    super(`${replyText(replyCode)} - ${message}`)
  }

  toData(): ErrorData {
    return wireError(CODES[this.replyCode], this.message)
  }
}

export const notFound = (what: string) => new AmqpError(404, `no ${what}`)
export const accessRefused = (why: string) => new AmqpError(403, why)
export const resourceLocked = (why: string) => new AmqpError(405, why)
export const preconditionFailed = (why: string) => new AmqpError(406, why)
export const notImplemented = (why: string) => new AmqpError(540, why)
export const commandInvalid = (why: string) => new AmqpError(503, why)

/** A publish the broker refused (reject-publish overflow, storage failure, memory limit, no storage): a confirm nack. */
export class NackError extends Error {
  constructor(
    message: string,
    readonly code: 'NACK' | 'RESOURCE_LIMIT' | 'STORAGE_UNAVAILABLE' = 'NACK',
  ) {
    super(message)
  }

  toData(): ErrorData {
    return wireError(this.code, this.message)
  }
}
