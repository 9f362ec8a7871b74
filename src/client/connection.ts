/**
 * A connection to a broker (Kombu's `Connection`): one link, many channels. It survives broker
 * restarts: on every new broker session (a welcome after the first one, e.g. with a new epoch)
 * it declares its entities again, reopens its channels, restores prefetch and consumers (same
 * tags) and lets retried publishes through. Until that is done user frames are held back.
 */
import type { ErrorData } from '../protocol/errors.js'
import type { ClientCommand, ServerEvent, Welcome } from '../protocol/frames.js'
import type { ConnectOptions, Connector, Link } from '../transport/link.js'
import { Channel, type ChannelHost, type Durability } from './channel.js'
import { Consumer, type ConsumerOptions } from './consumer.js'
import {
  BrokerUnavailableError,
  ConnectionClosedError,
  TimeoutError,
  WarrenError,
  fromErrorData,
  isRecoverable,
} from './errors.js'
import type { Exchange } from './exchange.js'
import type { Message } from './message.js'
import { Producer, type ProducerOptions } from './producer.js'
import type { Queue } from './queue.js'
import { Requests } from './requests.js'
import { checkAccepted, resolveAccept } from './serialization.js'
import { defaultRetryPolicy, retryInterval, type RetryPolicy } from './retry.js'
// Loaded on first use (a lazy chunk): most pages never make a request/reply call.
import type { ReplyClient, RpcOptions, ServeOptions, RpcHandler, ReplyOptions } from './rpc.js'
import { StorageAccess } from './storage-access.js'
import { Topology } from './topology.js'
import { parseUrl, resolveConnector } from './transports.js'
import { AsyncQueue } from './util/async-queue.js'
import { deferred, type Deferred } from './util/deferred.js'
import { sleep } from './util/sleep.js'

const MAX_CHANNEL = 65535

const isErrorData = (error: unknown): error is ErrorData =>
  error instanceof Error && typeof (error as { code?: unknown }).code === 'string'

export interface ConnectionOptions {
  /** `shared://` (default; vhost '/'), `shared://orders`, `memory://`… */
  url?: string
  /** Use this connector instead of resolving one from the URL (tests, custom links). */
  transport?: Connector
  /** Milliseconds to wait for the broker's welcome. Default 5000. */
  connectTimeout?: number
  /** Milliseconds to wait for any reply (declares, confirms…). Default 10000. */
  requestTimeout?: number
  /** The policy of `ensure` and of publish retries. */
  retry?: RetryPolicy
  /** A label shown in the broker's management view. */
  name?: string
  /**
   * `shared://` only: 'auto' (default) runs the broker in a SharedWorker where this context
   * can start one, else in a context elected through Web Locks; 'elected' always elects;
   * 'shared-worker' never does.
   */
  host?: ConnectOptions['host']
  /**
   * `shared://` only: 'port' (default in a window that starts the SharedWorker: frames over a
   * MessagePort, the faster link) or 'broadcast' (BroadcastChannel; the only link of dedicated
   * and service workers, and the default there).
   */
  link?: ConnectOptions['link']
  /**
   * `shared://` in a window: starts the broker's SharedWorker (pass `name` through), e.g.
   * `(name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name })`.
   * Default: the factory given to `useSharedWorker`.
   */
  sharedWorker?: ConnectOptions['sharedWorker']
  /**
   * 'strict': every persistent publish of this connection is confirmed only after its
   * IndexedDB transaction is flushed to disk (fsync), surviving an OS crash; about half the
   * throughput. Default 'relaxed' (or the broker's default, or the queue's x-durability).
   */
  durability?: Durability
  /** [remote] `stomp+ws://` and `stomp+wss://` (a direct connection to RabbitMQ): its login. */
  login?: string
  /** [remote] The passcode; handed to the broker host once, never in any other context's frames. */
  passcode?: string
  /** [remote] RabbitMQ's virtual host (default '/'). */
  vhost?: string
}

export type ConnectionStatus =
  | { type: 'connected'; epoch: number; brokerId: string; recovered: boolean }
  | { type: 'reconnecting'; reason: Error }
  | { type: 'disconnected'; reason?: Error }
  /** A callback threw, a body could not be decoded, or recovery could not redeclare something. */
  | { type: 'error'; error: unknown }

