/**
 * One remote RabbitMQ, one WebSocket (Web-STOMP, through @stomp/stompjs), held by the broker
 * host for every context of the browser. It reconnects with backoff and jitter; a refused
 * login is not retried in a storm but after a long pause (`refusedRetryMs`). Links (shovels,
 * federations) register for `open` and send or subscribe while it is open; every send waits
 * for RabbitMQ's RECEIPT, which RabbitMQ gives once the message is routed (and, persistent on
 * durable queues, written): that is the publisher confirm.
 *
 * The login and passcode live here and in the CONNECT frame only: status and errors carry
 * the URL without user info, never the credentials.
 */
import { Client, type IFrame, type IMessage, type StompHeaders } from '@stomp/stompjs'
import type { RemoteError as RemoteErrorData, RemoteState } from '../protocol/remote.js'
import { backoffDelay, type BackoffOptions } from './backoff.js'

export interface RemoteOptions {
  /** ws:// or wss:// URL of RabbitMQ's Web-STOMP endpoint (e.g. wss://host:15673/ws). */
  readonly url: string
  readonly login?: string
  readonly passcode?: string
  /** RabbitMQ virtual host (default '/'). */
  readonly vhost?: string
  /** STOMP heartbeats both ways (ms); 0 = off. Default 10 000: a silently dead socket is noticed. */
  readonly heartbeatMs?: number
  readonly backoff?: BackoffOptions
  /** Pause before trying again after RabbitMQ refused the login (ms). Default 60 000. */
  readonly refusedRetryMs?: number
  /** Largest body a link sends (bytes); bigger ones are refused locally with FRAME_TOO_LARGE. Default 1 MiB. */
  readonly maxMessageBytes?: number
}

/** A failure of a remote operation, with a code (see RemoteError in protocol/remote.ts). */
export class RemoteError extends Error {
  override readonly name = 'RemoteError'
  constructor(readonly code: string, message: string) {
    super(message)
  }
}

export interface Subscription {
  unsubscribe(headers?: StompHeaders): void
}

/** The URL as shown to other contexts: never user info. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return '(invalid URL)'
  }
}

/** A code for a STOMP ERROR frame from RabbitMQ. */
export function errorCode(frame: { headers: Record<string, string>; body: string }, connected: boolean): string {
  const text = `${frame.headers.message ?? ''} ${frame.body}`
  if (/not_found|no exchange|no queue/i.test(text)) return 'NOT_FOUND'
  if (/precondition|inequivalent/i.test(text)) return 'PRECONDITION_FAILED'
  if (/access.refused|access_refused|login|password|virtual host|vhost|not authori[sz]ed/i.test(text)) return 'ACCESS_REFUSED'
  if (/frame.too.large|too large|max.frame/i.test(text)) return 'FRAME_TOO_LARGE'
  return connected ? 'REMOTE_ERROR' : 'ACCESS_REFUSED'
}

interface PendingReceipt {
  resolve(): void
  reject(error: RemoteError): void
}

export class RemoteConnection {
  readonly name: string
  readonly url: string
  readonly vhost: string
  readonly maxMessageBytes: number
  #state: RemoteState = 'connecting'
  #lastError: RemoteErrorData | undefined
  #retryAt: number | undefined
  #attempts = 0
  #failures = 0
  #client: Client | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #nextReceipt = 1
  readonly #pending = new Map<string, PendingReceipt>()
  readonly #openListeners = new Set<() => void>()
  readonly #errorListeners = new Set<(error: RemoteErrorData) => void>()
  readonly #options: RemoteOptions
  readonly #onChange: () => void

  constructor(name: string, options: RemoteOptions, onChange: () => void = () => {}) {
    this.name = name
    this.#options = options
    this.url = publicUrl(options.url)
    this.vhost = options.vhost ?? '/'
    this.maxMessageBytes = options.maxMessageBytes ?? 1 << 20
    this.#onChange = onChange
  }

  get state(): RemoteState {
    return this.#state
  }
  get lastError(): RemoteErrorData | undefined {
    return this.#lastError
  }
  get retryAt(): number | undefined {
    return this.#retryAt
  }
  get attempts(): number {
    return this.#attempts
  }
  get isOpen(): boolean {
    return this.#state === 'open'
  }

  /** [remote] Whether a direct connection to `options` may ride this socket: same URL, vhost and credentials. */
  serves(options: RemoteOptions): boolean {
    const o = this.#options
    return o.url === options.url && (o.vhost ?? '/') === (options.vhost ?? '/') && o.login === options.login && o.passcode === options.passcode
  }

  /** Calls `listener` on every (re)connection, and now if open. Returns an unsubscribe. */
  onOpen(listener: () => void): () => void {
    this.#openListeners.add(listener)
    if (this.isOpen) listener()
    return () => this.#openListeners.delete(listener)
  }

  /** Calls `listener` with every ERROR frame RabbitMQ sends (links find out whether it is about them). */
  onError(listener: (error: RemoteErrorData) => void): () => void {
    this.#errorListeners.add(listener)
    return () => this.#errorListeners.delete(listener)
  }

