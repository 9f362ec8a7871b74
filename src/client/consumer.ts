/**
 * Receives messages from one or more queues (Kombu's `Consumer`), either through callbacks
 * (`callbacks: [(body, message) => …]` or `onMessage`) or by async iteration
 * (`for await (const message of consumer)`), never both. Survives reconnects: the connection
 * resumes its consumers with the same tags.
 */
import type { Channel, ConsumerEnd, ConsumerHandler } from './channel.js'
import type { Connection } from './connection.js'
import { WarrenError } from './errors.js'
import type { Message } from './message.js'
import { Queue } from './queue.js'
import { checkAccepted, resolveAccept } from './serialization.js'
import { channelOf, connectionOf, type ChannelTarget } from './target.js'
import { AsyncQueue } from './util/async-queue.js'
import { ordered } from './util/ordered.js'

export type StreamOffset = 'first' | 'last' | 'next' | number | Date

export type ConsumerCallback<T> = (body: T, message: Message<T>) => void | Promise<void>

export interface ConsumerOptions<T> {
  /** Queues to consume from; a string names a queue declared elsewhere (not declared here). */
  queues: Queue<T> | string | ReadonlyArray<Queue<T> | string>
  /** Called with the decoded body and the message, in order. */
  callbacks?: ReadonlyArray<ConsumerCallback<T>>
  /** Replaces `callbacks` and skips decoding (Kombu's on_message). */
  onMessage?: (message: Message<T>) => void | Promise<void>
  /** Content types or serializer names to accept; others go to `onDecodeError`. */
  accept?: Iterable<string>
  /** Per-consumer prefetch (basic.qos before basic.consume). */
  prefetch?: number
  /**
   * Where to start reading a stream queue (consumer argument x-stream-offset): 'first',
   * 'last', 'next' (the default), an offset (a delivery's `x-stream-offset` header), or a Date.
   * Streams need a `prefetch`.
   */
  offset?: StreamOffset
  /** Messages count as acked when sent. Default: each queue's `noAck`. */
  noAck?: boolean
  /** basic.consume exclusive: no other consumer may use the queue. */
  exclusive?: boolean
  /**
   * A body that cannot be decoded or is not accepted. Without it the error is reported on
   * `connection.status` and the message is rejected without requeue (dead-lettered if the
   * queue has a dead-letter exchange).
   */
  onDecodeError?: (message: Message<T>, error: unknown) => void
  /** Prefix of the generated consumer tags. */
  tagPrefix?: string
  /**
   * The exact consumer tag (Kombu's `tag_prefix` is a prefix; amqplib's `consumerTag` is this).
   * A tag names one consumer of a channel, so it takes a single queue.
   */
  tag?: string
  /** The broker cancelled a consumer (its queue was deleted). */
  onCancel?: (consumerTag: string) => void
  /** Declare the queues (and their exchanges and bindings) before consuming. Default true. */
  autoDeclare?: boolean
  /**
   * Stops the consumer when aborted: an iteration ends at once, and messages it had
   * buffered but not yielded go back to their queue.
   */
  signal?: AbortSignal
  /** Close the channel when the consumer ends (used by `connection.consume`). @internal */
  ownsChannel?: boolean
}

export class Consumer<T = unknown> implements AsyncIterable<Message<T>> {
  readonly #queues: readonly Queue<T>[]
  /** The queues bound to the consuming channel (server-named ones know their name). */
  #bound: Queue<T>[] | undefined
  readonly #target: ChannelTarget
  readonly #options: ConsumerOptions<T>
  readonly #callbacks: ConsumerCallback<T>[]
  readonly #accept: ReadonlySet<string> | undefined
  /** bound queue → consumer tag */
  readonly #tags = new Map<Queue<T>, string>()
  #channel: Channel | undefined
  #iterator: AsyncQueue<Message<T>> | undefined
  #starting: Promise<this> | undefined

