/**
 * Request/reply over queues (Kombu's request/reply pattern and `send_reply`). The requester
 * owns one exclusive, server-named reply queue per connection, consumed without acks; each
 * request carries `replyTo` and a fresh `correlationId`. A server answers with `reply`, which
 * publishes to the default exchange under the request's `replyTo`.
 */
import type { Connection } from './connection.js'
import type { Consumer } from './consumer.js'
import type { TimeoutError } from './errors.js'
import type { Exchange, PublishConfirm } from './exchange.js'
import type { Message } from './message.js'
import type { MessageOptions } from './publish.js'
import type { Queue } from './queue.js'

// Loaded on first use (conn.rpc(), or the `warren/rpc` subpath), so this module imports no value
// from the client core: whatever it needs it reaches through the connection. A lazy module
// sharing core modules would make bundlers split those out of the page's own chunk.

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
  readonly #pending = new Map<string, (reply: Message<unknown>) => void>()
  #queue: Promise<string> | undefined

  constructor(connection: Connection) {
    this.#connection = connection
  }

  /**
   * Publishes a request and resolves with the reply. `timeoutError` is made by the caller, where
   * the request was made (its stack is the useful one); the caller checks the reply's content type.
   */
  async call<Req>(target: Exchange<Req> | Queue<Req> | string, body: Req, options: RpcOptions, timeoutError: TimeoutError): Promise<Message<unknown>> {
    const { routingKey, timeout = this.#connection.requestTimeout, signal, accept: _accept, ...message } = options
    signal?.throwIfAborted()
    const replyQueue = await this.#replyQueue()
    const id = correlationId(this.#connection.clientId)
    let fail!: (reason: unknown) => void
    const replied = new Promise<Message<unknown>>((resolve, reject) => {
      this.#pending.set(id, resolve)
      fail = reject
    })
    const timer = setTimeout(() => fail(timeoutError), timeout)
    const onAbort = () => fail(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const [exchange, key] = route(target, routingKey)
      const producer = this.#connection.producer<Req>({ exchange })
      await Promise.race([
        producer.publish(body, { ...message, routingKey: key, replyTo: this.#connection.topology.resolve(replyQueue), correlationId: id }),
        replied,
      ])
      return await replied
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      this.#pending.delete(id)
    }
  }

  /** The reply queue's name (as declared: recovery may rename it, `topology.resolve` follows). */
  #replyQueue(): Promise<string> {
    this.#queue ??= this.#createReplyQueue().catch((error: unknown) => {
      this.#queue = undefined
      throw error
    })
    return this.#queue
  }

  async #createReplyQueue(): Promise<string> {
    const channel = await this.#connection.channel()
    const { queue } = await channel.queueDeclare({ queue: '', durable: false, exclusive: true, autoDelete: true, passive: false, arguments: {} })
    await channel.basicConsume(
      queue,
      {
        deliver: (message) => {
          Promise.resolve(message).then((m) => {
            const id = m.properties.correlationId
            if (id !== undefined) this.#pending.get(id)?.(m)
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

/**
 * Where a request goes: a Queue or a bare name through the default exchange. (Told apart by
 * shape, not instanceof: this module imports no class of the core.)
 */
const route = (target: Exchange<any> | Queue<any> | string, routingKey: string | undefined): [Exchange<any> | string, string] => {
  if (typeof target === 'string') return routingKey === undefined ? ['', target] : [target, routingKey]
  if ('exclusive' in target) return ['', target.name]
  return [target, routingKey ?? '']
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
