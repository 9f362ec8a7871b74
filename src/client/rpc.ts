/**
 * Request/reply over queues (Kombu's request/reply pattern and `send_reply`). The requester
 * owns one exclusive, server-named reply queue per connection, consumed without acks; each
 * request carries `replyTo` and a fresh `correlationId`. A server answers with `reply`, which
 * publishes to the default exchange under the request's `replyTo`.
 */
import type { Channel } from './channel.js'
import type { Connection } from './connection.js'
import type { Consumer } from './consumer.js'
import { TimeoutError } from './errors.js'
import { Exchange } from './exchange.js'
import type { Message } from './message.js'
import type { MessageOptions } from './publish.js'
import { Queue } from './queue.js'
import { Producer, type PublishConfirm } from './producer.js'
import { checkAccepted, resolveAccept } from './serialization.js'
import { deferred, type Deferred } from './util/deferred.js'

export interface RpcOptions extends Omit<MessageOptions, 'replyTo' | 'correlationId'> {
  /** With an Exchange (or a string plus routingKey, naming an exchange): the routing key. */
  routingKey?: string
  /** Milliseconds to wait for the reply; default the connection's requestTimeout. */
  timeout?: number
  signal?: AbortSignal
  /** Accepted content types or serializer names for the reply. */
  accept?: Iterable<string>
}

export type RpcHandler<Req, Res> = (body: Req, message: Message<Req>) => Res | Promise<Res>

export interface ServeOptions {
  prefetch?: number
  /** Serializer of the replies (default json). */
  serializer?: string
  accept?: Iterable<string>
}

let sequence = 0
const correlationId = (clientId: string) => `${clientId}.${Date.now().toString(36)}.${(++sequence).toString(36)}`

/** The requester side: one reply queue per connection, created on first use. */
export class ReplyClient {
  readonly #connection: Connection
  readonly #pending = new Map<string, Deferred<Message<unknown>>>()
  #queue: Promise<Queue<unknown>> | undefined
  #channel: Channel | undefined

  constructor(connection: Connection) {
    this.#connection = connection
  }

  async call<Req, Res>(target: Exchange<Req> | Queue<Req> | string, body: Req, options: RpcOptions): Promise<Res> {
    const { routingKey, timeout = this.#connection.requestTimeout, signal, accept, ...message } = options
    signal?.throwIfAborted()
    const timeoutError = new TimeoutError(`no reply within ${timeout} ms`)
    const replyQueue = await this.#replyQueue()
    const id = correlationId(this.#connection.clientId)
    const waiter = deferred<Message<unknown>>()
    this.#pending.set(id, waiter)
    const timer = setTimeout(() => waiter.reject(timeoutError), timeout)
    const onAbort = () => waiter.reject(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const [exchange, key] = route(target, routingKey)
      const producer = new Producer<Req>(this.#channel!, { exchange })
      await Promise.race([
        producer.publish(body, { ...message, routingKey: key, replyTo: replyQueue.name, correlationId: id }),
        waiter.promise,
      ])
      const reply = await waiter.promise
      if (accept) checkAccepted(reply.contentType, resolveAccept(accept))
      return reply.body as Res
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      this.#pending.delete(id)
    }
  }

  #replyQueue(): Promise<Queue<unknown>> {
    this.#queue ??= this.#createReplyQueue().catch((error: unknown) => {
      this.#queue = undefined
      throw error
    })
    return this.#queue
  }

  async #createReplyQueue(): Promise<Queue<unknown>> {
    const channel = await this.#connection.channel()
    this.#channel = channel
    const queue = new Queue('', { exclusive: true, autoDelete: true, durable: false }).bind(channel)
    await queue.declare()
    await channel.basicConsume(
      queue.name,
      {
        deliver: (message) => {
          Promise.resolve(message).then((m) => {
            const id = m.properties.correlationId
            if (id !== undefined) this.#pending.get(id)?.resolve(m)
          })
        },
        ended: () => {
          // The channel or queue is gone: the next call creates a new reply queue.
          this.#queue = undefined
        },
      },
      { noAck: true },
    )
    return queue
  }
}

/** Where a request goes: a Queue or a bare name through the default exchange. */
const route = (target: Exchange<any> | Queue<any> | string, routingKey: string | undefined): [Exchange<any> | string, string] => {
  if (target instanceof Exchange) return [target, routingKey ?? '']
  if (target instanceof Queue) return ['', target.name]
  return routingKey === undefined ? ['', target] : [target, routingKey]
}

/** Options of `reply`: the message's, and the exchange to publish the reply to (default: the default exchange). */
export type ReplyOptions = Omit<MessageOptions, 'correlationId'> & { exchange?: Exchange<any> | string }

/** Publishes `body` as the reply to `request` (Kombu's send_reply). */
export const reply = <Res>(
  connection: Connection,
  request: Message<unknown>,
  body: Res,
  options: ReplyOptions = {},
): Promise<PublishConfirm> => {
  const { replyTo, correlationId: id } = request.properties
  if (!replyTo) return Promise.reject(new TypeError('the request has no replyTo: nothing to reply to'))
  const { exchange = '', ...message } = options
  return connection.producer<Res>({ exchange }).publish(body, {
    ...message,
    routingKey: replyTo,
    deliveryMode: message.deliveryMode ?? 1,
    ...(id === undefined ? {} : { correlationId: id }),
  })
}

/**
 * Consumes `queue` and answers each request with the handler's result, then acks it. A
 * throwing handler is reported on `connection.status` and the request is rejected (not
 * requeued), so the requester times out.
 */
export const serve = async <Req, Res>(
  connection: Connection,
  queue: Queue<Req> | string,
  handler: RpcHandler<Req, Res>,
  options: ServeOptions = {},
): Promise<Consumer<Req>> => {
  const consumer = connection.consumer<Req>(queue, {
    ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
    ...(options.accept ? { accept: options.accept } : {}),
    onMessage: async (message) => {
      try {
        const result = await handler(message.body, message)
        await reply(connection, message as Message<unknown>, result, options.serializer ? { serializer: options.serializer } : {})
        message.ack()
      } catch (error) {
        if (!message.acknowledged) message.reject({ requeue: false })
        throw error
      }
    },
  })
  return consumer.consume()
}
