/**
 * The consoles' side of the management API, loaded when the first console announces itself
 * (hosts/management.ts): a broker nobody inspects never loads comlink or the service.
 * Each console gets the API with comlink on a BroadcastChannel named after it, where exactly
 * two parties listen (comlink's request/response needs that). A console is dropped when its
 * Web Lock is released, when it says so, or after a long silence.
 */
import * as Comlink from 'comlink'
import type { Broker } from '../engine/broker.js'
import { consoleChannelName, consoleLockName, isManagementCall, MANAGEMENT_METHODS, type ManagementApi, type ManagementSignal } from '../protocol/management.js'
import { defaultLocks, type LockManagerLike } from '../transport/locks.js'
import { safeEndpoint, type ChannelEndpoint } from '../transport/safe-endpoint.js'
import { toErrorData } from './engine-client.js'
import { ManagementService, type ManagementServiceOptions } from './management-service.js'

export interface ServeManagementOptions extends ManagementServiceOptions {
  /** Lock manager used to learn that a console is gone; default `navigator.locks`. */
  consoleLocks?: LockManagerLike
  /** A console that sends nothing for this long is dropped (ms). Default 5 minutes. */
  idleTimeout?: number
}

interface ConsoleSession {
  readonly channel: BroadcastChannel
  readonly liveness: AbortController
  lastSeen: number
}

export interface Consoles {
  open(consoleId: string): void
  close(consoleId: string): void
  stop(): void
}

/** Serves the API of `broker` to the consoles of `vhost` that open(); stop() drops them all. */
export function serveConsoles(broker: Broker, vhost: string, options: ServeManagementOptions): Consoles {
  const service = new ManagementService(broker, options)
  // Only the API's methods, each rejecting with plain ErrorData: comlink would keep only the
  // name and message of an Error, and the console rebuilds the class from the code.
  const api = Object.freeze(
    Object.fromEntries(
      MANAGEMENT_METHODS.map((name) => [
        name,
        async (...args: unknown[]) => {
          try {
            return await (service[name] as (...a: unknown[]) => Promise<unknown>).apply(service, args)
          } catch (error) {
            throw toErrorData(error)
          }
        },
      ]),
    ),
  ) as unknown as ManagementApi
  const locks = options.consoleLocks ?? defaultLocks()
  const idleTimeout = options.idleTimeout ?? 5 * 60_000
  const consoles = new Map<string, ConsoleSession>()

  const ready = (consoleId: string, session: ConsoleSession) => {
    const signal: ManagementSignal = { op: 'management.ready', consoleId, epoch: broker.epoch, brokerId: broker.brokerId }
    session.channel.postMessage(signal)
  }

  const open = (consoleId: string) => {
    const existing = consoles.get(consoleId)
    if (existing) {
      existing.lastSeen = Date.now()
      ready(consoleId, existing)
      return
    }
    const channel = new BroadcastChannel(consoleChannelName(vhost, consoleId))
    const session: ConsoleSession = { channel, liveness: new AbortController(), lastSeen: Date.now() }
    channel.addEventListener('message', () => {
      session.lastSeen = Date.now()
    })
    Comlink.expose(api, callsOnly(safeEndpoint(channel)))
    consoles.set(consoleId, session)
    service.attach()
    ready(consoleId, session)
    locks
      ?.request(consoleLockName(vhost, consoleId), { signal: session.liveness.signal }, () => {
        if (consoles.get(consoleId) === session) close(consoleId)
      })
      .catch(() => {})
  }

  const close = (consoleId: string) => {
    const session = consoles.get(consoleId)
    if (!session) return
    consoles.delete(consoleId)
    session.liveness.abort()
    session.channel.close()
    service.detach()
  }

  const sweep = setInterval(() => {
    const now = Date.now()
    for (const [id, session] of consoles) if (now - session.lastSeen > idleTimeout) close(id)
  }, Math.min(idleTimeout, 30_000))

  return {
    open,
    close,
    stop() {
      clearInterval(sweep)
      for (const id of [...consoles.keys()]) close(id)
      service.close()
    },
  }
}

/** The console's channel as comlink's expose sees it: API calls pass, anything else is dropped. */
function callsOnly(endpoint: ChannelEndpoint): ChannelEndpoint {
  const wrapped = new WeakMap<object, EventListener>()
  return {
    postMessage: (message) => endpoint.postMessage(message),
    addEventListener(type, listener) {
      const filter: EventListener = (event) => {
        if (!isManagementCall((event as MessageEvent).data)) return
        if (typeof listener === 'function') listener(event)
        else listener.handleEvent(event)
      }
      wrapped.set(listener, filter)
      endpoint.addEventListener(type, filter)
    },
    removeEventListener(type, listener) {
      const filter = wrapped.get(listener)
      if (filter) endpoint.removeEventListener(type, filter)
    },
  }
}

