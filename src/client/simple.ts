/**
 * Kombu's SimpleQueue and SimpleBuffer: a queue used like a local one. A name stands for a
 * direct exchange, a queue and a routing key, all with that name. `get` consumes in the
 * background and buffers; `getNowait` polls with basic.get.
 */
import type { Consumer } from './consumer.js'
import { EmptyError } from './errors.js'
import { Exchange, type ExchangeOptions } from './exchange.js'
import type { Message } from './message.js'
import { Producer, type PublishConfirm, type PublishOptions } from './producer.js'
import { Queue, type QueueOptions } from './queue.js'
import { channelOf, connectionOf, type ChannelTarget } from './target.js'
import { deferred, type Deferred } from './util/deferred.js'

export interface SimpleQueueOptions {
  noAck?: boolean
  /** Options of the queue made from a name (Kombu's queue_opts). */
  queueOptions?: QueueOptions
  /** Options of the exchange made from a name (Kombu's exchange_opts). */
  exchangeOptions?: ExchangeOptions
  serializer?: string
  compression?: string
  accept?: Iterable<string>
  /** Prefetch of the background consumer; default unlimited (Kombu's). */
  prefetch?: number
}

export class SimpleQueue<T = unknown> implements AsyncDisposable {
  readonly queue: Queue<T>
  readonly producer: Producer<T>
  readonly consumer: Consumer<T>
  readonly noAck: boolean
  readonly #target: ChannelTarget
  readonly #buffer: Message<T>[] = []
  readonly #waiters: Deferred<Message<T>>[] = []
  #consuming: Promise<unknown> | undefined

  constructor(target: ChannelTarget, name: string | Queue<T>, options: SimpleQueueOptions = {}) {
    const defaults = this.defaults()
    this.#target = target
    this.noAck = options.noAck ?? defaults.noAck ?? false
    const exchangeOptions = { ...defaults.exchangeOptions, ...options.exchangeOptions }
    const queueOptions = { ...defaults.queueOptions, ...options.queueOptions }
    this.queue =
      typeof name === 'string'
        ? new Queue<T>(name, { ...queueOptions, exchange: new Exchange(name, 'direct', exchangeOptions), routingKey: name })
        : name
    const exchange = this.queue.exchange ?? ''
    this.producer = new Producer<T>(target, {
      exchange,
      routingKey: this.queue.routingKey || this.queue.name,
      ...(options.serializer ? { serializer: options.serializer } : {}),
      ...(options.compression ? { compression: options.compression } : {}),
    })
    this.consumer = connectionOf(target).consumer<T>(this.queue, {
      noAck: this.noAck,
      ...(options.accept ? { accept: options.accept } : {}),
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
      onMessage: (message) => this.#receive(message),
    })
  }

  /** Per-class defaults (SimpleBuffer overrides them). */
  protected defaults(): SimpleQueueOptions {
    return {}
  }

  /** Publishes `body` to the queue's exchange with its routing key (declaring them once). */
  put(body: T, options: PublishOptions = {}): Promise<PublishConfirm> {
    return this.producer.publish(body, { declare: [this.queue], ...options })
  }

  /**
   * The next message, waiting for one to arrive; rejects with EmptyError after `timeout`
   * milliseconds (default: wait for ever).
   */
  async get(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<Message<T>> {
    const buffered = this.#buffer.shift()
    if (buffered) return buffered
    const waiter = deferred<Message<T>>()
    this.#waiters.push(waiter)
    const { timeout, signal } = options
    const emptyError = new EmptyError(`no message on '${this.queue.name}' within ${timeout} ms`)
    const timer = timeout === undefined ? undefined : setTimeout(() => waiter.reject(emptyError), timeout)
    const onAbort = () => waiter.reject(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#consuming ??= this.consumer.consume().catch((error: unknown) => {
      this.#consuming = undefined
      for (const w of this.#waiters.splice(0)) w.reject(error)
    })
    try {
      return await waiter.promise
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      const index = this.#waiters.indexOf(waiter)
      if (index >= 0) this.#waiters.splice(index, 1)
    }
  }

  /** One message right now (basic.get), or EmptyError. */
  async getNowait(): Promise<Message<T>> {
    const buffered = this.#buffer.shift()
    if (buffered) return buffered
    await connectionOf(this.#target).maybeDeclare(this.queue, channelOf(this.#target))
    const message = await this.queue.bind(this.#target).get({ noAck: this.noAck })
    if (!message) throw new EmptyError(`queue '${this.queue.name}' is empty`)
    return message
  }

  /** Ready messages in the queue (a passive declare), plus those buffered here. */
  async qsize(): Promise<number> {
    const { messageCount } = await this.queue.bind(this.#target).queueDeclare({ passive: true })
    return messageCount + this.#buffer.length
  }

  /** Purges the queue; resolves with how many messages went. */
  clear(): Promise<number> {
    return this.queue.bind(this.#target).purge()
  }

  /** Stops the background consumer; buffered unacked messages are requeued. */
  async close(): Promise<void> {
    this.#consuming = undefined
    await this.consumer.cancel()
    for (const message of this.#buffer.splice(0)) if (!message.acknowledged) message.requeue()
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new EmptyError(`'${this.queue.name}' was closed`))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #receive(message: Message<T>): void {
    const waiter = this.#waiters.shift()
    if (waiter) waiter.resolve(message)
    else this.#buffer.push(message)
  }
}

/**
 * A transient SimpleQueue: no acks, non-durable, exclusive to this connection, auto-deleted,
 * transient messages.
 */
export class SimpleBuffer<T = unknown> extends SimpleQueue<T> {
  protected override defaults(): SimpleQueueOptions {
    return {
      noAck: true,
      queueOptions: { durable: false, exclusive: true, autoDelete: true },
      exchangeOptions: { durable: false, autoDelete: true, deliveryMode: 'transient' },
    }
  }
}