  start(): void {
    if (this.#client || this.#state === 'stopped') return
    this.#connect()
  }

  /** Closes the socket for good; pending sends reject with CONNECTION_CLOSED. */
  async stop(): Promise<void> {
    this.#setState('stopped')
    clearTimeout(this.#timer)
    const client = this.#client
    this.#client = undefined
    this.#failPending(new RemoteError('CONNECTION_CLOSED', `remote '${this.name}' stopped`))
    await client?.deactivate().catch(() => {})
  }

  /** Drops the socket now (and reconnects after the backoff), as a network cut would. */
  interrupt(): void {
    const ws = this.#client?.webSocket
    if (ws) ws.close()
  }

  /**
   * Sends one frame and resolves on RabbitMQ's RECEIPT. Rejects with CONNECTION_LOST when the
   * socket goes first (the outcome is then unknown: the message may have arrived), or with the
   * code of RabbitMQ's ERROR frame.
   */
  send(destination: string, headers: StompHeaders, body: { body: string } | { binaryBody: Uint8Array }): Promise<void> {
    return this.#withReceipt((client, receipt) =>
      client.publish({ destination, headers: { ...headers, receipt }, ...body, skipContentLengthHeader: false }))
  }

  /** Subscribes while open; the subscription ends with the socket (links subscribe again on open). */
  subscribe(destination: string, headers: StompHeaders, onMessage: (message: IMessage) => void): Subscription {
    const client = this.#client
    if (!client || !this.isOpen) throw new RemoteError('CONNECTION_LOST', `remote '${this.name}' is not connected`)
    return client.subscribe(destination, onMessage, headers)
  }

  /**
   * [remote] Ends a subscription and resolves on RabbitMQ's RECEIPT for the UNSUBSCRIBE: frames
   * are handled in order, so the SUBSCRIBE before it (and the declare it made) has taken effect.
   */
  unsubscribe(subscription: Subscription): Promise<void> {
    return this.#withReceipt((_client, receipt) => subscription.unsubscribe({ receipt }))
  }

  /** Sends one frame carrying a fresh `receipt` header; settles when RabbitMQ answers it. */
  #withReceipt(sendFrame: (client: Client, receipt: string) => void): Promise<void> {
    const client = this.#client
    if (!client || !this.isOpen) return Promise.reject(new RemoteError('CONNECTION_LOST', `remote '${this.name}' is not connected`))
    const receipt = `r${this.#nextReceipt++}`
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(receipt, { resolve, reject })
      client.watchForReceipt(receipt, () => {
        const pending = this.#pending.get(receipt)
        this.#pending.delete(receipt)
        pending?.resolve()
      })
      try {
        sendFrame(client, receipt)
      } catch (error) {
        this.#pending.delete(receipt)
        reject(new RemoteError('CONNECTION_LOST', error instanceof Error ? error.message : String(error)))
      }
    })
  }

  #setState(state: RemoteState): void {
    if (this.#state === 'stopped' && state !== 'stopped') return
    this.#state = state
    this.#onChange()
  }

  #error(code: string, message: string): void {
    this.#lastError = { code, message, at: Date.now() }
  }

  #connect(): void {
    if (this.#state === 'stopped') return
    this.#attempts++
    this.#retryAt = undefined
    this.#setState('connecting')
    const heartbeat = this.#options.heartbeatMs ?? 10_000
    let connected = false
    let refused = false
    let stompError = false
    const client = new Client({
      brokerURL: this.#options.url,
      connectHeaders: {
        ...(this.#options.login !== undefined ? { login: this.#options.login } : {}),
        ...(this.#options.passcode !== undefined ? { passcode: this.#options.passcode } : {}),
        host: this.vhost,
      },
      heartbeatIncoming: heartbeat,
      heartbeatOutgoing: heartbeat,
      // We schedule reconnects ourselves (backoff with jitter, a long pause after a refusal).
      reconnectDelay: 0,
      // A socket that went quiet past the heartbeat is closed rather than left half-open.
      discardWebsocketOnCommFailure: true,
      // A socket that opens but never gets CONNECTED (a node still booting) is given up.
      connectionTimeout: 15_000,
      debug: () => {},
    })
    this.#client = client
    // A message for a subscription already ended (one that raced its UNSUBSCRIBE) goes back to
    // its queue, instead of staying unacked until the socket closes.
    client.onUnhandledMessage = (message) => message.nack({ requeue: 'true' })
    client.onConnect = () => {
      if (this.#client !== client) return
      connected = true
      this.#failures = 0
      this.#setState('open')
      for (const listener of [...this.#openListeners]) {
        try {
          listener()
        } catch {
          // a link's bug must not keep the others from resuming
        }
      }
    }
    client.onStompError = (frame: IFrame) => {
      if (this.#client !== client) return
      const code = errorCode(frame, connected)
      const message = frame.headers.message ?? 'RabbitMQ sent an ERROR frame'
      this.#error(code, `${message}${frame.body ? `: ${frame.body.trim()}` : ''}`)
      stompError = true
      if (!connected && code === 'ACCESS_REFUSED') refused = true
      // Every send in flight fails with it: RabbitMQ closes the socket after an ERROR, so none
      // of them will be confirmed (the one that caused it among them).
      this.#failPending(new RemoteError(code, this.#lastError!.message))
      for (const listener of [...this.#errorListeners]) listener(this.#lastError!)
      // RabbitMQ may leave the socket open after an ERROR (a refused login does): it is done.
      closed()
    }
    const closed = () => {
      if (this.#client !== client) return
      this.#client = undefined
      void client.deactivate().catch(() => {})
      if (this.#state === 'stopped') return
      this.#failPending(new RemoteError('CONNECTION_LOST', `the connection to remote '${this.name}' closed`))
      // An ERROR frame of this attempt says why; otherwise the socket just went.
      if (!stompError) this.#error('CONNECTION_LOST', connected ? `the connection to ${this.url} was lost` : `cannot reach ${this.url}`)
      const delay = refused
        ? this.#options.refusedRetryMs ?? 60_000
        : backoffDelay(this.#failures++, this.#options.backoff)
      this.#retryAt = Date.now() + delay
      this.#setState(refused ? 'refused' : 'offline')
      clearTimeout(this.#timer)
      this.#timer = setTimeout(() => this.#connect(), delay)
    }
    client.onWebSocketClose = closed
    client.activate()
  }

  #failPending(error: RemoteError): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(error)
  }
}