export type ConnectionState = 'connected' | 'reconnecting' | 'closed'

/** Something maybeDeclare can declare (Exchange or Queue). */
export interface Declarable {
  readonly cacheKey: string
  readonly canCacheDeclaration: boolean
  bind(target: Channel | Connection): { declare(): Promise<unknown> }
}

export type ConsumeOptions<T> = Omit<ConsumerOptions<T>, 'queues' | 'callbacks' | 'onMessage' | 'ownsChannel'>

// A ChannelHost structurally (new Channel(this) checks it), not by `implements`: those members are internal, stripped from the public types.
export class Connection implements AsyncDisposable {
  readonly url: string
  readonly vhost: string
  readonly name: string | undefined
  readonly requestTimeout: number
  readonly connectTimeout: number
  readonly retryPolicy: RetryPolicy
  readonly durability: Durability
  /** @internal */
  readonly requests: Requests
  /** @internal The entities this connection declared, replayed after a reconnect. */
  readonly topology = new Topology()
  readonly #link: Link
  readonly #unlisten: () => void
  readonly #channels = new Map<number, Channel>()
  #nextChannel = 1
  #nextTag = 1
  #default: Channel | undefined
  #welcome: Welcome
  readonly #storage = new StorageAccess(undefined, () => this.#welcome.storage)
  #state: ConnectionState = 'connected'
  #ready = true
  #linkUp = true
  #sessionId = 0
  #closeError: WarrenError | undefined
  #closing: Promise<void> | undefined
  readonly #declared = new Map<string, Promise<void>>()
  readonly #statusListeners = new Set<AsyncQueue<ConnectionStatus>>()
  readonly #readyWaiters = new Set<Deferred<void>>()
  readonly #drainWaiters = new Set<Deferred<void>>()
  /** Dispatches no drainEvents call has accounted for yet (an error if a callback threw). */
  readonly #undrained: unknown[] = []
  #rpc: Promise<ReplyClient> | undefined
  #lastFailure: { channel: number; error: WarrenError; data: ErrorData } | undefined

