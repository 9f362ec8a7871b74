/**
 * Link failures. The transport layer cannot import the client's error classes, so these
 * carry the same `name` and `code` as the client's BrokerUnavailableError and
 * ConnectionClosedError: a LinkError is valid ErrorData and `fromErrorData` rebuilds it.
 */
import type { ErrorData } from '../protocol/errors.js'

export type LinkErrorCode = 'BROKER_UNAVAILABLE' | 'CONNECTION_CLOSED'

const NAMES: Record<LinkErrorCode, string> = {
  BROKER_UNAVAILABLE: 'BrokerUnavailableError',
  CONNECTION_CLOSED: 'ConnectionClosedError',
}

export class LinkError extends Error implements ErrorData {
  override readonly name: string
  readonly code: LinkErrorCode

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = NAMES[code]
  }
}

export const isLinkError = (error: unknown): error is LinkError => error instanceof LinkError
