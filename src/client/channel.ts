/**
 * A channel: one numbered lane of commands on a connection, with its own consumers, delivery
 * tags and prefetch. Every AMQP command has a wrapper here; the entity classes, Producer and
 * Consumer are built on them. A soft error from the broker closes the channel: its pending
 * requests and every later call reject with the rebuilt error.
 */
import type {
  BasicCancelNotify,
  BasicDeliver,
  BasicReturn,
  ClientCommand,
  FieldTable,
  MessageProperties,
  ReplyResults,
  Body,
} from '../protocol/frames.js'
import type { Connection } from './connection.js'
import { ChannelClosedError, ConnectionClosedError, TimeoutError, WarrenError } from './errors.js'
import { createMessage, type Message, type SettleOp, type SettleTarget } from './message.js'
import type { Requests } from './requests.js'
import { ReturnedMessage } from './returned.js'
import type { ExchangeArgs, ExchangeBindArgs, QueueArgs, QueueBindArgs, Topology } from './topology.js'
import { deferred } from './util/deferred.js'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
/** A command as callers write it: the channel and the request id are filled in here. */
export type CommandFrame = DistributiveOmit<ClientCommand, 'id' | 'channel'>

/** What a channel needs from its connection (implemented by Connection). */
export interface ChannelHost {
  readonly connection: Connection
  readonly requests: Requests
  readonly requestTimeout: number
  readonly topology: Topology
  /** True while the broker session is up and recovered, so user frames may leave. */
  readonly ready: boolean
  /** True while the link is up (recovery frames may leave). */
  readonly linkUp: boolean
  /** The broker session the connection is in (changes on every welcome). */
  readonly sessionId: number
  sendFrame(frame: ClientCommand): void
  /** Resolves once the connection is connected and recovered again. */
  whenReady(): Promise<void>
  nextConsumerTag(prefix?: string): string
  channelGone(channel: Channel): void
}

export interface RequestOptions {
  /** Milliseconds; defaults to the connection's `requestTimeout`. */
  timeout?: number
  /** Recovery frames bypass the gate that holds user frames while reconnecting. */
  internal?: boolean
}

export interface ConsumeOptions {
  consumerTag?: string
  noAck?: boolean
  exclusive?: boolean
  arguments?: FieldTable
  /** Content types (or serializer names) the messages may have; see Consumer. */
  accept?: ReadonlySet<string>
}

export type ConsumerEnd =
  | { by: 'broker' }
  | { by: 'client' }
  /** The channel or the connection closed; `error` is set when it closed because of one. */
  | { by: 'channel'; error: unknown }

/** The receiving side of a basic.consume (implemented by Consumer and the rpc reply queue). */
export interface ConsumerHandler {
  deliver(message: Message<unknown> | Promise<Message<unknown>>): void
  ended(end: ConsumerEnd): void
}

interface ConsumerEntry {
  tag: string
  queue: string
  noAck: boolean
  exclusive: boolean
  arguments: FieldTable | undefined
  accept: ReadonlySet<string> | undefined
  handler: ConsumerHandler
  /** The per-consumer prefetch in force when it was created (replayed on recovery). */
  prefetch: number
  /** The broker has (or had, before a lost link) this consumer: recovery resumes it. */
  live: boolean
  /** A stream consumer: the offset after the last delivery, where recovery resumes reading. */
  nextStreamOffset?: number
}

export interface PublishArgs {
  exchange: string
  routingKey: string
  mandatory?: boolean
  properties: MessageProperties
  body: Body
  durability?: Durability
  /** The message's id in the broker's deduplication window. */
  publishId?: string
  /** On a retry: the broker the earlier attempt went to ('' if unknown). */
  retryOf?: string
}

export type ChannelState = 'open' | 'closing' | 'closed'

/** 'strict': a persistent message is confirmed only once its IndexedDB write is flushed to disk. */
export type Durability = 'relaxed' | 'strict'

