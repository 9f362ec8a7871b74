/**
 * Online or offline, for job workers. Windows get `online`/`offline` events in every
 * browser; workers get them in Firefox and Safari but not in Chromium (crbug 114475), though
 * they can read `navigator.onLine`. So every window that uses this relays what it sees on a
 * BroadcastChannel, and workers listen to that as well as to their own events. `onLine`
 * being true only means a network is there, not that the server answers: a job that fails for
 * lack of network is still a failed attempt unless the status says offline.
 */
import { parseNetworkRelay, type NetworkRelay } from '../protocol/notices.js'

export interface NetworkStatus {
  readonly online: boolean
  /** Calls `listener` on every change; returns a function that stops. */
  subscribe(listener: (online: boolean) => void): () => void
}

/** The relay channel: `{ op: 'network', online }` from windows, `{ op: 'network?' }` from workers. */
export const NETWORK_CHANNEL = 'warren:network'


/** A status set by hand (tests, or an app that probes its own server). */
export class ManualNetworkStatus implements NetworkStatus {
  #online: boolean
  readonly #listeners = new Set<(online: boolean) => void>()

  constructor(online = true) {
    this.#online = online
  }

  get online(): boolean {
    return this.#online
  }

  set(online: boolean): void {
    if (online === this.#online) return
    this.#online = online
    for (const listener of [...this.#listeners]) listener(online)
  }

  subscribe(listener: (online: boolean) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }
}

let shared: NetworkStatus | undefined

/**
 * This context's network status: its own events, plus the windows' relay. In a window it
 * also relays. Always online where there is neither (Node).
 */
export function networkStatus(): NetworkStatus {
  shared ??= createBrowserStatus()
  return shared
}

function createBrowserStatus(): NetworkStatus {
  const scope = globalThis as unknown as Partial<EventTarget> & { navigator?: { onLine?: boolean }; window?: unknown }
  const status = new ManualNetworkStatus(scope.navigator?.onLine ?? true)
  const isWindow = typeof scope.window === 'object' && scope.window === scope
  let relay: BroadcastChannel | undefined
  if (typeof BroadcastChannel === 'function') {
    relay = new BroadcastChannel(NETWORK_CHANNEL)
    relay.onmessage = (event) => {
      const data = parseNetworkRelay(event.data)
      if (data === null) return
      if (data.op === 'network') status.set(data.online)
      else if (isWindow) relay?.postMessage({ op: 'network', online: status.online } satisfies NetworkRelay)
    }
    // A worker asks the windows at once: its own onLine may be stale in Chromium.
    if (!isWindow) relay.postMessage({ op: 'network?' } satisfies NetworkRelay)
  }
  if (typeof scope.addEventListener === 'function') {
    const seen = (online: boolean) => () => {
      status.set(online)
      if (isWindow) relay?.postMessage({ op: 'network', online } satisfies NetworkRelay)
    }
    scope.addEventListener('online', seen(true))
    scope.addEventListener('offline', seen(false))
  }
  return status
}