  constructor(target: ChannelTarget, options: ConsumerOptions<T>) {
    this.#target = target
    this.#options = options
    this.#callbacks = [...(options.callbacks ?? [])]
    this.#accept = resolveAccept(options.accept)
    const queues = typeof options.queues === 'string' || options.queues instanceof Queue ? [options.queues] : options.queues
    if (options.tag !== undefined) {
      if (options.tag === '') throw new TypeError('a consumer tag must not be empty (leave tag out for a generated one)')
      if (options.tagPrefix !== undefined) throw new TypeError('give a consumer either tag or tagPrefix, not both')
      if (queues.length !== 1) throw new TypeError(`a consumer tag names one consumer: tag '${options.tag}' needs exactly one queue, got ${queues.length}`)
    }
    this.#queues = queues.map((q) => (typeof q === 'string' ? new Queue<T>(q, { noDeclare: true }) : q))
    const { signal } = options
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.#abort())
      else signal.addEventListener('abort', () => this.#abort(), { once: true })
    }
  }

  /** The queues; once consuming, bound copies (a server-named queue then has its name). */
  get queues(): readonly Queue<T>[] {
    return this.#bound ?? this.#queues
  }

  get channel(): Channel {
    return this.#channel ?? channelOf(this.#target)
  }

  get connection(): Connection {
    return connectionOf(this.#target)
  }

  get consumerTags(): string[] {
    return [...this.#tags.values()]
  }

  /** True while at least one queue is being consumed. */
  get active(): boolean {
    return this.#tags.size > 0
  }

  get #callbackMode(): boolean {
    return this.#callbacks.length > 0 || this.#options.onMessage !== undefined
  }

  registerCallback(callback: ConsumerCallback<T>): void {
    this.#callbacks.push(callback)
  }

  /** Declares every queue with its exchanges and bindings. */
  async declare(): Promise<void> {
    const channel = this.#channel ?? channelOf(this.#target)
    for (const queue of this.#bound ?? this.#bindAll(channel)) await queue.declare()
  }

  /** Starts consuming from every queue (declaring them first when autoDeclare). */
  consume(): Promise<this> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined
      throw error
    })
    return this.#starting
  }

  async #start(): Promise<this> {
    const channel = channelOf(this.#target)
    this.#channel = channel
    const queues = this.#bindAll(channel)
    this.#bound = queues
    if (this.#options.autoDeclare ?? true) {
      // Declares are idempotent: a broker restart meanwhile just means declaring again.
      await this.connection.ensure(async () => {
        for (const queue of queues) await queue.declare()
      })
    }
    const handler = this.#handler()
    // qos and the consumes leave in one go, so no other qos can slip in between.
    const steps: Promise<unknown>[] = []
    if (this.#options.prefetch !== undefined) steps.push(channel.basicQos(this.#options.prefetch))
    const offset = this.#options.offset
    for (const queue of queues) {
      const tag = this.#options.tag ?? this.connection.nextConsumerTag(this.#options.tagPrefix)
      const args = offset === undefined ? queue.consumerArguments : { ...queue.consumerArguments, 'x-stream-offset': offset }
      this.#tags.set(queue, tag)
      steps.push(
        channel.basicConsume(queue.name, handler(tag), {
          consumerTag: tag,
          noAck: this.#options.noAck ?? queue.noAck,
          ...(this.#options.exclusive ? { exclusive: true } : {}),
          ...(args ? { arguments: args } : {}),
          ...(this.#accept ? { accept: this.#accept } : {}),
        }),
      )
    }
    try {
      await Promise.all(steps)
    } catch (error) {
      const tags = [...this.#tags.values()]
      this.#tags.clear()
      if (channel.isOpen) await Promise.allSettled(tags.map((tag) => channel.basicCancel(tag)))
      this.#end(error)
      throw error
    }
    return this
  }

  /** Stops consuming; messages received but not settled stay unacked until settled. */
  async cancel(): Promise<void> {
    const channel = this.#channel
    const tags = [...this.#tags.values()]
    this.#tags.clear()
    if (channel?.isOpen) await Promise.all(tags.map((tag) => channel.basicCancel(tag)))
    this.#end()
  }

  /** Kombu's cancel_by_queue. */
  async cancelByQueue(queue: Queue<T> | string): Promise<void> {
    for (const [q, tag] of this.#tags) {
      if (q !== queue && q.name !== (typeof queue === 'string' ? queue : queue.name)) continue
      this.#tags.delete(q)
      await this.#channel?.basicCancel(tag)
    }
    if (this.#tags.size === 0) this.#end()
  }

  /** Alias of cancel (Kombu's close). */
  close(): Promise<void> {
    return this.cancel()
  }

  /** Asks the broker to redeliver every unacked message of the channel. */
  recover(requeue = true): Promise<void> {
    return this.channel.basicRecover(requeue)
  }

  qos(prefetchCount: number, options: { global?: boolean } = {}): Promise<void> {
    return this.channel.basicQos(prefetchCount, options)
  }

  [Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    if (this.#callbackMode) throw new WarrenError('this consumer has callbacks: it cannot also be iterated')
    const iterator = this.#queue()
    if (this.#options.signal?.aborted) {
      void iterator.return()
      return iterator
    }
    if (!this.#starting) {
      this.consume().catch((error) => iterator.fail(error))
    }
    return iterator
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cancel()
  }

  #abort(): void {
    // return() requeues what the reader never saw and cancels (see #queue).
    if (this.#iterator) void this.#iterator.return()
    else this.cancel().catch(() => {})
  }

  #bindAll(channel: Channel): Queue<T>[] {
    return this.#queues.map((q) => q.bind(channel))
  }

  #queue(): AsyncQueue<Message<T>> {
    this.#iterator ??= new AsyncQueue<Message<T>>((leftover) => {
      // The reader stopped early: what it never saw goes back to the queue.
      for (const message of leftover) if (!message.acknowledged) message.requeue()
      this.cancel().catch(() => {})
    })
    return this.#iterator
  }

  #handler(): (tag: string) => ConsumerHandler {
    const report = (error: unknown) => this.connection.reportError(error)
    const deliver = ordered<Message<unknown>>((message) => this.#receive(message as Message<T>), report)
    return (tag) => ({
      deliver,
      ended: (end) => this.#consumerEnded(tag, end),
    })
  }

  #receive(message: Message<T>): void {
    try {
      checkAccepted(message.contentType, this.#accept)
      if (this.#callbackMode && !this.#options.onMessage) message.decode()
    } catch (error) {
      this.#decodeFailed(message, error)
      return
    }
    if (!this.#callbackMode) {
      this.#queue().push(message)
      return
    }
    const connection = this.connection
    const run = (result: void | Promise<void>) => {
      if (result instanceof Promise) result.catch((error: unknown) => connection.reportError(error))
    }
    let thrown: unknown
    try {
      if (this.#options.onMessage) run(this.#options.onMessage(message))
      else for (const callback of this.#callbacks) run(callback(message.body, message))
    } catch (error) {
      thrown = error ?? new WarrenError('a consumer callback threw undefined')
    }
    connection.dispatched(thrown)
  }

  #decodeFailed(message: Message<T>, error: unknown): void {
    if (this.#options.onDecodeError) {
      try {
        this.#options.onDecodeError(message, error)
      } catch (thrown) {
        this.connection.reportError(thrown)
      }
      return
    }
    this.connection.reportError(error)
    if (!message.acknowledged) message.reject({ requeue: false })
  }

  #consumerEnded(tag: string, end: ConsumerEnd): void {
    for (const [queue, t] of this.#tags) if (t === tag) this.#tags.delete(queue)
    if (end.by === 'broker') {
      try {
        this.#options.onCancel?.(tag)
      } catch (error) {
        this.connection.reportError(error)
      }
    }
    if (end.by === 'channel') return this.#end(end.error)
    if (this.#tags.size === 0) this.#end()
  }

  /** The consumer stopped; `consume()` may start it again (callback mode). */
  #end(error?: unknown): void {
    this.#tags.clear()
    const iterator = this.#iterator
    const channel = this.#channel
    this.#iterator = undefined
    this.#starting = undefined
    this.#channel = undefined
    if (error === undefined) iterator?.end()
    else if (iterator) iterator.fail(error)
    // A callback consumer has nobody to throw to: say it stopped.
    else this.connection.reportError(error)
    if (this.#options.ownsChannel) channel?.close().catch(() => {})
  }
}