export class Channel implements SettleTarget, AsyncDisposable {
  readonly number: number
  readonly #host: ChannelHost
  /** A recovery channel: its frames go out before the connection is ready. */
  readonly #internal: boolean
  #state: ChannelState = 'open'
  #error: unknown
  /** Bumped when the link goes down; deliveries from an older session cannot be acked. */
  #session = 0
  /** The broker session in which channel.open was last sent; -1 before the first. */
  #openedIn = -1
  readonly #backlog: Array<{ id: number; frame: ClientCommand }> = []
  readonly #consumers = new Map<string, ConsumerEntry>()
  readonly #unsettled = new Map<number, Message<unknown>>()
  // Acks coalesced: an ack of tag T while no delivery before T is left unsettled says the same
  // as `multiple` up to T, so a run of them leaves as one frame (the highest T), at the end of
  // the microtask or before any other frame of the channel. Only when #unsettled shows every
  // delivery the broker holds unacked: none still being made (#tracking), none dropped for an
  // unknown consumer (#gap), and its tags in ascending order (#ordered) so its first is the lowest.
  #ackThrough = 0
  #tracking = 0
  #gap = false
  #ordered = true
  #lastTracked = 0
  readonly #returnListeners = new Set<(returned: ReturnedMessage) => void>()
  #publishTimeoutMs = 0
  #publishTimeoutError: (() => TimeoutError) | undefined
  #prefetch = 0
  #globalPrefetch: number | undefined
  readonly #opened = deferred<void>()
  readonly #closed = deferred<Error | undefined>()

