/**
 * The client side of a link to a broker in another context: the hello/welcome handshake,
 * client liveness by Web Lock, broker-death detection by Web Lock, reconnection, and the
 * back/forward cache. What carries the frames (a BroadcastChannel pair or a MessagePort) is
 * a `Wire`, opened again for every broker the link talks to.
 *
 * Order of things, and why:
 * 1. take the client lock `warren:<vhost>:client:<id>` first: the broker requests it on hello
 *    and would drop a client that does not hold it;
 * 2. say hello until a welcome arrives (a broker may still be starting);
 * 3. after the welcome, queue on the broker lock: it is granted when the broker is gone, and
 *    then the link reports `down`, restarts the broker if it can, and says hello again.
 *
 * Every batch carries the session id of the last welcome. When the broker answers that it does
 * not know that session (`unknown-session`: it ended it, or another hello replaced it), the
 * link reports `down` and says hello again naming the old session, which lets the broker
 * replace it if it still stands; the connection then recovers as after a broker restart.
 */
import type { ClientBatch, ClientCommand, ClientFrame, ClientKind, Hello, ServerEvent, UnknownSession, Welcome } from '../protocol/frames.js'
import { toWire } from '../protocol/compact.js'
import { parseServerFrame } from '../protocol/server-guards.js'
import { PROTOCOL_VERSION } from '../protocol/version.js'
import { Batcher, postEach } from './batch.js'
import { LinkError } from './errors.js'
import type { Link, LinkListener } from './link.js'
import { defaultLocks, holdLock, type LockManagerLike } from './locks.js'
import { brokerLockName, clientLockName } from './names.js'

/** Carries batches to one broker and its frames back. */
export interface Wire {
  /** Posts one batch; may throw if structured clone refuses it. */
  post(batch: ClientBatch): void
  close(): void
}

/** Opens a wire; `receive` gets every post from the broker (an array of frames, unchecked). */
export type OpenWire = (receive: (data: unknown) => void) => Wire

export interface ClientLinkOptions {
  vhost: string
  /** How long the first connect waits for a welcome before failing with BROKER_UNAVAILABLE. */
  connectTimeout: number
  openWire: OpenWire
  clientName?: string
  kind?: ClientKind
  clientId?: string
  locks?: LockManagerLike
  /**
   * Starts the broker if this context can (a window creating the SharedWorker). Called
   * before the first hello, with `restart` after the broker was lost and after a bfcache
   * restore. `fail` aborts a pending first connect with that cause (e.g. the worker script
   * did not load).
   */
  ensureBroker?: (restart: boolean, fail: (cause: unknown) => void) => void
  /**
   * Hook for an elected host (a later issue): called when this link is granted the broker
   * lock, i.e. the broker is gone. Return a promise to keep holding the lock until it
   * settles (this context becomes the host); return nothing to release it at once.
   */
  onBrokerLockGranted?: () => Promise<void> | void
  /** Where `pagehide`/`pageshow` fire (windows); default: the global scope when it has them. */
  lifecycle?: EventTarget | null
  /** Called once when the link closes (by `close()` or a failed start). */
  onClose?: () => void
  /** Delays between hellos; the last one repeats. */
  helloDelays?: readonly number[]
  /** Delay between hellos once the broker has been gone longer than `connectTimeout`. */
  slowHelloDelay?: number
}

type State = 'idle' | 'connecting' | 'up' | 'down' | 'frozen' | 'closed'

export interface LinkStats {
  /** Frames handed to `send`. */
  sent: number
  /** Posts made (batches). */
  posts: number
  /** Frames received and passed to listeners. */
  received: number
  /** Inbound frames that failed validation. */
  invalid: number
  /** Frames refused while the link was not up (each request among them got an error reply). */
  refused: number
  /** Welcomes after the first one. */
  reconnects: number
  /** 'unknown-session' answers about this link's session (each made it say hello again). */
  unknownSessions: number
}

const DEFAULT_HELLO_DELAYS = [20, 40, 80, 160, 250]

const closedError = (message: string) => new LinkError('CONNECTION_CLOSED', message)

export class ClientLink implements Link {
  readonly clientId: string
  readonly vhost: string
  readonly stats: LinkStats = { sent: 0, posts: 0, received: 0, invalid: 0, refused: 0, reconnects: 0, unknownSessions: 0 }

