/**
 * A message the broker sent back (`basic.return`): published with `mandatory` and routed
 * nowhere. It reaches `onReturn` before the publish promise resolves.
 */
import type { BasicReturn, Body, FieldTable, MessageProperties } from '../protocol/frames.js'
import { decode, decompress } from './serialization.js'

export class ReturnedMessage<T = unknown> {
  readonly replyCode: number
  readonly replyText: string
  readonly exchange: string
  readonly routingKey: string
  readonly properties: Readonly<MessageProperties>
  /** The body as it came back, still compressed if it was. */
  readonly rawBody: Body

  constructor(frame: BasicReturn) {
    this.replyCode = frame.replyCode
    this.replyText = frame.replyText
    this.exchange = frame.exchange
    this.routingKey = frame.routingKey
    this.properties = frame.properties
    this.rawBody = frame.body
  }

  get headers(): FieldTable {
    return this.properties.headers ?? {}
  }

  /** The decoded body (decompressing first when needed). */
  async decode(): Promise<T> {
    const compression = this.headers['compression']
    const body = typeof compression === 'string' ? await decompress(this.rawBody, compression) : this.rawBody
    return decode(body, this.properties.contentType) as T
  }
}