  constructor(host: ChannelHost, number: number, options: { internal?: boolean } = {}) {
    this.#host = host
    this.number = number
    this.#internal = options.internal ?? false
    this.#opened.promise.catch(() => {})
    if (host.ready && !this.#internal) this.reopen().catch(() => {})
  }

  get connection(): Connection {
    return this.#host.connection
  }

  get state(): ChannelState {
    return this.#state
  }

  get isOpen(): boolean {
    return this.#state === 'open'
  }

  /** The error that closed the channel, if one did. */
  get error(): unknown {
    return this.#error
  }

  /** Resolves once the broker opened the channel; rejects if it never does. */
  get opened(): Promise<void> {
    return this.#opened.promise
  }

  /** Resolves when the channel is closed, with the error that closed it (never rejects). */
  get closed(): Promise<Error | undefined> {
    return this.#closed.promise
  }

  get prefetchCount(): number {
    return this.#prefetch
  }

  get consumerTags(): string[] {
    return [...this.#consumers.keys()]
  }

  /** True when channel.open went out in the current broker session. */
  get openOnBroker(): boolean {
    return this.#openedIn === this.#host.sessionId
  }

  // ---------------------------------------------------------------- requests

  /** Sends a command and waits for its reply. */
  request<F extends CommandFrame>(frame: F, options: RequestOptions = {}): Promise<ReplyResults[F['op']]> {
    if (this.#state !== 'open' && !(options.internal && this.#state === 'closing')) {
      return Promise.reject(this.#error ?? new ChannelClosedError(`channel ${this.number} is closed`))
    }
    const timeout = options.timeout ?? this.#host.requestTimeout
    const number = this.number
    const publish = frame.op === 'basic.publish'
    // Made here, so its stack shows the caller; except for publishes, made by the thousand,
    // whose error is made only if one times out (a stack per publish cost a fifth of a
    // publisher's time, measured in Chromium), by one function per timeout.
    const timeoutError = publish ? this.#publishTimeout(timeout) : new TimeoutError(`${frame.op} on channel ${number} got no reply within ${timeout} ms`)
    const { id, promise } = this.#host.requests.add(number, timeout, timeoutError)
    // A publish's frame is the channel's own (basicPublish made it): completed in place.
    let full: ClientCommand
    if (publish) {
      const own = frame as unknown as { id: number; channel: number }
      own.id = id
      own.channel = number
      full = own as unknown as ClientCommand
    } else full = { ...frame, id, channel: number } as ClientCommand
    this.#flushAcks()
    if (options.internal || this.#internal || this.#canSend) this.#host.sendFrame(full)
    else this.#backlog.push({ id, frame: full })
    return promise as Promise<ReplyResults[F['op']]>
  }

  #publishTimeout(timeout: number): () => TimeoutError {
    if (this.#publishTimeoutMs !== timeout || this.#publishTimeoutError === undefined) {
      const number = this.number
      this.#publishTimeoutMs = timeout
      this.#publishTimeoutError = () => new TimeoutError(`basic.publish on channel ${number} got no reply within ${timeout} ms`)
    }
    return this.#publishTimeoutError
  }

  get #canSend(): boolean {
    return this.openOnBroker && (this.#internal ? this.#host.linkUp : this.#host.ready)
  }

  /**
   * Sends a command that has no reply (acks). Held while recovering; a lost link drops the
   * held ones (their delivery tags died with the session).
   */
  #notify(frame: ClientCommand): void {
    if (this.#state === 'closed') return
    this.#flushAcks()
    if (this.#canSend) this.#host.sendFrame(frame)
    else this.#backlog.push({ id: -1, frame })
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens (or reopens after a reconnect) the channel on the broker. */
  async reopen(): Promise<void> {
    this.#openedIn = this.#host.sessionId
    try {
      await this.request({ op: 'channel.open' }, { internal: true })
      this.#opened.resolve()
    } catch (error) {
      // A lost link is retried by the next recovery; anything else ends the channel.
      if (!(error instanceof ConnectionClosedError) && error instanceof WarrenError) this.terminate(error, true)
      throw error
    }
  }

  /** Recovery: closes whatever the broker may still hold under this channel's number. */
  async closeOnBroker(): Promise<void> {
    await this.request({ op: 'channel.close' }, { internal: true }).catch(() => {})
  }

  /** Recovery: prefetch and consumers again, with the same consumer tags. */
  async restore(): Promise<void> {
    if (this.#globalPrefetch !== undefined) {
      await this.request({ op: 'basic.qos', prefetchCount: this.#globalPrefetch, global: true }, { internal: true })
    }
    let current = 0
    for (const entry of [...this.#consumers.values()]) {
      // A consume still held back goes out on release; resuming it too would duplicate it.
      if (!entry.live) continue
      if (entry.prefetch !== current) {
        await this.request({ op: 'basic.qos', prefetchCount: entry.prefetch }, { internal: true })
        current = entry.prefetch
      }
      await this.request(
        {
          op: 'basic.consume',
          queue: this.#host.topology.resolve(entry.queue),
          consumerTag: entry.tag,
          noAck: entry.noAck,
          exclusive: entry.exclusive,
          ...(entry.arguments ? { arguments: resumeArguments(entry) } : {}),
        },
        { internal: true },
      )
    }
    if (current !== this.#prefetch) {
      await this.request({ op: 'basic.qos', prefetchCount: this.#prefetch }, { internal: true })
    }
  }

  /** Recovery is over: frames held meanwhile go out, in order. */
  release(): void {
    const held = this.#backlog.splice(0)
    for (const { id, frame } of held) {
      // A request that timed out or was rejected meanwhile must not reach the broker late.
      if (id === -1 || this.#host.requests.has(id)) this.#host.sendFrame(frame)
    }
  }

  /** The link went down: deliveries so far will be redelivered, their tags are void. */
  linkDown(): void {
    this.#session++
    this.#unsettled.clear()
    this.#resetAcks()
    for (let i = this.#backlog.length - 1; i >= 0; i--) if (this.#backlog[i]!.id === -1) this.#backlog.splice(i, 1)
  }

  /** Closes the channel; unacked deliveries go back to their queues. */
  async close(): Promise<void> {
    if (this.#state !== 'open') {
      await this.#closed.promise
      return
    }
    const closing =
      this.openOnBroker && this.#host.linkUp ? this.request({ op: 'channel.close' }, { internal: true }) : undefined
    this.#state = 'closing'
    try {
      await closing
    } catch {
      // Closing is best effort: the broker may already have closed it, or be gone.
    }
    this.terminate(new ChannelClosedError(`channel ${this.number} was closed by the application`), false)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /**
   * Ends the channel for good. `failed` says the error is the reason (a broker error or a
   * lost connection), as opposed to an orderly close.
   */
  terminate(error: WarrenError, failed: boolean): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#error = error
    this.#backlog.length = 0
    this.#unsettled.clear()
    this.#resetAcks()
    this.#returnListeners.clear()
    this.#host.requests.rejectChannel(this.number, error)
    this.#opened.reject(error)
    const consumers = [...this.#consumers.values()]
    this.#consumers.clear()
    for (const entry of consumers) entry.handler.ended(failed ? { by: 'channel', error } : { by: 'client' })
    this.#host.channelGone(this)
    this.#closed.resolve(failed ? error : undefined)
  }

  // ---------------------------------------------------------------- inbound

  handleDeliver(frame: BasicDeliver): void {
    const entry = this.#consumers.get(frame.consumerTag)
    if (!entry) {
      // Unacked on the broker (unless its consumer was noAck) and never settled here.
      this.#gap = true
      return
    }
    const message = createMessage<unknown>({
      channel: this,
      session: this.#session,
      delivery: frame,
      consumerTag: frame.consumerTag,
      noAck: entry.noAck,
      ...(entry.accept ? { accept: entry.accept } : {}),
    })
    if (!entry.noAck) this.#track(message)
    const offset = frame.properties.headers?.['x-stream-offset']
    if (typeof offset === 'number' && entry.arguments?.['x-stream-offset'] !== undefined) entry.nextStreamOffset = offset + 1
    entry.handler.deliver(message)
  }

  handleReturn(frame: BasicReturn): void {
    if (this.#returnListeners.size === 0) return
    const returned = new ReturnedMessage(frame)
    for (const listener of [...this.#returnListeners]) {
      try {
        listener(returned)
      } catch (error) {
        this.#host.connection.reportError(error)
      }
    }
  }

  handleCancel(frame: BasicCancelNotify): void {
    const entry = this.#consumers.get(frame.consumerTag)
    if (!entry) return
    this.#consumers.delete(frame.consumerTag)
    entry.handler.ended({ by: 'broker' })
  }

  #track(message: Message<unknown> | Promise<Message<unknown>>): void {
    if (message instanceof Promise) {
      this.#tracking++
      void message.then((m) => {
        this.#tracking--
        this.#track(m)
      })
      return
    }
    if (message.session !== this.#session) return
    const tag = message.deliveryTag
    if (this.#unsettled.size === 0) this.#ordered = true
    else if (tag < this.#lastTracked) this.#ordered = false
    this.#lastTracked = tag
    this.#unsettled.set(tag, message)
  }

  /** No delivery before `tag` is unacked on the broker but this ack's: a `multiple` ack says the same. */
  #coalescable(tag: number): boolean {
    if (this.#tracking > 0 || this.#gap || !this.#ordered) return false
    const first = this.#unsettled.keys().next()
    return first.done === true || first.value > tag
  }

  #flushAcks(): void {
    const through = this.#ackThrough
    if (through === 0) return
    this.#ackThrough = 0
    if (this.#state === 'closed') return
    const frame: ClientCommand = { op: 'basic.ack', channel: this.number, deliveryTag: through, multiple: true }
    if (this.#canSend) this.#host.sendFrame(frame)
    else this.#backlog.push({ id: -1, frame })
  }

  /** A new channel session (or none): pending coalesced acks died with the old one. */
  #resetAcks(): void {
    this.#ackThrough = 0
    this.#gap = false
    this.#ordered = true
    this.#lastTracked = 0
  }

  /** Called by Message.ack/reject/nack. */
  settle(message: Message<unknown>, settle: SettleOp): void {
    // After a reconnect or a channel close the broker has requeued these; their tags are void.
    if (message.session !== this.#session || this.#state === 'closed') return
    const { deliveryTag } = message
    // Only a delivery known to be unacked joins a coalesced ack: a second ack of a tag must reach the broker (406).
    const unacked = this.#unsettled.delete(deliveryTag)
    if ('multiple' in settle && settle.multiple) {
      const state = settle.op === 'basic.ack' ? 'ACK' : settle.requeue ? 'REQUEUED' : 'REJECTED'
      for (const [tag, other] of this.#unsettled) {
        if (tag >= deliveryTag) continue
        other.markSettled(state)
        this.#unsettled.delete(tag)
      }
    }
    if (settle.op === 'basic.ack' && unacked && this.#coalescable(deliveryTag)) {
      if (this.#ackThrough === 0) queueMicrotask(() => this.#flushAcks())
      this.#ackThrough = Math.max(this.#ackThrough, deliveryTag)
      return
    }
    this.#notify({ ...settle, channel: this.number, deliveryTag } as ClientCommand)
  }

  /** Listens for messages the broker returns (mandatory and unroutable). */
  onReturn(listener: (returned: ReturnedMessage) => void): () => void {
    this.#returnListeners.add(listener)
    return () => this.#returnListeners.delete(listener)
  }

  // ---------------------------------------------------------------- commands

  async exchangeDeclare(args: ExchangeArgs): Promise<void> {
    await this.request({ op: 'exchange.declare', ...args })
    this.#host.topology.recordExchange(args)
  }

  async exchangeDelete(exchange: string, options: { ifUnused?: boolean } = {}): Promise<void> {
    await this.request({ op: 'exchange.delete', exchange, ...options })
    this.#host.topology.forgetExchange(exchange)
  }

  async exchangeBind(args: ExchangeBindArgs): Promise<void> {
    await this.request({ op: 'exchange.bind', ...args })
    this.#host.topology.recordExchangeBind(args)
  }

  async exchangeUnbind(args: ExchangeBindArgs): Promise<void> {
    await this.request({ op: 'exchange.unbind', ...args })
    this.#host.topology.forgetExchangeBind(args)
  }

  /** Declares a queue; an empty name asks the broker for one. */
  async queueDeclare(args: QueueArgs): Promise<ReplyResults['queue.declare']> {
    const queue = args.queue === '' ? '' : this.#host.topology.resolve(args.queue)
    const result = await this.request({ op: 'queue.declare', ...args, queue })
    this.#host.topology.recordQueue(result.queue, args)
    return result
  }

  async queueBind(args: QueueBindArgs): Promise<void> {
    const bound = { ...args, queue: this.#host.topology.resolve(args.queue) }
    await this.request({ op: 'queue.bind', ...bound })
    this.#host.topology.recordQueueBind(bound)
  }

  async queueUnbind(args: QueueBindArgs): Promise<void> {
    const bound = { ...args, queue: this.#host.topology.resolve(args.queue) }
    await this.request({ op: 'queue.unbind', ...bound })
    this.#host.topology.forgetQueueBind(bound)
  }

  /** Removes ready messages; resolves with how many. */
  async queuePurge(queue: string): Promise<number> {
    const result = await this.request({ op: 'queue.purge', queue: this.#host.topology.resolve(queue) })
    return result.messageCount
  }

  /** Deletes a queue; resolves with how many messages it held. */
  async queueDelete(queue: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    const name = this.#host.topology.resolve(queue)
    const result = await this.request({ op: 'queue.delete', queue: name, ...options })
    this.#host.topology.forgetQueue(name)
    return result.messageCount
  }

  /**
   * RabbitMQ's prefetch: `global: false` (the default) limits each consumer created after the
   * call; `global: true` is one limit shared by the channel's consumers. 0 means no limit.
   */
  async basicQos(prefetchCount: number, options: { global?: boolean } = {}): Promise<void> {
    const global = options.global ?? false
    const reply = this.request({ op: 'basic.qos', prefetchCount, global })
    // Recorded at send time: consumers started right after it (pipelined) get this limit.
    // Recorded, it is also restored after a lost link, so losing the reply is no failure.
    if (global) this.#globalPrefetch = prefetchCount
    else this.#prefetch = prefetchCount
    await this.#surviving(reply)
  }

  /** Alias of basicQos. */
  qos(prefetchCount: number, options: { global?: boolean } = {}): Promise<void> {
    return this.basicQos(prefetchCount, options)
  }

  /** Acks by tag (Message.ack is the usual way; this keeps its state machine in step). */
  basicAck(deliveryTag: number, options: { multiple?: boolean } = {}): void {
    this.#settleTag(deliveryTag, { op: 'basic.ack', multiple: options.multiple ?? false })
  }

  basicNack(deliveryTag: number, options: { multiple?: boolean; requeue?: boolean } = {}): void {
    this.#settleTag(deliveryTag, { op: 'basic.nack', multiple: options.multiple ?? false, requeue: options.requeue ?? true })
  }

  /**
   * basic.reject by tag; `requeue` defaults to true as in AMQP 0-9-1 and amqplib. (Message.reject
   * follows Kombu instead and defaults to false.)
   */
  basicReject(deliveryTag: number, options: { requeue?: boolean } = {}): void {
    this.#settleTag(deliveryTag, { op: 'basic.reject', requeue: options.requeue ?? true })
  }

  #settleTag(deliveryTag: number, settle: SettleOp): void {
    const message = this.#unsettled.get(deliveryTag)
    if (!message) {
      this.#notify({ ...settle, channel: this.number, deliveryTag } as ClientCommand)
      return
    }
    const requeue = 'requeue' in settle && settle.requeue
    message.markSettled(settle.op === 'basic.ack' ? 'ACK' : requeue ? 'REQUEUED' : 'REJECTED')
    this.settle(message, settle)
  }

  /** Publishes; resolves with the publisher confirm, rejects with PublishNackError on a nack. */
  basicPublish(args: PublishArgs, options: RequestOptions = {}): Promise<ReplyResults['basic.publish']> {
    return this.request({ op: 'basic.publish', ...args }, options)
  }

  /** Starts a consumer; the handler is registered before the broker can deliver. */
  async basicConsume(queue: string, handler: ConsumerHandler, options: ConsumeOptions = {}): Promise<string> {
    const tag = options.consumerTag ?? this.#host.nextConsumerTag()
    const entry: ConsumerEntry = {
      tag,
      queue,
      noAck: options.noAck ?? false,
      exclusive: options.exclusive ?? false,
      arguments: options.arguments,
      accept: options.accept,
      handler,
      prefetch: this.#prefetch,
      live: false,
    }
    this.#consumers.set(tag, entry)
    const reply = this.request({
      op: 'basic.consume',
      queue: this.#host.topology.resolve(queue),
      consumerTag: tag,
      noAck: entry.noAck,
      exclusive: entry.exclusive,
      ...(entry.arguments ? { arguments: entry.arguments } : {}),
    })
    // Sent now: if the link is lost before the reply, recovery resumes it like the others.
    if (this.#canSend) entry.live = true
    try {
      await this.#surviving(reply)
    } catch (error) {
      if (this.#consumers.get(tag) === entry) this.#consumers.delete(tag)
      throw error
    }
    if (this.#consumers.get(tag) !== entry) throw this.#error ?? new ChannelClosedError(`channel ${this.number} is closed`)
    entry.live = true
    return tag
  }

  /**
   * Awaits a command that recovery replays (qos, consume): when the link is lost before its
   * reply, waits for the recovery instead of failing.
   */
  async #surviving<T>(reply: Promise<T>): Promise<T | undefined> {
    try {
      return await reply
    } catch (error) {
      if (!(error instanceof ConnectionClosedError) || this.#state !== 'open' || this.#host.connection.isClosed) throw error
      await this.#host.whenReady()
      return undefined
    }
  }

  /** Stops a consumer; deliveries already received stay unacked until settled. */
  async basicCancel(consumerTag: string): Promise<void> {
    const entry = this.#consumers.get(consumerTag)
    if (!entry) return
    // Not resumed by a recovery from now on (a cancel of an unknown tag is no error).
    entry.live = false
    try {
      await this.request({ op: 'basic.cancel', consumerTag })
    } catch (error) {
      // The broker session is gone, and the consumer with it: cancelled all the same.
      if (!(error instanceof ConnectionClosedError)) throw error
    }
    if (this.#consumers.get(consumerTag) !== entry) return
    this.#consumers.delete(consumerTag)
    entry.handler.ended({ by: 'client' })
  }

  /** Fetches one message (basic.get); undefined when the queue is empty. */
  async basicGet<T = unknown>(
    queue: string,
    options: { noAck?: boolean; accept?: ReadonlySet<string> } = {},
  ): Promise<Message<T> | undefined> {
    const noAck = options.noAck ?? false
    const session = this.#session
    // Until the got message is tracked, the broker holds a delivery #unsettled does not show.
    if (!noAck) this.#tracking++
    let tracked = false
    try {
      const result = await this.request({ op: 'basic.get', queue: this.#host.topology.resolve(queue), noAck })
      if (!result.message) return undefined
      const message = await createMessage<T>({
        channel: this,
        session,
        delivery: result.message,
        messageCount: result.messageCount,
        noAck,
        ...(options.accept ? { accept: options.accept } : {}),
      })
      if (!noAck) {
        this.#tracking--
        tracked = true
        this.#track(message as Message<unknown>)
      }
      return message
    } finally {
      if (!noAck && !tracked) this.#tracking--
    }
  }

  /** Requeues every unacked delivery of this channel (RabbitMQ supports only requeue). */
  async basicRecover(requeue = true): Promise<void> {
    // Only what was delivered before the command: redeliveries may arrive before its reply.
    const before = [...this.#unsettled.values()]
    await this.request({ op: 'basic.recover', requeue })
    for (const message of before) {
      message.markSettled('REQUEUED')
      if (this.#unsettled.get(message.deliveryTag) === message) this.#unsettled.delete(message.deliveryTag)
    }
  }
}

/**
 * A stream consumer resumes after the last message it received, not from its first offset
 * again: `first` would replay what it already has, `next` would skip what came meanwhile.
 */
function resumeArguments(entry: ConsumerEntry): FieldTable | undefined {
  if (entry.nextStreamOffset === undefined || entry.arguments === undefined) return entry.arguments
  return { ...entry.arguments, 'x-stream-offset': entry.nextStreamOffset }
}
