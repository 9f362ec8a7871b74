/**
 * The elected host, seen from the client side. Where no SharedWorker can run the broker
 * (Chrome Android before 148, older WebViews, Samsung Internet, or a service worker with no
 * window alive), the contexts of a vhost elect one of them through the Web Lock the
 * SharedWorker host takes (`warren:<vhost>:broker`), so there is never more than one broker.
 *
 * The host itself (engine, storage) is not imported here: the composition root hands in an
 * `Elector`. The built-in `shared://` transport gives a lazy one (`import()`); a service worker, which may not
 * `import()`, calls `enableElectedHost()` from `warren/worker` to give a static one.
 */
import { parseElectedNotice, type ElectedNotice } from '../protocol/notices.js'
import type { ConnectOptions } from './link.js'
import { queryLocks, type LockManagerLike } from './locks.js'
import { brokerLockName, electionChannelName } from './names.js'

/** Which host a `shared://` connection may use. */
export type BrokerHost = NonNullable<ConnectOptions['host']>

/**
 * Makes this context a candidate to host `vhost`'s broker (idempotent): it queues on the
 * broker lock and, once granted, serves until the context ends. Resolves once the candidate
 * exists, not once it serves; rejects when this context cannot host (no Web Locks, the host
 * code could not be loaded).
 */
export type Elector = (vhost: string) => Promise<void>

/** Set by `useElectedHost`; until then the composition root's default applies. */
let chosen: { elector: Elector | undefined } | undefined

/** Sets how `shared://` connections of this context start an elected host (undefined: never). */
export function useElectedHost(elector: Elector | undefined): void {
  chosen = { elector }
}

/** The elector set by `useElectedHost`, else `fallback` (the built-in lazy one). */
export const electedHost = (fallback?: Elector): Elector | undefined => (chosen ? chosen.elector : fallback)

/** Whether someone holds the vhost's broker lock right now; undefined when it cannot be told. */
export async function brokerRunning(locks: LockManagerLike | undefined, vhost: string): Promise<boolean | undefined> {
  const snapshot = await queryLocks(locks)
  if (!snapshot) return undefined
  const name = brokerLockName(vhost)
  return (snapshot.held ?? []).some((lock) => lock.name === name)
}

const listeners = new Map<string, { channel: BroadcastChannel; callbacks: Set<(notice: ElectedNotice) => void> }>()

/**
 * Calls `callback` whenever a newly elected host of `vhost` announces itself; returns a
 * function that stops. One channel per vhost and context, closed with its last listener.
 */
export function onElected(vhost: string, callback: (notice: ElectedNotice) => void): () => void {
  let entry = listeners.get(vhost)
  if (!entry) {
    const channel = new BroadcastChannel(electionChannelName(vhost))
    const callbacks = new Set<(notice: ElectedNotice) => void>()
    channel.onmessage = (event) => {
      const notice = parseElectedNotice(event.data)
      if (notice === null) return
      for (const cb of [...callbacks]) cb(notice)
    }
    entry = { channel, callbacks }
    listeners.set(vhost, entry)
  }
  const current = entry
  current.callbacks.add(callback)
  return () => {
    current.callbacks.delete(callback)
    if (current.callbacks.size > 0 || listeners.get(vhost) !== current) return
    listeners.delete(vhost)
    current.channel.onmessage = null
    current.channel.close()
  }
}
