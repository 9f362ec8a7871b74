/**
 * Link failures. The transport layer cannot import the client's error classes, so a LinkError
 * carries the `name` and `code` of the wire table (protocol/errors.ts): it is valid ErrorData,
 * and the client rebuilds it into its BrokerUnavailableError or ConnectionClosedError before
 * it reaches an application.
 */
import { WIRE_ERRORS, type ErrorData } from '../protocol/errors.js'

export type LinkErrorCode = 'BROKER_UNAVAILABLE' | 'CONNECTION_CLOSED'

export class LinkError extends Error implements ErrorData {
  override readonly name: string
  readonly code: LinkErrorCode

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = WIRE_ERRORS[code].name
  }
}

export const isLinkError = (error: unknown): error is LinkError => error instanceof LinkError
