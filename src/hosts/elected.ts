/**
 * The elected host: the broker runs in one of the vhost's own contexts (a tab, a dedicated
 * worker, a service worker) instead of a SharedWorker. Every candidate queues on the broker
 * lock `warren:<vhost>:broker`, the lock the SharedWorker host takes too, so there is never
 * more than one broker. The context granted the lock starts the engine on IndexedDB (recovery
 * bumps the epoch), serves the same BroadcastChannel link as the SharedWorker, and holds the
 * lock until it ends; then the next candidate in the queue takes over. Its clients (this
 * context's own connections among them: BroadcastChannel delivers to every other object of the
 * same name, in the same context too) reconnect as after a SharedWorker restart.
 *
 * ```ts
 * // a dedicated worker that hosts the broker for its tabs (tabs connect as usual)
 * import { electBroker } from 'warren/worker'
 * electBroker('/')
 * ```
 */
import type { Broker } from '../engine/broker.js'
import { defaultLocks, type LockManagerLike } from '../transport/locks.js'
import { brokerLockName } from '../transport/names.js'
import { LinkHost, serveBroadcast } from './broadcast-host.js'
import { serveManagement } from './management.js'
import type { ServingRemotes } from './remotes.js'
import { serveRemotes, startEngine, type SharedBrokerOptions } from './shared-worker.js'
import { announceTakeover, liveClients } from './takeover.js'

export interface ElectedHostOptions extends SharedBrokerOptions {
  /** Serve the management API to consoles (default true). */
  management?: boolean
  /** Where `pagehide` fires (windows); default: the global scope when it has it. */
  lifecycle?: EventTarget | null
}

export type ElectedState = 'waiting' | 'starting' | 'serving' | 'stopped'

export interface ElectedServing {
  readonly broker: Broker
  readonly host: LinkHost
  /** [remote] The remote brokers this host holds the sockets of, when configured. */
  readonly remotes: ServingRemotes | undefined
  /** Milliseconds from the lock grant to serving: storage open, recovery, and listening. */
  readonly startMs: number
  /** Clients of the previous broker told to say hello again. */
  readonly told: number
}

export interface ElectedBroker {
  readonly vhost: string
  /** 'waiting' for the lock, 'starting' the engine, 'serving', or 'stopped'. */
  readonly state: ElectedState
  /** The broker while this context serves. */
  readonly serving: ElectedServing | undefined
  /**
   * Resolves when this context starts serving: maybe never, while another one keeps the
   * broker. Rejects if the engine could not start (the lock is then released for the next).
   */
  readonly elected: Promise<ElectedServing>
  /** Stops serving (or waiting) and releases the lock: the next candidate takes over. */
  stop(): Promise<void>
}

const candidates = new Map<string, ElectedBroker>()

/** The candidate of `vhost` in this context, if any. */
export const electedBroker = (vhost = '/'): ElectedBroker | undefined => candidates.get(vhost)

/**
 * Makes this context a candidate to host `vhost`'s broker; idempotent while the candidate
 * lives (later options are ignored). Throws where there are no Web Locks: without the lock
 * there is no election, and two brokers on one IndexedDB would corrupt each other's state.
 */
export function electBroker(vhost = '/', options: ElectedHostOptions = {}): ElectedBroker {
  const existing = candidates.get(vhost)
  if (existing) return existing
  const candidate = createElectedBroker(vhost, options, () => {
    if (candidates.get(vhost) === candidate) candidates.delete(vhost)
  })
  candidates.set(vhost, candidate)
  return candidate
}

/**
 * A candidate of its own, outside this context's registry (tests that play several contexts
 * in one realm). `onStopped` runs once when it stops or fails to start.
 */
export function createElectedBroker(vhost: string, options: ElectedHostOptions = {}, onStopped?: () => void): ElectedBroker {
  const locks: LockManagerLike | undefined = options.locks ?? defaultLocks()
  if (!locks) throw new Error('the elected broker host needs Web Locks (navigator.locks, which only secure contexts have)')

  const abort = new AbortController()
  const stops: Array<() => void> = []
  let release!: () => void
  const held = new Promise<void>((done) => {
    release = done
  })
  let state: ElectedState = 'waiting'
  let serving: ElectedServing | undefined
  let settle!: { resolve(s: ElectedServing): void; reject(e: unknown): void }
  const elected = new Promise<ElectedServing>((resolve, reject) => {
    settle = { resolve, reject }
  })
  elected.catch(() => {})

  const serve = async (): Promise<void> => {
    if (state !== 'waiting') return
    state = 'starting'
    const started = performance.now()
    let broker: Broker
    try {
      broker = await startEngine(vhost, options)
    } catch (error) {
      console.error(`warren: the elected broker of vhost '${vhost}' failed to start:`, error)
      finish()
      settle.reject(error)
      return // the lock goes to the next candidate
    }
    // Found before serving, told in the same task as serving starts (see takeover.ts).
    const clients = await liveClients(locks, vhost)
    if (state !== 'starting') {
      await broker.stop()
      return
    }
    const host = new LinkHost(broker, { vhost, locks })
    stops.push(serveBroadcast(host))
    const remotes = await serveRemotes(broker, vhost, options)
    if (options.management !== false) stops.push(serveManagement(broker, vhost, remotes ? { remotes } : {}))
    const told = announceTakeover(broker, vhost, clients)
    serving = { broker, host, remotes, told, startMs: performance.now() - started }
    state = 'serving'
    settle.resolve(serving)
    await held
  }

  const finish = () => {
    if (state === 'stopped') return
    state = 'stopped'
    lifecycle?.removeEventListener('pagehide', onPageHide)
    onStopped?.()
  }

  locks
    .request(brokerLockName(vhost), { signal: abort.signal }, serve)
    .catch(() => {}) // aborted by stop() while waiting

  // A page entering the back/forward cache must not stay in the queue: granted the lock while
  // frozen, it could not serve, and nobody else would. (A serving page is never cached: it
  // holds a lock.) Its links stand again on pageshow, which makes a new candidate.
  const lifecycle =
    options.lifecycle !== undefined ? options.lifecycle : 'onpagehide' in globalThis ? (globalThis as unknown as EventTarget) : null
  const onPageHide = (event: Event) => {
    if ((event as PageTransitionEvent).persisted && state === 'waiting') void candidate.stop()
  }
  lifecycle?.addEventListener('pagehide', onPageHide)

  const candidate: ElectedBroker = {
    vhost,
    get state() {
      return state
    },
    get serving() {
      return serving
    },
    elected,
    async stop() {
      if (state === 'stopped') return
      const was = serving
      finish()
      abort.abort()
      for (const stop of stops.splice(0)) stop()
      serving = undefined
      if (was) {
        await was.remotes?.stop()
        was.host.close()
        await was.broker.stop()
      }
      release()
    },
  }
  return candidate
}
