/**
 * Turns a body and publish options into the `basic.publish` payload: serializer, compression,
 * properties. Shared by Producer and the low-level `Exchange.publish`.
 */
import type { Body, FieldTable, MessageProperties } from '../protocol/frames.js'
import { compress, encode } from './serialization.js'

/** 1 or `'transient'`: lost on broker restart; 2 or `'persistent'`: kept in durable queues. */
export type DeliveryMode = 1 | 2 | 'transient' | 'persistent'

export const deliveryModeOf = (mode: DeliveryMode | undefined): 1 | 2 | undefined =>
  mode === undefined ? undefined : mode === 1 || mode === 'transient' ? 1 : 2

export interface MessageOptions {
  /** Default: the exchange's delivery mode, else persistent (Kombu's default). */
  deliveryMode?: DeliveryMode
  /** 0–255; only queues with `maxPriority` order by it. */
  priority?: number
  /** Per-message TTL in milliseconds. */
  expiration?: number
  headers?: FieldTable
  /** A registered serializer name; default `'json'`. Ignored when `contentType` is given. */
  serializer?: string
  /** `'gzip'` or `'deflate'` (or any registered name). */
  compression?: string
  /** Giving a content type means the body is already encoded: it is sent as it is. */
  contentType?: string
  contentEncoding?: string
  correlationId?: string
  /** A queue name, or a Queue (its name is used). */
  replyTo?: string | { readonly name: string }
  messageId?: string
  /** A Date, or seconds since the epoch (AMQP's unit). */
  timestamp?: number | Date
  type?: string
  appId?: string
  userId?: string
}

export interface Prepared {
  properties: MessageProperties
  body: Body
}

const setIf = <K extends keyof MessageProperties>(props: MessageProperties, key: K, value: MessageProperties[K] | undefined) => {
  if (value !== undefined) props[key] = value
}

/** Synchronous unless the message is compressed. */
export const prepareMessage = (
  body: unknown,
  options: MessageOptions,
  defaults: { serializer?: string | undefined; compression?: string | undefined; deliveryMode?: DeliveryMode | undefined } = {},
): Prepared | Promise<Prepared> => {
  const encoded = encode(body, {
    serializer: options.serializer ?? defaults.serializer,
    contentType: options.contentType,
    contentEncoding: options.contentEncoding,
  })
  const properties: MessageProperties = {
    contentType: encoded.contentType,
    contentEncoding: encoded.contentEncoding,
    deliveryMode: deliveryModeOf(options.deliveryMode ?? defaults.deliveryMode) ?? 2,
  }
  const headers = options.headers ? { ...options.headers } : undefined
  setIf(properties, 'priority', options.priority)
  if (options.expiration !== undefined) properties.expiration = String(Math.max(0, Math.trunc(options.expiration)))
  setIf(properties, 'correlationId', options.correlationId)
  if (options.replyTo !== undefined) {
    properties.replyTo = typeof options.replyTo === 'string' ? options.replyTo : options.replyTo.name
  }
  setIf(properties, 'messageId', options.messageId)
  if (options.timestamp !== undefined) {
    properties.timestamp =
      options.timestamp instanceof Date ? Math.floor(options.timestamp.getTime() / 1000) : options.timestamp
  }
  setIf(properties, 'type', options.type)
  setIf(properties, 'appId', options.appId)
  setIf(properties, 'userId', options.userId)
  const compression = options.compression ?? defaults.compression
  if (!compression) {
    if (headers) properties.headers = headers
    return { properties, body: encoded.body }
  }
  // The codecs load on first use (a lazy chunk): most apps never compress.
  return compress(encoded.body, compression).then((compressed) => {
    properties.headers = { ...headers, compression: compressed.header }
    return { properties, body: compressed.body }
  })
}
