/**
 * The console's typed client of the management API. It announces a console id on the vhost's
 * management channel, waits for the broker to serve comlink on that console's own channel,
 * and holds a Web Lock for its life so the broker can tell when it is gone. Calls time out
 * instead of hanging; after a timeout (the broker restarted, or another host took over) it
 * announces itself again, so the next call reaches whichever broker serves the vhost now.
 * `close()` rejects every call still pending with a ConnectionClosedError, and is final.
 *
 * ```ts
 * const management = await openManagement({ vhost: '/' })
 * const { queues } = await management.overview()
 * ```
 */
import * as Comlink from 'comlink'
import {
  consoleChannelName,
  consoleLockName,
  managementChannelName,
  managementDirectoryName,
  MANAGEMENT_METHODS,
  type DirectorySignal,
  type ManagementApi,
  type ManagementMethod,
  parseDirectorySignal,
  parseManagementSignal,
  type ManagementSignal,
} from '../protocol/management.js'
import { isErrorData } from '../protocol/guards.js'
import { defaultLocks, holdLock } from '../transport/locks.js'
import { safeEndpoint } from '../transport/safe-endpoint.js'
import { BrokerUnavailableError, ConnectionClosedError, fromErrorData, TimeoutError } from './errors.js'

export type ManagementStatus = 'connected' | 'reconnecting' | 'closed'

/** Every API method, returning a promise. */
export type ManagementCalls = {
  [K in keyof ManagementApi]: (...args: Parameters<ManagementApi[K]>) => Promise<Awaited<ReturnType<ManagementApi[K]>>>
}

export interface ManagementClient extends ManagementCalls {
  readonly vhost: string
  readonly consoleId: string
  /** The epoch and id of the broker that answered last. */
  readonly epoch: number
  readonly brokerId: string
  readonly status: ManagementStatus
  /** Called on every status change; returns an unsubscribe function. */
  onStatus(listener: (status: ManagementStatus) => void): () => void
  close(): void
}

export interface ManagementOptions {
  vhost?: string
  /** How long to wait for a broker to answer the announce (ms). Default 5000. */
  connectTimeout?: number
  /** How long one call may take (ms). Default 5000; moveMessages gets ten times as long. */
  callTimeout?: number
}

const ANNOUNCE_EVERY = 250

