/**
 * The outbox's service worker:
 * - keeps the app working offline (network first, the last good copy when offline);
 * - on a `sync` event (Chromium's Background Sync: fired when the network is back, even with
 *   the app closed) drains the outbox. With no window alive it becomes the broker's elected
 *   host itself, from IndexedDB. A service worker may not import(), so the host code is bundled
 *   here with enableElectedHost().
 * If the browser stops it mid-job, the job goes back to the queue, flagged redelivered, for
 * the next worker (page or service worker).
 */
import { Connection, registerTransport } from '../../src/index.js'
import { connectShared } from '../../src/transport/shared.js'
import { enableElectedHost } from '../../src/worker-sw.js'
import { openOutbox, send } from './outbox.js'

registerTransport('shared', () => connectShared)
enableElectedHost()

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface FetchEvent extends ExtendableEvent {
  request: Request
  respondWith(response: Promise<Response>): void
}
interface SyncEvent extends ExtendableEvent {
  tag: string
}
const sw = self as unknown as {
  addEventListener(type: 'install' | 'activate', fn: (event: ExtendableEvent) => void): void
  addEventListener(type: 'fetch', fn: (event: FetchEvent) => void): void
  addEventListener(type: 'sync', fn: (event: SyncEvent) => void): void
  skipWaiting(): Promise<void>
  clients: { claim(): Promise<void> }
  registration: { scope: string }
}

const CACHE = 'warren-outbox-v1'
const SHELL = ['./', './app.css', './manifest.webmanifest', './icon-192.png', './icon-512.png']

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new URL(path, sw.registration.scope).href)))
      .catch(() => {}) // best effort: everything is cached as it is fetched anyway
      .then(() => sw.skipWaiting()),
  )
})

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith('warren-outbox-') && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => sw.clients.claim()),
  )
})

sw.addEventListener('fetch', (event) => {
  const { request } = event
  const url = new URL(request.url)
  // Only this origin's GETs; never "the server" (a send must fail while offline).
  if (request.method !== 'GET' || url.origin !== location.origin || url.pathname.endsWith('/server.json')) return
  event.respondWith(
    (async () => {
      try {
        const response = await fetch(request)
        if (response.ok) {
          const copy = response.clone()
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)))
        }
        return response
      } catch (error) {
        const cached = await caches.match(request, { ignoreVary: true })
        if (cached) return cached
        throw error
      }
    })(),
  )
})

/** Sends what the outbox holds, for at most `bound` ms; true when it is empty. */
async function drain(bound: number): Promise<boolean> {
  const conn = await Connection.open({ url: 'shared://', name: 'outbox service worker', connectTimeout: 10_000 })
  try {
    const outbox = openOutbox(conn)
    const worker = outbox.process((job) => send(conn, job, 'service worker'), { concurrency: 2 })
    const idle = await worker.whenIdle({ timeout: bound })
    await worker.close({ abort: true })
    return idle
  } finally {
    await conn.close()
  }
}

sw.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return
  // Failing the event (not drained: still offline, or too slow) makes the browser retry later.
  event.waitUntil(
    drain(60_000).then((idle) => {
      if (!idle) throw new Error('the outbox is not empty yet')
    }),
  )
})
