/**
 * AMQP properties ⇄ RabbitMQ's STOMP headers. RabbitMQ's STOMP adapter maps these header names
 * onto AMQP properties (`amqp-message-id` is the AMQP message id: STOMP's own `message-id` on
 * MESSAGE frames is the adapter's delivery id); every other header is an AMQP header. STOMP
 * header values are strings, so numbers and booleans in headers arrive as strings.
 */
import type { Body, FieldTable, MessageProperties } from '../protocol/frames.js'

/** Frame headers of STOMP itself (and the adapter's), never message headers. */
const FRAME_HEADERS = new Set([
  'destination', 'message-id', 'subscription', 'ack', 'redelivered', 'content-length', 'receipt',
  'receipt-id', 'transaction', 'id', 'prefetch-count', 'durable', 'auto-delete', 'exclusive',
])

/** STOMP SEND headers for a local message's properties. */
export function stompHeaders(properties: MessageProperties): Record<string, string> {
  const h: Record<string, string> = {}
  // Custom headers first: a property of the same name (below) wins.
  for (const [key, value] of Object.entries(properties.headers ?? {})) {
    if (FRAME_HEADERS.has(key) || value === undefined || value === null) continue
    h[key] = typeof value === 'string' ? value
      : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value)
      : JSON.stringify(value) ?? String(value)
  }
  const set = (key: string, value: string | number | undefined) => {
    if (value !== undefined) h[key] = String(value)
  }
  set('content-type', properties.contentType)
  set('content-encoding', properties.contentEncoding)
  if (properties.deliveryMode === 2) h.persistent = 'true'
  set('priority', properties.priority)
  set('correlation-id', properties.correlationId)
  set('reply-to', properties.replyTo)
  set('expiration', properties.expiration)
  set('amqp-message-id', properties.messageId)
  set('timestamp', properties.timestamp)
  set('type', properties.type)
  set('app-id', properties.appId)
  set('user-id', properties.userId)
  return h
}

/** Local properties for a STOMP MESSAGE frame's headers. */
export function propertiesOf(headers: Readonly<Record<string, string>>): MessageProperties {
  const p: { -readonly [K in keyof MessageProperties]: MessageProperties[K] } = {}
  const custom: FieldTable = {}
  for (const [key, value] of Object.entries(headers)) {
    switch (key) {
      case 'content-type': p.contentType = value; break
      case 'content-encoding': p.contentEncoding = value; break
      case 'persistent': if (value === 'true') p.deliveryMode = 2; break
      case 'priority': { const n = Number(value); if (Number.isInteger(n) && n >= 0 && n <= 255) p.priority = n; break }
      case 'correlation-id': p.correlationId = value; break
      case 'reply-to': p.replyTo = value; break
      case 'expiration': p.expiration = value; break
      case 'amqp-message-id': p.messageId = value; break
      case 'timestamp': { const n = Number(value); if (Number.isFinite(n)) p.timestamp = n; break }
      case 'type': p.type = value; break
      case 'app-id': p.appId = value; break
      case 'user-id': p.userId = value; break
      default: if (!FRAME_HEADERS.has(key)) custom[key] = value
    }
  }
  if (Object.keys(custom).length > 0) p.headers = custom
  return p
}

/** How a local body travels: text, or bytes; undefined when it cannot (a structured-clone object). */
export function stompBody(body: Body): { body: string } | { binaryBody: Uint8Array } | undefined {
  if (typeof body === 'string') return { body }
  if (body instanceof Uint8Array) return { binaryBody: body }
  if (body instanceof ArrayBuffer) return { binaryBody: new Uint8Array(body) }
  if (ArrayBuffer.isView(body)) return { binaryBody: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) }
  return undefined
}

/** Size of a STOMP body in bytes. */
export const bodyBytes = (body: { body: string } | { binaryBody: Uint8Array }): number =>
  'binaryBody' in body ? body.binaryBody.byteLength : new TextEncoder().encode(body.body).byteLength

/** Text content types arrive as strings, everything else as bytes. */
export const isTextContent = (contentType: string | undefined): boolean =>
  contentType === undefined || /^text\/|[/+]json\b|[/+]xml\b/i.test(contentType)

/** The STOMP destination of a remote exchange and routing key ('' = the default exchange: a queue). */
export const exchangeDestination = (exchange: string, routingKey: string): string =>
  exchange === '' ? `/queue/${routingKey}` : `/exchange/${exchange}/${routingKey}`