/** Connects to the management API of the broker serving `vhost` on this origin. */
export async function openManagement(options: ManagementOptions = {}): Promise<ManagementClient> {
  const vhost = options.vhost ?? '/'
  const connectTimeout = options.connectTimeout ?? 5000
  const callTimeout = options.callTimeout ?? 5000
  const consoleId = crypto.randomUUID()
  const channel = new BroadcastChannel(consoleChannelName(vhost, consoleId))
  const announce = new BroadcastChannel(managementChannelName(vhost))
  const liveness = new AbortController()
  const locks = defaultLocks()
  const listeners = new Set<(status: ManagementStatus) => void>()
  let status: ManagementStatus = 'reconnecting'
  let epoch = 0
  let brokerId = ''
  let announcing: ReturnType<typeof setInterval> | undefined

  const setStatus = (next: ManagementStatus) => {
    if (status === next || status === 'closed') return // closed is final
    status = next
    for (const listener of listeners) listener(next)
  }

  let onReady: (() => void) | undefined
  channel.addEventListener('message', (event: MessageEvent) => {
    const signal = parseManagementSignal(event.data)
    if (signal?.op !== 'management.ready' || signal.consoleId !== consoleId) return
    epoch = signal.epoch
    brokerId = signal.brokerId
    stopAnnouncing()
    if (status !== 'closed') setStatus('connected')
    onReady?.()
  })

  const stopAnnouncing = () => {
    clearInterval(announcing)
    announcing = undefined
  }
  const startAnnouncing = () => {
    if (announcing !== undefined || status === 'closed') return
    const post = () => announce.postMessage({ op: 'management.open', consoleId } satisfies ManagementSignal)
    post()
    announcing = setInterval(post, ANNOUNCE_EVERY)
  }

  // The lock is what tells the broker this console is gone (closed, crashed, or cached).
  if (locks) await holdLock(locks, consoleLockName(vhost, consoleId), liveness.signal).then((release) => liveness.signal.addEventListener('abort', release)).catch(() => {})

  // Every call in flight, so close() can settle them.
  const pending = new Set<(error: Error) => void>()

  const close = () => {
    if (status === 'closed') return
    stopAnnouncing()
    try {
      announce.postMessage({ op: 'management.close', consoleId } satisfies ManagementSignal)
    } catch {
      // Closing anyway.
    }
    setStatus('closed')
    liveness.abort()
    channel.close()
    announce.close()
    const closed = new ConnectionClosedError('the management client was closed with the call in flight')
    for (const reject of [...pending]) reject(closed)
  }

  const remote = Comlink.wrap<ManagementApi>(safeEndpoint(channel))

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      onReady = undefined
      close()
      reject(new BrokerUnavailableError(`no broker answered the management announce on vhost '${vhost}' within ${connectTimeout} ms`))
    }, connectTimeout)
    onReady = () => {
      onReady = undefined
      clearTimeout(timer)
      resolve()
    }
    startAnnouncing()
  })

  const call = <K extends ManagementMethod>(name: K, args: Parameters<ManagementApi[K]>): Promise<Awaited<ReturnType<ManagementApi[K]>>> => {
    if (status === 'closed') return Promise.reject(new ConnectionClosedError('the management client is closed'))
    const limit = name === 'moveMessages' ? callTimeout * 10 : callTimeout
    return new Promise((resolve, reject) => {
      const settle = (error: Error) => {
        clearTimeout(timer)
        pending.delete(settle)
        reject(error)
      }
      const timer = setTimeout(() => {
        // Nobody answered: the broker may have restarted elsewhere. Find it again.
        setStatus('reconnecting')
        startAnnouncing()
        settle(new TimeoutError(`management call '${name}' got no answer within ${limit} ms`))
      }, limit)
      pending.add(settle)
      const method = remote[name] as unknown as (...a: Parameters<ManagementApi[K]>) => Promise<Awaited<ReturnType<ManagementApi[K]>>>
      method(...args).then(
        (result) => {
          if (!pending.has(settle)) return
          clearTimeout(timer)
          pending.delete(settle)
          resolve(result)
        },
        (error: unknown) => {
          // The broker rejects with plain ErrorData (comlink keeps it whole; an Error only by name).
          if (pending.has(settle)) settle(isErrorData(error) && !(error instanceof Error) ? fromErrorData(error) : (error as Error))
        },
      )
    })
  }

  const calls = Object.fromEntries(
    MANAGEMENT_METHODS.map((name) => [name, (...args: Parameters<ManagementApi[typeof name]>) => call(name, args)]),
  ) as unknown as ManagementCalls

  const client = {
    vhost,
    consoleId,
    get epoch() {
      return epoch
    },
    get brokerId() {
      return brokerId
    },
    get status() {
      return status
    },
    onStatus(listener: (status: ManagementStatus) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close,
    ...calls,
  } satisfies ManagementClient
  if (typeof addEventListener === 'function') addEventListener('pagehide', close, { once: true })
  return client
}

export interface RunningVhost {
  vhost: string
  epoch: number
  brokerId: string
}

/** The vhosts whose brokers serve management on this origin right now (those that answer in time). */
export function listVhosts(wait = 300): Promise<RunningVhost[]> {
  return new Promise((resolve) => {
    const directory = new BroadcastChannel(managementDirectoryName())
    const found = new Map<string, RunningVhost>()
    directory.onmessage = (event: MessageEvent) => {
      const signal = parseDirectorySignal(event.data)
      if (signal?.op !== 'vhost') return
      found.set(signal.vhost, { vhost: signal.vhost, epoch: signal.epoch, brokerId: signal.brokerId })
    }
    directory.postMessage({ op: 'vhosts?' } satisfies DirectorySignal)
    setTimeout(() => {
      directory.close()
      resolve([...found.values()].sort((a, b) => a.vhost.localeCompare(b.vhost)))
    }, wait)
  })
}