  readonly #options: ClientLinkOptions
  readonly #locks: LockManagerLike | undefined
  readonly #listeners = new Set<LinkListener>()
  /** Events that arrived before anyone listened (between the welcome and `listen`). */
  #early: ServerEvent[] = []
  readonly #outbox: Batcher<ClientFrame>
  #state: State = 'idle'
  #wire: Wire | undefined
  #welcome: Welcome | undefined
  #releaseClientLock: (() => void) | undefined
  #lockAbort: AbortController | undefined
  #watch: AbortController | undefined
  #helloTimer: ReturnType<typeof setTimeout> | undefined
  #attempt = 0
  #downSince = 0
  #first: { resolve(w: Welcome): void; reject(e: unknown): void; timer: ReturnType<typeof setTimeout> } | undefined
  #unlisten: (() => void) | undefined
  #onClose: (() => void) | undefined

  constructor(options: ClientLinkOptions) {
    this.#options = options
    this.vhost = options.vhost
    this.clientId = options.clientId ?? crypto.randomUUID()
    this.#locks = options.locks ?? defaultLocks()
    this.#onClose = options.onClose
    this.#outbox = new Batcher((frames) => this.#post(frames))
  }

  /** 'idle' | 'connecting' | 'up' | 'down' | 'frozen' | 'closed' */
  get state(): State {
    return this.#state
  }

  /** The last welcome (epoch and broker id of the broker served by). */
  get welcome(): Welcome | undefined {
    return this.#welcome
  }

