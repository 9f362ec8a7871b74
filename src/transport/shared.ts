/**
 * The `shared://` connector: reach the vhost's broker in a SharedWorker. A window starts the
 * SharedWorker (through a factory the app gives, because only the app's bundler knows the
 * worker script's URL) and keeps a reference to it, which keeps the broker alive, and talks to
 * it over a MessagePort (measured faster than BroadcastChannel); any other context (dedicated
 * or service worker) says hello over BroadcastChannel to the broker some window started.
 *
 * ```ts
 * useSharedWorker((name) =>
 *   new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))
 * const conn = await Connection.open('shared://')
 * ```
 */
import type { Welcome } from '../protocol/frames.js'
import { parsePortNotice } from '../protocol/notices.js'
import { broadcastWire } from './broadcast-channel.js'
import { ClientLink, type OpenWire, type Wire } from './client-link.js'
import { brokerRunning, electedHost, onElected, type Elector } from './elect.js'
import { canStartSharedWorker, detectClientKind } from './env.js'
import { LinkError } from './errors.js'
import type { ConnectOptions, Link, SharedWorkerFactory } from './link.js'
import { defaultLocks, type LockManagerLike } from './locks.js'
import { portWire } from './message-port.js'
import { sharedWorkerName } from './names.js'

export type { SharedWorkerFactory }

export interface SharedConnectOptions extends ConnectOptions {
  /** For tests. */
  locks?: LockManagerLike
  /** Starts an elected host candidate (see elect.ts); default: the one given to `useElectedHost`. */
  elect?: Elector
}

let defaultFactory: SharedWorkerFactory | undefined

/** Sets the factory every `shared://` connection of this window uses to start the broker. */
export function useSharedWorker(factory: SharedWorkerFactory | undefined): void {
  defaultFactory = factory
}

/** One SharedWorker instance this window started, and the links that use it. */
interface Started {
  readonly worker: SharedWorker
  error: unknown
  /** The broker in it said it serves. */
  ready: boolean
  readonly failures: Set<(cause: unknown) => void>
}

interface Vhost {
  current: Started | undefined
  readonly links: Set<ClientLink>
}

const vhosts = new Map<string, Vhost>()

/** How long a window's link waits for its SharedWorker to serve before it checks who holds the broker lock. */
const PORT_WAIT_MS = 1000

/** A new broker (another epoch) telling every live client it knows no session of theirs. */
const isTakeover = (data: unknown, exceptEpoch: number | undefined): boolean =>
  Array.isArray(data) &&
  data.some((frame) => {
    const f = frame as { op?: unknown; session?: unknown; epoch?: unknown } | null
    return f?.op === 'unknown-session' && f.session === undefined && f.epoch !== exceptEpoch
  })

/** How long after a failed start of the SharedWorker a window tries again (while its links wait). */
const RESTART_RETRY_MS = 1000

function vhostState(name: string): Vhost {
  let state = vhosts.get(name)
  if (!state) {
    state = { current: undefined, links: new Set() }
    vhosts.set(name, state)
  }
  return state
}

/**
 * Returns the worker this window holds for `name`, creating it if there is none, or if
 * `replace` is the one it holds (the caller saw that broker die; other links of this window
 * that saw the same death then share the replacement instead of creating one each).
 */
function startWorker(name: string, factory: SharedWorkerFactory, replace: Started | undefined): Started {
  const state = vhostState(name)
  const held = state.current
  if (held && held !== replace && held.error === undefined) return held
  const worker = factory(name)
  const started: Started = { worker, error: undefined, ready: false, failures: new Set() }
  worker.addEventListener('error', (event) => {
    const message = (event as ErrorEvent).message
    started.error = new Error(message ? `the broker's SharedWorker failed: ${message}` : "the broker's SharedWorker script failed to load")
    for (const fail of started.failures) fail(started.error)
    started.failures.clear()
    // Links reconnecting after the broker died would say hello to nobody for ever: the script
    // may have failed only for now (offline, a deploy in progress). Try again while one waits.
    setTimeout(() => {
      if (state.current === started && [...state.links].some((link) => link.state === 'down')) startWorker(name, factory, started)
    }, RESTART_RETRY_MS)
  })
  // The broker announces itself on every port when it is ready: say hello at once.
  worker.port.onmessage = (event) => {
    if (parsePortNotice(event.data)?.op !== 'ready') return
    started.ready = true
    for (const link of state.links) link.nudge()
  }
  state.current = started
  return started
}

/** Forgets the workers this window started (tests; the workers live on while others hold them). */
export function resetSharedWorkers(): void {
  vhosts.clear()
}

