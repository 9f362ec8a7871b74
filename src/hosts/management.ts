/**
 * Serves the management API of a broker to consoles. A console announces itself (its id) on
 * the vhost's management channel; the broker then exposes the API with comlink on a
 * BroadcastChannel named after that console, where exactly two parties listen (comlink's
 * request/response needs that). A console is dropped when its Web Lock is released, when it
 * says so, or after a long silence; it announces itself again if it finds nobody answering.
 */
import * as Comlink from 'comlink'
import type { Broker } from '../engine/broker.js'
import {
  consoleChannelName,
  consoleLockName,
  managementChannelName,
  managementDirectoryName,
  MANAGEMENT_METHODS,
  parseDirectorySignal,
  parseManagementSignal,
  type DirectorySignal,
  type ManagementMethod,
  type ManagementSignal,
  type ManagementWire,
} from '../protocol/management.js'
import { defaultLocks, type LockManagerLike } from '../transport/locks.js'
import { safeEndpoint } from '../transport/safe-endpoint.js'
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

/** Starts answering consoles of `vhost`; returns a function that stops (and drops them all). */
export function serveManagement(broker: Broker, vhost: string = broker.vhost, options: ServeManagementOptions = {}): () => void {
  const service = new ManagementService(broker, options)
  // One dispatcher instead of the API object itself: comlink's proxy treats a method named
  // `bind` as Function.prototype.bind, and only the API methods must be reachable anyway.
  const api: ManagementWire = Object.freeze({
    invoke(method: string, args: unknown[]): unknown {
      if (!(MANAGEMENT_METHODS as readonly string[]).includes(method) || !Array.isArray(args))
        throw new TypeError(`no management method '${String(method)}'`)
      return (service[method as ManagementMethod] as (...a: unknown[]) => unknown).apply(service, args)
    },
  })
  const locks = options.consoleLocks ?? defaultLocks()
  const idleTimeout = options.idleTimeout ?? 5 * 60_000
  const consoles = new Map<string, ConsoleSession>()
  let stopped = false

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
    Comlink.expose(api, safeEndpoint(channel))
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

  const announce = new BroadcastChannel(managementChannelName(vhost))
  announce.onmessage = (event: MessageEvent) => {
    if (stopped) return
    const signal = parseManagementSignal(event.data)
    if (signal?.op === 'management.open') open(signal.consoleId)
    else if (signal?.op === 'management.close') close(signal.consoleId)
  }

  const directory = new BroadcastChannel(managementDirectoryName())
  directory.onmessage = (event: MessageEvent) => {
    if (stopped || parseDirectorySignal(event.data)?.op !== 'vhosts?') return
    directory.postMessage({ op: 'vhost', vhost, epoch: broker.epoch, brokerId: broker.brokerId } satisfies DirectorySignal)
  }

  const sweep = setInterval(() => {
    const now = Date.now()
    for (const [id, session] of consoles) if (now - session.lastSeen > idleTimeout) close(id)
  }, Math.min(idleTimeout, 30_000))

  return () => {
    if (stopped) return
    stopped = true
    clearInterval(sweep)
    announce.close()
    directory.close()
    for (const id of [...consoles.keys()]) close(id)
    service.close()
  }
}
