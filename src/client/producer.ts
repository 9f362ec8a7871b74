/**
 * Publishes messages (Kombu's `Producer`). `publish` resolves after the publisher confirm and
 * rejects with PublishNackError on a nack. Publishes of one producer reach the broker in call
 * order; a publish lost with the connection is retried after the reconnect under the retry
 * policy (on by default: a restarting SharedWorker is an expected event, not a failure).
 *
 * Publishing is idempotent: every publish carries a publish id (this producer's random id and
 * a sequence number, unless the caller gives one), kept across its retries, so the broker
 * confirms a retry of a message it already took instead of storing it twice, and flags it
 * redelivered when it cannot tell whether a lost original was delivered.
 */
import type { Channel, Durability, PublishArgs } from './channel.js'
import type { Connection } from './connection.js'
import { Exchange, nameOf } from './exchange.js'
import { prepareMessage, type MessageOptions, type Prepared } from './publish.js'
import type { Queue } from './queue.js'
import type { ReturnedMessage } from './returned.js'
import type { RetryPolicy } from './retry.js'
import { channelOf, connectionOf, type ChannelTarget } from './target.js'
import type { PublishConfirm } from './exchange.js'

export interface ProducerOptions {
  /** The default exchange to publish to. Default: the default exchange ''. */
  exchange?: Exchange<any> | string
  /** The default routing key. */
  routingKey?: string
  /** The default serializer name (else the registry's default, json). */
  serializer?: string
  /** The default compression (`'gzip'`, `'deflate'`). */
  compression?: string
  /** Declare the producer's exchange before the first publish. Default true. */
  autoDeclare?: boolean
  /** Receives messages published with `mandatory` that no queue took. */
  onReturn?: (returned: ReturnedMessage) => void
  /** Retry publishes lost with the connection. Default true. */
  retry?: boolean
  retryPolicy?: RetryPolicy
}

export interface PublishOptions extends MessageOptions {
  exchange?: Exchange<any> | string
  routingKey?: string
  /** Entities to maybeDeclare first (cached per connection). */
  declare?: ReadonlyArray<Exchange<any> | Queue<any>>
  /** Return the message (to onReturn) if no queue takes it. */
  mandatory?: boolean
  /** 'strict' waits for a flushed write before the confirm; default the connection's. */
  durability?: Durability
  retry?: boolean
  retryPolicy?: RetryPolicy
  /** Stops waiting (and retrying); the message may still have been published. */
  signal?: AbortSignal
  /** Milliseconds to wait for the confirm; default the connection's requestTimeout. */
  timeout?: number
  /**
   * The message's id in the broker's deduplication window (at most 255 UTF-8 bytes). Default:
   * a new one per publish() call, kept across its retries. Give your own (a business key) to
   * make your own retries idempotent, with `repeated`.
   */
  publishId?: string
  /**
   * This publish repeats an earlier one with the same `publishId` whose outcome you do not
   * know (your own retry loop): the broker confirms it again if it has the message, else
   * stores it flagged redelivered, since the original may have been delivered and then lost.
   */
  repeated?: boolean
}

export type { PublishConfirm }

export class Producer<T = unknown> {
  readonly exchange: Exchange<any> | string
  readonly routingKey: string
  readonly serializer: string | undefined
  readonly compression: string | undefined
  readonly autoDeclare: boolean
  readonly onReturn: ((returned: ReturnedMessage) => void) | undefined
  readonly retry: boolean
  readonly retryPolicy: RetryPolicy | undefined
  readonly #target: ChannelTarget
  /** Settles when the previous publish has been handed to the channel. */
  #turn: Promise<void> = Promise.resolve()
  /** What prepareMessage falls back on for the producer's own exchange. */
  #defaults: MessageDefaults | undefined
  /** Publishes waiting for their turn (a declare, compression): later ones queue behind them. */
  #waiting = 0
  /** Entities declared through this producer, by the connection session they were declared in. */
  readonly #declaredIn = new WeakMap<object, number>()
  /** Publish ids are `${#id}.${#seq}`: unique without coordination, cheap to make. */
  readonly #id = randomId()
  #seq = 0
  #returnsOn: Channel | undefined
  #unlisten: (() => void) | undefined

  constructor(target: ChannelTarget, options: ProducerOptions = {}) {
    this.#target = target
    this.exchange = options.exchange ?? ''
    this.routingKey = options.routingKey ?? ''
    this.serializer = options.serializer
    this.compression = options.compression
    this.autoDeclare = options.autoDeclare ?? true
    this.onReturn = options.onReturn
    this.retry = options.retry ?? true
    this.retryPolicy = options.retryPolicy
  }

