import type { MessageProperties } from '../protocol/frames.js'

/** A message as a queue holds it. One object per queue: routing to N queues makes N copies. */
export interface QueuedMessage {
  /** Position in its queue; requeued messages go back to this position. */
  seq: number
  exchange: string
  routingKey: string
  properties: MessageProperties
  body: unknown
  size: number
  /** Absolute expiry on the broker clock, if a TTL applies (survives requeue). */
  expiresAt: number | undefined
  redelivered: boolean
  /** Unsuccessful deliveries so far (x-delivery-count). */
  deliveryCount: number
  /** Kept in storage: persistent message on a durable queue. */
  stored: boolean
  /** The publisher's id for deduplication (stored with the message, remembered on recovery). */
  publishId?: string | undefined
}

/** Byte size of a body as far as the broker can tell (for x-max-length-bytes). */
export function bodySize(body: unknown): number {
  if (typeof body === 'string') return utf8Length(body)
  if (body instanceof ArrayBuffer) return body.byteLength
  if (ArrayBuffer.isView(body)) return body.byteLength
  if (body === null || body === undefined) return 0
  // Structured-clone bodies: an estimate is all we can do without serialising.
  try {
    return utf8Length(JSON.stringify(body) ?? '')
  } catch {
    return 0
  }
}

function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}