const helpText = (vhost: string, timeout: number, canStart: boolean, hasFactory: boolean, electing = false): string => {
  const base = `no broker answered on vhost '${vhost}' within ${timeout} ms`
  if (electing)
    return `${base}, although this context is a candidate to host it (an elected host): is another context of this origin holding the broker lock without serving?`
  if (!canStart)
    return `${base}. This context cannot start the broker (only windows can construct a SharedWorker): open a page of this origin that connects to 'shared://' with a sharedWorker factory first.`
  if (!hasFactory)
    return `${base}, and this window was given no way to start it: pass \`sharedWorker: (name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name })\` to Connection.open, or call useSharedWorker(...) once.`
  return `${base}: the broker's SharedWorker did not start serving (is its script calling startBroker() from 'warren/worker'?).`
}

/** Opens a link to the shared broker of `options.vhost`. */
export async function connectShared(options: SharedConnectOptions): Promise<{ link: ClientLink; welcome: Welcome }> {
  const { vhost, connectTimeout } = options
  const name = sharedWorkerName(vhost)
  const factory = options.sharedWorker ?? defaultFactory
  const canStart = canStartSharedWorker()
  const starter = canStart ? factory : undefined
  // [offline] The elected host (hosts/elected.ts): with host 'elected', or with 'auto' where this
  // context cannot start the SharedWorker (none, no factory, or the factory throws).
  const host = options.host ?? 'auto'
  const kind = options.link ?? (starter && host !== 'elected' ? 'port' : 'broadcast')
  /** The port by default: it gives way to BroadcastChannel where only that reaches the broker. */
  const auto = options.link === undefined && kind === 'port'
  /** This link talks over BroadcastChannel for now, although it defaults to the port. */
  let overBroadcast = false
  if (kind === 'port' && !starter)
    throw new LinkError('BROKER_UNAVAILABLE', "link: 'port' needs a window and a sharedWorker factory")

  const state = vhostState(name)
  const clientId = crypto.randomUUID()
  let used: Started | undefined
  let firstFail: ((cause: unknown) => void) | undefined

  const startShared = starter
    ? (restart: boolean, fail: (cause: unknown) => void) => {
        const held = state.current
        // The port link talks to the instance its handle reaches, which may have been killed
        // since this window made the handle, while another window started a new one (the broker
        // lock is then held, so that cannot tell): a new handle reaches whichever instance runs
        // now, or starts one.
        used = startWorker(name, starter, restart ? used : kind === 'port' ? held : undefined)
        if (used.error !== undefined) throw used.error
        if (restart) overBroadcast = false
        if (auto) awaitReady(used)
        if (link.state === 'connecting') used.failures.add((firstFail = fail))
        // The worker this window started earlier may have been killed since (by the browser,
        // by devtools) with no link of ours there to see it: if nobody holds the broker lock,
        // start it again. (Should it merely be starting, a second handle joins the same worker.)
        const reused = used
        if (reused === held)
          void brokerRunning(options.locks ?? defaultLocks(), vhost)
            .then((running) => {
              if (running === false && state.current === reused && (link.state === 'connecting' || link.state === 'down'))
                used = startWorker(name, starter, reused)
            })
            .catch(() => {})
      }
    : undefined

  const elector = host === 'shared-worker' ? undefined : (options.elect ?? electedHost())
  if (host === 'elected' && (!elector || kind === 'port'))
    throw new LinkError('BROKER_UNAVAILABLE', kind === 'port'
      ? "host: 'elected' serves over BroadcastChannel only, not link: 'port'"
      : "host: 'elected' needs the elected host: import 'warren', or in a service worker call enableElectedHost() from 'warren/worker-sw'")
  let electing = host === 'elected' || (!starter && elector !== undefined && kind === 'broadcast')
  let unlistenElected: (() => void) | undefined
  const inWindow = ['window', 'iframe'].includes(detectClientKind())
  const elect = (restart: boolean, fail: (cause: unknown) => void) => {
    unlistenElected ??= onElected(vhost, () => link.nudge())
    const run = async () => {
      // A worker stands as a candidate only when no broker runs (or it just died): where a
      // window keeps a SharedWorker broker, workers need not load the engine.
      if (!restart && !inWindow && host === 'auto' && (await brokerRunning(options.locks ?? defaultLocks(), vhost))) return
      await elector!(vhost)
    }
    run().catch(fail)
  }

  const ensureBroker = starter || electing
    ? (restart: boolean, fail: (cause: unknown) => void) => {
        const canFallBack = host === 'auto' && elector !== undefined && (kind === 'broadcast' || auto)
        const fallBack = (cause: unknown) => {
          console.warn(`warren: the SharedWorker could not be started (${cause instanceof Error ? cause.message : String(cause)}); electing a host among this origin's contexts instead`)
          electing = true
        }
        if (!electing && startShared) {
          try {
            // A script that fails to load (e.g. no module SharedWorker before Firefox 114) falls back too.
            startShared(restart, canFallBack ? (cause) => { fallBack(cause); elect(restart, fail) } : fail)
            return
          } catch (error) {
            if (!canFallBack) throw error
            fallBack(error)
          }
        }
        elect(restart, fail)
      }
    : undefined

  /**
   * A window's SharedWorker waits for the broker lock while another context's broker (an
   * elected host) holds it, and that one serves BroadcastChannel only: if the worker has not
   * said it serves by then, but someone holds the lock, say hello over BroadcastChannel.
   */
  const awaitReady = (started: Started) => {
    const waiting = () => !started.ready && used === started && !overBroadcast && (link.state === 'connecting' || link.state === 'down')
    setTimeout(() => {
      if (!waiting()) return
      void brokerRunning(options.locks ?? defaultLocks(), vhost)
        .then((running) => {
          if (running !== true || !waiting()) return
          overBroadcast = true
          link.nudge()
        })
        .catch(() => {})
    }, PORT_WAIT_MS)
  }

  /**
   * The port wire, on the worker this window holds now: before a welcome, that may change
   * under an open wire (the worker it held was found dead, or a script that failed to load
   * was tried again), and the next hello goes to the new one on a new channel.
   */
  const openPort: OpenWire = (receive) => {
    let target = used!
    let wire = portWire(() => target.worker.port, options.remote)(receive)
    return {
      post(batch) {
        const current = state.current
        if (link.state !== 'up' && current !== undefined && current !== target && current.error === undefined) {
          wire.close()
          used = target = current
          wire = portWire(() => target.worker.port, options.remote)(receive)
          if (auto) awaitReady(current)
        }
        wire.post(batch)
      },
      close() {
        wire.close()
      },
    }
  }
  const openBroadcast = broadcastWire(vhost, clientId)
  /**
   * The default wire of a window: the port, or BroadcastChannel while `electing` or
   * `overBroadcast` (switched at the next post, a hello). The client's own channel is listened
   * to all along: a host that serves BroadcastChannel only and takes over while this window's
   * link waits behind it for the broker lock tells it there that it is unknown.
   */
  const autoWire: OpenWire = (receive) => {
    const onBroadcast = () => electing || overBroadcast
    let port: Wire | undefined
    const broadcast = openBroadcast((data) => {
      if (!port) receive(data)
      // On the port, only a new broker counts here (its epoch differs): the broker of this
      // session answers a frame posted on BroadcastChannel in this client's name there too.
      else if (link.state === 'up' && isTakeover(data, link.welcome?.epoch)) {
        overBroadcast = true
        receive(data)
      }
    })
    if (!onBroadcast()) port = openPort(receive)
    return {
      post(batch) {
        if (port && onBroadcast()) {
          port.close()
          port = undefined
        }
        ;(port ?? broadcast).post(batch)
      },
      close() {
        port?.close()
        broadcast.close()
      },
    }
  }

  const openWire: OpenWire = auto ? autoWire : kind === 'port' ? openPort : openBroadcast

  const link = new ClientLink({
    vhost,
    connectTimeout,
    clientId,
    kind: detectClientKind(),
    openWire,
    ...(options.clientName !== undefined ? { clientName: options.clientName } : {}),
    ...(ensureBroker ? { ensureBroker } : {}),
    ...(options.locks ? { locks: options.locks } : {}),
    onClose: () => {
      state.links.delete(link)
      unlistenElected?.()
    },
  })
  state.links.add(link)
  try {
    const welcome = await link.start()
    return { link, welcome }
  } catch (error) {
    state.links.delete(link)
    if (error instanceof LinkError && error.code === 'BROKER_UNAVAILABLE' && error.cause === undefined)
      throw new LinkError('BROKER_UNAVAILABLE', helpText(vhost, connectTimeout, canStart, factory !== undefined, electing))
    throw error
  } finally {
    if (firstFail) used?.failures.delete(firstFail)
  }
}

/** `connectShared` as a plain Connector. */
export const sharedConnector = (defaults: Partial<SharedConnectOptions> = {}) =>
  (options: ConnectOptions): Promise<{ link: Link; welcome: Welcome }> =>
    connectShared({ ...defaults, ...options })

/**
 * [remote] The `stomp+ws://` and `stomp+wss://` connector: a port link to the local broker
 * host's SharedWorker (vhost '/'), attached to its socket for `options.remote` (a direct
 * connection to RabbitMQ). The page opens no WebSocket of its own.
 */
export const remoteConnector = (options: ConnectOptions): Promise<{ link: Link; welcome: Welcome }> => {
  if (!options.remote) return Promise.reject(new LinkError('BROKER_UNAVAILABLE', 'a stomp+ws:// connection needs its remote (url, login, passcode, vhost)'))
  return connectShared({ ...options, vhost: '/', link: 'port', host: 'shared-worker' })
}