  /** Opens a connection; resolves once the broker welcomed it. */
  static async open(urlOrOptions: string | ConnectionOptions = {}, more: ConnectionOptions = {}): Promise<Connection> {
    const options = typeof urlOrOptions === 'string' ? { ...more, url: urlOrOptions } : urlOrOptions
    const url = options.url ?? 'shared://'
    // [remote] stomp+ws://host/ws reaches RabbitMQ's Web-STOMP at ws://host/ws through the broker host.
    const stomp = /^stomp\+(wss?:\/\/.*)$/i.exec(url)
    const remote = stomp
      ? { url: stomp[1]!, ...(options.login !== undefined ? { login: options.login } : {}), ...(options.passcode !== undefined ? { passcode: options.passcode } : {}), ...(options.vhost !== undefined ? { vhost: options.vhost } : {}) }
      : undefined
    const { vhost } = parseUrl(url)
    const connectTimeout = options.connectTimeout ?? 5000
    const connector = options.transport ?? (await resolveConnector(url))
    const timeoutError = new BrokerUnavailableError(`no broker answered on '${url}' within ${connectTimeout} ms`)
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError), connectTimeout)
    })
    const connecting = connector({
      vhost,
      connectTimeout,
      ...(options.name ? { clientName: options.name } : {}),
      ...(options.host ? { host: options.host } : {}),
      ...(options.link ? { link: options.link } : {}),
      ...(options.sharedWorker ? { sharedWorker: options.sharedWorker } : {}),
      ...(remote ? { remote } : {}),
    })
    try {
      const { link, welcome } = await Promise.race([connecting, timeout])
      return new Connection(link, welcome, { ...options, url, connectTimeout })
    } catch (error) {
      // A link that shows up after we gave up must not linger.
      connecting.then(({ link }) => link.close()).catch(() => {})
      if (error instanceof WarrenError) throw error
      // Links fail with errors shaped like ErrorData (name and code): rebuild their class.
      if (isErrorData(error)) throw fromErrorData(error, { cause: error })
      throw new BrokerUnavailableError(`could not connect to '${url}': ${(error as Error)?.message ?? error}`, { cause: error })
    } finally {
      clearTimeout(timer)
    }
  }

  private constructor(link: Link, welcome: Welcome, options: ConnectionOptions & { url: string; connectTimeout: number }) {
    this.#link = link
    this.#welcome = welcome
    this.url = options.url
    this.vhost = /^stomp\+/i.test(options.url) ? (options.vhost ?? '/') : parseUrl(options.url).vhost
    this.name = options.name
    this.connectTimeout = options.connectTimeout
    this.requestTimeout = options.requestTimeout ?? 10000
    this.requests = new Requests(this.requestTimeout)
    this.retryPolicy = { ...defaultRetryPolicy, ...options.retry }
    this.durability = options.durability ?? 'relaxed'
    this.#unlisten = link.listen({
      frame: (frame) => this.#frame(frame),
      welcome: (next) => this.#welcomed(next),
      down: (reason) => this.#down(reason),
    })
  }

  // ---------------------------------------------------------------- state

  get clientId(): string {
    return this.#link.clientId
  }

  /** The broker's epoch: it grows on every broker start. */
  get epoch(): number {
    return this.#welcome.epoch
  }

  get brokerId(): string {
    return this.#welcome.brokerId
  }

  /** The origin's storage: persist() (from a window), persisted(), estimate(); and the broker's (`broker`). */
  get storage(): StorageAccess {
    return this.#storage
  }

  get state(): ConnectionState {
    return this.#state
  }

  get isClosed(): boolean {
    return this.#state === 'closed'
  }

  /** @internal True when user frames may go out (connected and recovered). */
  get ready(): boolean {
    return this.#ready
  }

  /** @internal */
  get linkUp(): boolean {
    return this.#linkUp
  }

  /** @internal */
  get sessionId(): number {
    return this.#sessionId
  }

  /** @internal */
  get connection(): Connection {
    return this
  }

  /**
   * Connection events as they happen: connected (again), reconnecting, disconnected, and
   * errors from callbacks. Each iteration sees the events from when it started.
   */
  get status(): AsyncIterable<ConnectionStatus> {
    return {
      [Symbol.asyncIterator]: () => {
        const listener = new AsyncQueue<ConnectionStatus>(() => this.#statusListeners.delete(listener))
        if (this.#state === 'closed') listener.end()
        else this.#statusListeners.add(listener)
        return listener
      },
    }
  }

  /** Resolves when the connection is connected and recovered. */
  whenReady(timeout = this.connectTimeout): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(this.#closeError)
    if (this.#ready) return Promise.resolve()
    const waiter = deferred<void>()
    this.#readyWaiters.add(waiter)
    const timeoutError = new BrokerUnavailableError(`the broker did not come back within ${timeout} ms`)
    const timer = setTimeout(() => waiter.reject(timeoutError), timeout)
    return waiter.promise.finally(() => {
      clearTimeout(timer)
      this.#readyWaiters.delete(waiter)
    })
  }

  // ---------------------------------------------------------------- channels

  /** Opens a new channel. */
  async channel(): Promise<Channel> {
    const channel = this.#createChannel()
    await channel.opened
    return channel
  }

  /** The connection's own channel, reopened transparently after it closed on an error. */
  get defaultChannel(): Channel {
    if (!this.#default || this.#default.state !== 'open') this.#default = this.#createChannel()
    return this.#default
  }

  /** The next free channel number, wrapping at AMQP's 65535 (freed numbers are reused late). */
  #allocateChannel(): number {
    for (let tries = 0; tries < MAX_CHANNEL; tries++) {
      const number = this.#nextChannel
      this.#nextChannel = number >= MAX_CHANNEL ? 1 : number + 1
      if (!this.#channels.has(number)) return number
    }
    throw new WarrenError(`all ${MAX_CHANNEL} channels of the connection are open`)
  }

  #createChannel(): Channel {
    const channel = new Channel(this, this.#allocateChannel())
    this.#channels.set(channel.number, channel)
    if (this.#state === 'closed') channel.terminate(this.#closeError!, true)
    return channel
  }

  // ---------------------------------------------------------------- messaging

  producer<T = unknown>(options: ProducerOptions = {}): Producer<T> {
    return new Producer<T>(this, options)
  }

  consumer<T = unknown>(queues: ConsumerOptions<T>['queues'], options: Omit<ConsumerOptions<T>, 'queues'> = {}): Consumer<T> {
    return new Consumer<T>(this, { ...options, queues })
  }

  /**
   * Consumes a queue as an async iterator, on a channel of its own (closed, and its unacked
   * messages requeued, when the iteration ends).
   *
   * ```ts
   * for await (const message of conn.consume(video, { prefetch: 10 })) { … message.ack() }
   * ```
   */
  consume<T>(queue: Queue<T> | string, options: ConsumeOptions<T> = {}): Consumer<T> {
    return new Consumer<T>(this.#createChannel(), { ...options, queues: queue, ownsChannel: true })
  }

  /**
   * Request/reply: publishes `body` with a reply queue and a correlation id and resolves with
   * the reply's body. A string or Queue target goes through the default exchange. A
   * `Queue<Req, Res>` types both: `body` must be a Req and the result is a Res.
   */
  rpc<Req = unknown, Res = unknown>(
    target: Exchange<Req> | Queue<Req, Res> | Queue<Req> | string,
    body: Req,
    options: RpcOptions = {},
  ): Promise<Res> {
    const timeoutError = new TimeoutError(`no reply within ${options.timeout ?? this.requestTimeout} ms`)
    this.#rpc ??= import('./rpc.js').then(({ ReplyClient }) => new ReplyClient(this))
    return this.#rpc
      .then((client) => client.call<Req>(target, body, options, timeoutError))
      .then((reply) => {
        if (options.accept) checkAccepted(reply.contentType, resolveAccept(options.accept))
        return reply.body as Res
      })
  }

  /**
   * Answers requests from a queue with `handler`'s result (see `rpc`). With a `Queue<Req, Res>`
   * the handler gets a Req and must return a Res (or a promise of one).
   */
  serve<Req = unknown, Res = unknown>(
    queue: Queue<Req, Res> | Queue<Req> | string,
    handler: RpcHandler<Req, Res>,
    options: ServeOptions = {},
  ): Promise<Consumer<Req>> {
    return import('./rpc.js').then(({ serve }) => serve(this, queue, handler, options))
  }

  /** Publishes `body` as the reply to a request message (Kombu's send_reply). */
  reply<Res>(request: Message<unknown>, body: Res, options: ReplyOptions = {}): Promise<unknown> {
    return import('./rpc.js').then(({ reply }) => reply(this, request, body, options))
  }

  /**
   * Resolves once a delivery was dispatched to a callback consumer (Kombu's drain_events);
   * rejects with TimeoutError when none came in time. Each call accounts for one dispatch:
   * deliveries dispatched while nobody was draining are counted, so a loop like
   * `while (seen < n) await conn.drainEvents()` never misses one.
   */
  drainEvents(options: { timeout?: number } = {}): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(this.#closeError)
    if (this.#undrained.length > 0) {
      const error = this.#undrained.shift()
      return error === undefined ? Promise.resolve() : Promise.reject(error)
    }
    const waiter = deferred<void>()
    this.#drainWaiters.add(waiter)
    const { timeout } = options
    let timer: ReturnType<typeof setTimeout> | undefined
    if (timeout !== undefined) {
      const timeoutError = new TimeoutError(`no message arrived within ${timeout} ms`)
      timer = setTimeout(() => waiter.reject(timeoutError), timeout)
    }
    return waiter.promise.finally(() => {
      clearTimeout(timer)
      this.#drainWaiters.delete(waiter)
    })
  }

  /**
   * @internal A callback consumer dispatched a message; `error` if a callback threw (it
   * reaches drainEvents and `status`).
   */
  dispatched(error?: unknown): void {
    if (error !== undefined) this.#emit({ type: 'error', error })
    if (this.#drainWaiters.size === 0) {
      if (this.#undrained.length < 10_000) this.#undrained.push(error)
      return
    }
    for (const waiter of this.#drainWaiters) {
      if (error === undefined) waiter.resolve()
      else waiter.reject(error)
    }
  }

  /** @internal An error nobody awaits (e.g. recovery could not redeclare): reported on `status`. */
  reportError(error: unknown): void {
    this.#emit({ type: 'error', error })
  }

  // ---------------------------------------------------------------- declarations and retries

  /**
   * Declares an entity unless this connection already did (Kombu's maybe_declare). Auto-delete
   * entities are always declared; the cache is cleared when the broker session changes.
   */
  maybeDeclare(entity: Declarable, channel?: Channel): Promise<void> {
    const declare = async () => {
      await entity.bind(channel ?? this).declare()
    }
    if (!entity.canCacheDeclaration) return declare()
    const key = entity.cacheKey
    let declared = this.#declared.get(key)
    if (!declared) {
      declared = declare()
      this.#declared.set(key, declared)
      const entry = declared
      declared.catch(() => {
        if (this.#declared.get(key) === entry) this.#declared.delete(key)
      })
    }
    return declared
  }

  /**
   * Runs `fn`, and when it fails with a recoverable error (the broker went away) waits for the
   * reconnect and runs it again, under the retry policy (Kombu's ensure).
   */
  ensure<T>(fn: () => Promise<T>, policy: RetryPolicy & { signal?: AbortSignal } = {}): Promise<T> {
    // The first attempt costs one promise: publishes go through here by the thousand.
    return fn().catch((error: unknown) => this.retryAfter(error, fn, policy))
  }

  /** @internal The retry half of ensure, for callers that made the first attempt themselves. */
  retryAfter<T>(error: unknown, fn: () => Promise<T>, policy: RetryPolicy & { signal?: AbortSignal } = {}): Promise<T> {
    return this.#retry(fn, { ...this.retryPolicy, ...policy }, error)
  }

  async #retry<T>(fn: () => Promise<T>, policy: RetryPolicy & { signal?: AbortSignal }, error: unknown): Promise<T> {
    const maxRetries = policy.maxRetries ?? defaultRetryPolicy.maxRetries
    for (let attempt = 1; ; attempt++) {
      if (!isRecoverable(error) || this.#state === 'closed' || attempt > maxRetries) throw error
      policy.signal?.throwIfAborted()
      policy.onRetry?.(error, attempt)
      await sleep(retryInterval(policy, attempt), policy.signal)
      await this.whenReady().catch(() => {})
      try {
        return await fn()
      } catch (next) {
        error = next
      }
    }
  }

  /** Wraps `fn` so that every call goes through `ensure` (Kombu's autoretry). */
  autoretry<A extends unknown[], T>(fn: (...args: A) => Promise<T>, policy: RetryPolicy = {}): (...args: A) => Promise<T> {
    return (...args) => this.ensure(() => fn(...args), policy)
  }

  // ---------------------------------------------------------------- closing

  /** Says goodbye: the broker requeues unacked messages and drops exclusive queues. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(new ConnectionClosedError('the connection was closed by the application'), false)
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #shutdown(error: WarrenError, failed: boolean): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#ready = false
    this.#closeError = error
    this.requests.rejectAll(error)
    for (const channel of [...this.#channels.values()]) channel.terminate(error, failed)
    for (const waiter of this.#readyWaiters) waiter.reject(error)
    for (const waiter of this.#drainWaiters) waiter.reject(error)
    this.#unlisten()
    try {
      await this.#link.close()
    } catch {
      // The link is gone either way.
    }
    this.#emit(failed ? { type: 'disconnected', reason: error } : { type: 'disconnected' })
    for (const listener of this.#statusListeners) listener.end()
    this.#statusListeners.clear()
  }

  // ---------------------------------------------------------------- ChannelHost

  /** @internal */
  sendFrame(frame: ClientCommand): void {
    this.#link.send(frame)
  }

  /** @internal */
  nextConsumerTag(prefix = 'ctag'): string {
    return `${prefix}-${this.#nextTag++}`
  }

  /** @internal */
  channelGone(channel: Channel): void {
    if (this.#channels.get(channel.number) === channel) this.#channels.delete(channel.number)
  }

  // ---------------------------------------------------------------- link events

  #frame(frame: ServerEvent): void {
    switch (frame.op) {
      case 'ok':
        this.requests.settle(frame)
        return
      case 'error': {
        const failed = this.requests.settle(frame)
        if (failed && frame.error.closes === 'channel') this.#lastFailure = { ...failed, data: frame.error }
        return
      }
      case 'basic.deliver':
        this.#channels.get(frame.channel)?.handleDeliver(frame)
        return
      case 'basic.return':
        this.#channels.get(frame.channel)?.handleReturn(frame)
        return
      case 'basic.cancel-notify':
        this.#channels.get(frame.channel)?.handleCancel(frame)
        return
      case 'channel.closed': {
        // The broker answers the failing request, then closes its channel: one error object.
        const last = this.#lastFailure
        this.#lastFailure = undefined
        const same = last?.channel === frame.channel && last.data.code === frame.error.code && last.data.message === frame.error.message
        this.#channels.get(frame.channel)?.terminate(same ? last.error : fromErrorData(frame.error), true)
        return
      }
      case 'connection.closed':
        this.#closing ??= this.#shutdown(fromErrorData(frame.error), true)
        return
    }
  }

  #down(reason: Error): void {
    if (this.#state === 'closed' || !this.#linkUp) return
    this.#linkUp = false
    this.#ready = false
    this.#state = 'reconnecting'
    this.requests.rejectAll(new ConnectionClosedError(`the link to the broker was lost: ${reason.message}`, { cause: reason }))
    for (const channel of this.#channels.values()) channel.linkDown()
    // Links fail with LinkErrors (ErrorData-shaped): an application sees a WarrenError.
    this.#emit({ type: 'reconnecting', reason: reason instanceof WarrenError || !isErrorData(reason) ? reason : fromErrorData(reason, { cause: reason }) })
  }

  #welcomed(welcome: Welcome): void {
    if (this.#state === 'closed') return
    // The connector already handed us the first welcome; a link may repeat it to a new listener.
    if (welcome === this.#welcome && this.#linkUp) return
    // Every later welcome is a new broker session: whatever the broker knew of us is gone.
    if (this.#linkUp) this.#down(new ConnectionClosedError('the broker started a new session'))
    const previous = this.#welcome
    this.#welcome = welcome
    this.#linkUp = true
    this.#sessionId++
    const sameBroker = previous.brokerId === welcome.brokerId && previous.epoch === welcome.epoch
    this.#recover(this.#sessionId, sameBroker).catch((error) => this.reportError(error))
  }

  async #recover(session: number, sameBroker: boolean): Promise<void> {
    this.#declared.clear()
    const stale = () => session !== this.#sessionId || this.#state === 'closed'
    const channels = [...this.#channels.values()]
    // The same broker may have kept our old session (a hello answered before it noticed we
    // were gone): close its channels first, so that everything starts afresh and deliveries
    // we can no longer ack go back to their queues. Closing a channel it lacks is harmless.
    if (sameBroker) await Promise.allSettled(channels.map((channel) => channel.closeOnBroker()))
    if (stale()) return
    await Promise.allSettled(channels.map((channel) => channel.reopen()))
    if (stale()) return
    const failures = await this.#replayTopology(stale)
    if (stale()) return
    // Channels created while recovering were never opened on this session: open them too.
    for (;;) {
      const late = [...this.#channels.values()].filter((channel) => !channel.openOnBroker)
      if (late.length === 0) break
      await Promise.allSettled(late.map((channel) => channel.reopen()))
      if (stale()) return
    }
    const restoring = [...this.#channels.values()].map((channel) =>
      channel.restore().catch((error) => failures.push(error)),
    )
    await Promise.all(restoring)
    if (stale()) return
    this.#ready = true
    this.#state = 'connected'
    for (const channel of [...this.#channels.values()]) {
      // Opened during the restore step: channel.open goes first, its held frames right after.
      if (!channel.openOnBroker) channel.reopen().catch(() => {})
      channel.release()
    }
    for (const waiter of this.#readyWaiters) waiter.resolve()
    for (const error of failures) this.#emit({ type: 'error', error })
    this.#emit({ type: 'connected', epoch: this.epoch, brokerId: this.brokerId, recovered: true })
  }

  /** Redeclares the recorded entities on a channel of their own, replaced if an error closes it. */
  async #replayTopology(stale: () => boolean): Promise<unknown[]> {
    if (this.topology.size === 0) return []
    let channel: Channel | undefined
    const current = () => {
      if (!channel || channel.state !== 'open') {
        channel = new Channel(this, this.#allocateChannel(), { internal: true })
        this.#channels.set(channel.number, channel)
        channel.reopen().catch(() => {})
      }
      return channel
    }
    const failures = await this.topology.replay(() => current())
    const used = channel as Channel | undefined
    if (used) {
      if (!stale()) await used.close()
      this.channelGone(used)
    }
    return failures
  }

  #emit(status: ConnectionStatus): void {
    for (const listener of this.#statusListeners) listener.push(status)
  }
}
