// The durable-enqueue peer: workbox-background-sync's Queue, in the service worker it needs
// (it reads `self.registration`). forceSyncFallback keeps the Background Sync API out of the
// run: with it a 'sync' event could replay (and remove) queued requests mid-measurement.
import { Queue } from 'workbox-background-sync'

// The WebWorker lib is not in this project's tsconfig: just what is used here.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown
  readonly ports: readonly MessagePort[]
}
declare const self: {
  skipWaiting(): Promise<void>
  clients: { claim(): Promise<void> }
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void
  addEventListener(type: 'message', listener: (event: ExtendableMessageEvent) => void): void
}

self.addEventListener('install', () => void self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

let rep = 0

self.addEventListener('message', (event) => {
  const { n, inFlight, body } = event.data as { n: number; inFlight: number; body: string }
  const reply = event.ports[0]!
  event.waitUntil(
    (async () => {
      // A fresh queue name per rep (names are process-wide unique); each push is one transaction.
      const queue = new Queue(`bench-${Date.now()}-${rep++}`, { forceSyncFallback: true })
      const started = performance.now()
      let next = 0
      const worker = async () => {
        while (next < n) {
          next++
          await queue.pushRequest({ request: new Request('/api/jobs', { method: 'POST', body, headers: { 'content-type': 'application/json' } }) })
        }
      }
      await Promise.all(Array.from({ length: inFlight }, worker))
      const ms = performance.now() - started
      const stored = await queue.size()
      await clearStore()
      reply.postMessage({ ms, stored })
    })(),
  )
})

/** Empties workbox's store between reps (shifting entries one by one would take longer than the pushes). */
const clearStore = () =>
  new Promise<void>((resolve) => {
    const open = indexedDB.open('workbox-background-sync')
    open.onerror = () => resolve()
    open.onsuccess = () => {
      const db = open.result
      const tx = db.transaction(db.objectStoreNames, 'readwrite')
      for (const name of db.objectStoreNames) tx.objectStore(name).clear()
      tx.oncomplete = tx.onerror = tx.onabort = () => {
        db.close()
        resolve()
      }
    }
  })