  /** Connects; resolves with the first welcome or rejects with BROKER_UNAVAILABLE. */
  start(): Promise<Welcome> {
    if (this.#state !== 'idle') return Promise.reject(new Error('ClientLink.start() called twice'))
    this.#state = 'connecting'
    this.#listenLifecycle()
    return new Promise<Welcome>((resolve, reject) => {
      const timer = setTimeout(() => this.#failStart(), this.#options.connectTimeout)
      this.#first = { resolve, reject, timer }
      void this.#begin(false)
    })
  }

  send(frame: ClientCommand): void {
    this.stats.sent++
    if (this.#state !== 'up') {
      this.#refuse(frame)
      return
    }
    this.#outbox.push(frame)
  }

  listen(listener: LinkListener): () => void {
    this.#listeners.add(listener)
    if (this.#early.length > 0) {
      const early = this.#early
      this.#early = []
      queueMicrotask(() => {
        for (const frame of early) this.#emitFrame(frame)
      })
    }
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Says hello right now instead of at the next retry (the broker announced it is ready). */
  nudge(): void {
    if (this.#state !== 'connecting' && this.#state !== 'down') return
    if (this.#wire === undefined) return
    clearTimeout(this.#helloTimer)
    this.#attempt = 0
    this.#hello()
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    const hadWire = this.#wire !== undefined
    this.#outbox.flush()
    if (hadWire) this.#goodbye()
    this.#state = 'closed'
    const first = this.#first
    this.#first = undefined
    if (first) {
      clearTimeout(first.timer)
      first.reject(closedError('the link was closed before the broker answered'))
    }
    this.#teardown()
  }

  // ------------------------------------------------------------------ connecting

  async #begin(restart: boolean): Promise<void> {
    // The broker starts (a SharedWorker takes tens of ms) while the client lock is granted:
    // only the hello has to wait for that lock.
    try {
      this.#options.ensureBroker?.(restart, (cause) => this.#failStart(cause))
    } catch (error) {
      this.#failStart(error)
      return
    }
    const locks = this.#locks
    if (locks) {
      const abort = new AbortController()
      this.#lockAbort = abort
      try {
        const release = await holdLock(locks, clientLockName(this.vhost, this.clientId), abort.signal)
        if (this.#lockAbort !== abort || (this.#state !== 'connecting' && this.#state !== 'down')) {
          release()
          return
        }
        this.#releaseClientLock = release
      } catch (error) {
        if (this.#lockAbort === abort) this.#failStart(error)
        return
      }
    }
    if (this.#state !== 'connecting' && this.#state !== 'down') return
    this.#openWire()
    this.#attempt = 0
    this.#hello()
  }

  #openWire(): void {
    this.#wire?.close()
    this.#wire = undefined
    const wire = this.#options.openWire((data) => {
      if (this.#wire === wire) this.#receive(data)
    })
    this.#wire = wire
  }

  #hello(): void {
    if (this.#state !== 'connecting' && this.#state !== 'down') return
    const { clientName, kind } = this.#options
    const hello: { -readonly [K in keyof Hello]: Hello[K] } = { op: 'hello', clientId: this.clientId, protocol: PROTOCOL_VERSION, kind: kind ?? 'unknown' }
    if (clientName) hello.name = clientName
    // Names the session this link held: the broker replaces it if it still stands.
    const held = this.#welcome?.session
    if (held !== undefined) hello.session = held
    this.#post([hello])
    const delays = this.#options.helloDelays ?? DEFAULT_HELLO_DELAYS
    const slow = this.#state === 'down' && Date.now() - this.#downSince > this.#options.connectTimeout
    const delay = slow ? (this.#options.slowHelloDelay ?? 1000) : delays[Math.min(this.#attempt, delays.length - 1)]!
    this.#attempt++
    this.#helloTimer = setTimeout(() => this.#hello(), delay)
  }

  #failStart(cause?: unknown): void {
    const first = this.#first
    if (!first) return
    this.#first = undefined
    clearTimeout(first.timer)
    if (this.#wire) this.#goodbye()
    this.#state = 'closed'
    this.#teardown()
    const timeout = this.#options.connectTimeout
    const message =
      cause === undefined
        ? `no broker answered on vhost '${this.vhost}' within ${timeout} ms`
        : `the broker for vhost '${this.vhost}' could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`
    first.reject(new LinkError('BROKER_UNAVAILABLE', message, cause === undefined ? undefined : { cause }))
  }

  // ------------------------------------------------------------------ inbound

  #receive(data: unknown): void {
    if (!Array.isArray(data)) {
      this.stats.invalid++
      return
    }
    for (const raw of data) {
      const frame = parseServerFrame(raw)
      if (frame === null) {
        this.stats.invalid++
        continue
      }
      switch (frame.op) {
        case 'welcome':
          this.#onWelcome(frame)
          break
        case 'unknown-session':
          if (this.#isAboutUs(frame)) {
            this.stats.unknownSessions++
            this.#lost(closedError('the broker no longer knows this session'), false)
          }
          break
        case 'pong':
          break
        default:
          // Events from a broker session that is over (or not yet begun) must not reach the
          // client: their delivery tags mean nothing to the next session.
          if (this.#state === 'up') this.#emitFrame(frame)
      }
    }
  }

  /**
   * Whether an 'unknown-session' means this link's session: it names it, or it names none and
   * comes from another broker than ours (a new broker telling every live client at once).
   */
  #isAboutUs(frame: UnknownSession): boolean {
    const current = this.#welcome
    if (frame.clientId !== this.clientId || this.#state !== 'up' || current === undefined) return false
    return frame.session === undefined ? frame.epoch !== current.epoch : frame.session === current.session
  }

  #onWelcome(welcome: Welcome): void {
    if (welcome.clientId !== this.clientId || welcome.protocol !== PROTOCOL_VERSION) return
    if (this.#state === 'up') {
      const current = this.#welcome
      // A duplicate of the welcome we have. Another session id is a new session of ours
      // (over BroadcastChannel, a hello someone sent naming our session replaced it).
      if (current && current.session === welcome.session) return
      this.#welcome = welcome
      this.#watchBroker()
      for (const listener of [...this.#listeners]) listener.welcome(welcome)
      return
    }
    if (this.#state !== 'connecting' && this.#state !== 'down') return
    clearTimeout(this.#helloTimer)
    this.#welcome = welcome
    this.#state = 'up'
    this.#watchBroker()
    const first = this.#first
    if (first) {
      this.#first = undefined
      clearTimeout(first.timer)
      first.resolve(welcome)
      return
    }
    this.stats.reconnects++
    for (const listener of [...this.#listeners]) listener.welcome(welcome)
  }

  #emitFrame(frame: ServerEvent): void {
    if (this.#listeners.size === 0) {
      if (this.#early.length < 100_000) this.#early.push(frame)
      return
    }
    this.stats.received++
    for (const listener of this.#listeners) listener.frame(frame)
  }

  // ------------------------------------------------------------------ liveness

  /** Queues on the broker lock: the grant means the broker is gone. */
  #watchBroker(): void {
    const locks = this.#locks
    if (!locks) return
    this.#watch?.abort()
    const watch = new AbortController()
    this.#watch = watch
    locks
      .request(brokerLockName(this.vhost), { signal: watch.signal }, () => {
        if (this.#watch !== watch) return undefined
        this.#watch = undefined
        const hold = this.#options.onBrokerLockGranted?.()
        this.#lost(new LinkError('BROKER_UNAVAILABLE', `the broker of vhost '${this.vhost}' stopped`), true)
        return hold
      })
      .catch(() => {})
  }

  /** The broker is gone (or forgot us): report it, restart the broker if we can, say hello again. */
  #lost(reason: LinkError, brokerDied: boolean): void {
    if (this.#state !== 'up') return
    this.#state = 'down'
    this.#downSince = Date.now()
    const unsent = this.#outbox.take()
    if (brokerDied) {
      this.#watch?.abort()
      this.#watch = undefined
    }
    for (const listener of [...this.#listeners]) listener.down(reason)
    for (const frame of unsent) this.#refuse(frame)
    if (this.#state !== 'down') return // a listener closed the link
    if (brokerDied) {
      try {
        this.#options.ensureBroker?.(true, () => {})
      } catch {
        // keep saying hello: another window may start it
      }
      if (this.#state !== 'down') return
      this.#openWire()
    }
    this.#attempt = 0
    this.#hello()
  }

  // ------------------------------------------------------------------ bfcache

  #listenLifecycle(): void {
    const target =
      this.#options.lifecycle !== undefined
        ? this.#options.lifecycle
        : 'onpageshow' in globalThis
          ? (globalThis as unknown as EventTarget)
          : null
    if (!target) return
    const hide = (event: Event) => this.#pageHide(event as PageTransitionEvent)
    const show = (event: Event) => this.#pageShow(event as PageTransitionEvent)
    target.addEventListener('pagehide', hide)
    target.addEventListener('pageshow', show)
    this.#unlisten = () => {
      target.removeEventListener('pagehide', hide)
      target.removeEventListener('pageshow', show)
    }
  }

  #pageHide(event: PageTransitionEvent): void {
    const state = this.#state
    if (state === 'closed' || state === 'idle' || state === 'frozen') return
    this.#outbox.flush()
    if (this.#wire) this.#goodbye()
    // Unloading for good: the lock goes with the document. Entering the bfcache: release
    // everything, since a held lock or an incoming message would evict the page.
    if (!event.persisted) return
    this.#state = 'frozen'
    this.#suspend()
    if (state === 'up') for (const listener of [...this.#listeners]) listener.down(closedError('the page entered the back/forward cache'))
  }

  #pageShow(event: PageTransitionEvent): void {
    if (!event.persisted || this.#state !== 'frozen') return
    this.#state = this.#first ? 'connecting' : 'down'
    this.#downSince = Date.now()
    void this.#begin(true)
  }

  // ------------------------------------------------------------------ outbound

  #post(frames: ClientFrame[]): void {
    const wire = this.#wire
    if (!wire) return
    postEach(
      frames,
      (chunk) => {
        const session = this.#state === 'up' ? this.#welcome?.session : undefined
        const frames = chunk.map(toWire)
        wire.post(session === undefined ? { from: this.clientId, frames } : { from: this.clientId, session, frames })
        this.stats.posts++
      },
      (frame, error) => this.#refuse(frame, error),
    )
  }

  /** Ends the session this link holds (a session not yet welcomed ends when the client lock goes). */
  #goodbye(): void {
    const session = this.#welcome?.session
    if (session === undefined) return
    try {
      this.#wire?.post({ from: this.clientId, session, frames: [{ op: 'goodbye', clientId: this.clientId, session }] })
    } catch {
      // the wire is already gone
    }
  }

  /** A frame that cannot go: a request among them gets an error reply instead of silence. */
  #refuse(frame: ClientFrame, cloneError?: unknown): void {
    this.stats.refused++
    const id = (frame as { id?: unknown }).id
    if (typeof id !== 'number') return
    const error =
      cloneError !== undefined
        ? {
            name: 'EncodeError',
            code: 'ENCODE',
            message: `the frame could not be posted: ${cloneError instanceof Error ? cloneError.message : String(cloneError)}`,
          }
        : this.#state === 'closed'
          ? { name: 'ConnectionClosedError', code: 'CONNECTION_CLOSED', message: 'the link is closed' }
          : { name: 'ConnectionClosedError', code: 'CONNECTION_CLOSED', message: 'the link is down (reconnecting to the broker)' }
    queueMicrotask(() => {
      for (const listener of [...this.#listeners]) listener.frame({ op: 'error', id, error })
    })
  }

  // ------------------------------------------------------------------ teardown

  /** Releases the lock, the watch, the timer and the wire (bfcache and close). */
  #suspend(): void {
    clearTimeout(this.#helloTimer)
    for (const frame of this.#outbox.take()) this.#refuse(frame)
    this.#watch?.abort()
    this.#watch = undefined
    this.#lockAbort?.abort()
    this.#lockAbort = undefined
    this.#releaseClientLock?.()
    this.#releaseClientLock = undefined
    this.#wire?.close()
    this.#wire = undefined
  }

  #teardown(): void {
    this.#suspend()
    this.#unlisten?.()
    this.#unlisten = undefined
    const onClose = this.#onClose
    this.#onClose = undefined
    onClose?.()
  }
}