  get channel(): Channel {
    return channelOf(this.#target)
  }

  get connection(): Connection {
    return connectionOf(this.#target)
  }

  /** Declares the producer's exchange (done before the first publish when autoDeclare). */
  async declare(): Promise<void> {
    if (this.exchange instanceof Exchange && this.exchange.name) await this.exchange.bind(this.channel).declare()
  }

  maybeDeclare(entity: Exchange<any> | Queue<any>): Promise<void> {
    return this.connection.maybeDeclare(entity, this.channel)
  }

  publish(body: T, options: PublishOptions = {}): Promise<PublishConfirm> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    // Every attempt of this call carries one publish id; a retry names the broker the earlier
    // attempts went to ('' when they went to different ones), which lets that broker deliver
    // a retry it provably never saw unflagged.
    const attempts: Attempts = { publishId: options.publishId ?? `${this.#id}.${++this.#seq}`, sentTo: options.repeated ? '' : undefined }
    const once = () => this.#publishOnce(body, options, attempts)
    const retry = options.retry ?? this.retry
    const first = once()
    const confirmed = retry
      ? first.catch((error: unknown) =>
          this.connection.retryAfter(error, once, {
            ...this.retryPolicy,
            ...options.retryPolicy,
            ...(signal ? { signal } : {}),
          }),
        )
      : first
    return signal ? abortable(confirmed, signal) : confirmed
  }

  /** Stops listening for returns. */
  close(): void {
    this.#unlisten?.()
    this.#unlisten = undefined
    this.#returnsOn = undefined
  }

  #publishOnce(body: T, options: PublishOptions, attempts: Attempts): Promise<PublishConfirm> {
    const channel = this.channel
    const exchange = options.exchange ?? this.exchange
    const declare = this.autoDeclare && exchange instanceof Exchange && exchange.name ? [exchange, ...(options.declare ?? [])] : (options.declare ?? [])
    const session = this.connection.sessionId
    // The common case goes out at once, with no promise of its own: nothing queued before it,
    // its declarations done in this broker session, no compression. (A publish that waits
    // for any of these sends everything behind it after it, in call order.)
    let ready: Prepared | Promise<Prepared>
    if (this.#waiting === 0 && declare.every((entity) => this.#declaredIn.get(entity) === session)) {
      ready = this.#prepareMessage(body, exchange, options)
      if (!(ready instanceof Promise)) return this.#send(channel, exchange, options, attempts, ready)
    } else ready = this.#prepare(channel, declare, body, exchange, options)
    return this.#inTurn(channel, exchange, options, attempts, ready)
  }

  /** Sends once `ready` settles and every publish before it has been sent. */
  async #inTurn(channel: Channel, exchange: Exchange<any> | string, options: PublishOptions, attempts: Attempts, ready: Promise<Prepared>): Promise<PublishConfirm> {
    this.#waiting++
    // Wait for the previous publish to be sent, so compression or a first declare cannot
    // reorder messages.
    const turn = this.#turn.then(() => ready)
    this.#turn = turn.then(
      () => {},
      () => {},
    )
    let prepared: Prepared
    try {
      prepared = await turn
    } finally {
      this.#waiting--
    }
    return this.#send(channel, exchange, options, attempts, prepared)
  }

  #send(channel: Channel, exchange: Exchange<any> | string, options: PublishOptions, attempts: Attempts, prepared: Prepared): Promise<PublishConfirm> {
    if (this.onReturn && this.#returnsOn !== channel) this.#listenForReturns(channel)
    const retryOf = attempts.sentTo
    const connection = this.connection
    const brokerId = connection.brokerId
    attempts.sentTo = retryOf === undefined || retryOf === brokerId ? brokerId : ''
    // The channel's request completes this object in place: it is made here for it.
    const args: PublishArgs & { op: 'basic.publish' } = {
      op: 'basic.publish',
      exchange: nameOf(exchange),
      routingKey: options.routingKey ?? this.routingKey,
      mandatory: options.mandatory ?? false,
      properties: prepared.properties,
      body: prepared.body,
      publishId: attempts.publishId,
    }
    if ((options.durability ?? connection.durability) === 'strict') args.durability = 'strict'
    if (retryOf !== undefined) args.retryOf = retryOf
    return channel.request(args, options.timeout === undefined ? {} : { timeout: options.timeout })
  }

  #prepareMessage(body: T, exchange: Exchange<any> | string, options: PublishOptions): Prepared | Promise<Prepared> {
    const defaults = exchange === this.exchange ? (this.#defaults ??= this.#defaultsFor(exchange)) : this.#defaultsFor(exchange)
    return prepareMessage(body, options, defaults)
  }

  #defaultsFor(exchange: Exchange<any> | string): MessageDefaults {
    return { serializer: this.serializer, compression: this.compression, deliveryMode: exchange instanceof Exchange ? exchange.deliveryMode : undefined }
  }

  async #prepare(channel: Channel, declare: ReadonlyArray<Exchange<any> | Queue<any>>, body: T, exchange: Exchange<any> | string, options: PublishOptions): Promise<Prepared> {
    for (const entity of declare) {
      const connection = this.connection
      const session = connection.sessionId
      await connection.maybeDeclare(entity, channel)
      // Cacheable declarations are skipped by later publishes of this session (the
      // connection forgets its cache on every new session, and so does this).
      if (entity.canCacheDeclaration && connection.sessionId === session) this.#declaredIn.set(entity, session)
    }
    return this.#prepareMessage(body, exchange, options)
  }

  #listenForReturns(channel: Channel): void {
    if (!this.onReturn || this.#returnsOn === channel) return
    this.#unlisten?.()
    this.#returnsOn = channel
    this.#unlisten = channel.onReturn(this.onReturn)
  }
}

type MessageDefaults = NonNullable<Parameters<typeof prepareMessage>[2]>

/** The attempts of one publish() call: its publish id, and the broker they were sent to ('' if several). */
interface Attempts {
  readonly publishId: string
  sentTo: string | undefined
}

/** 64 random bits, base 36: a producer's id. */
function randomId(): string {
  const words = crypto.getRandomValues(new Uint32Array(2))
  return words[0]!.toString(36) + words[1]!.toString(36).padStart(7, '0')
}

const abortable = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
