// Smoke page: exposes a few probes on window for the e2e test to call through page.evaluate.
import { PROTOCOL_VERSION } from '../../../../src/protocol/version.js'

interface Tally { instance: string; connections: number; count: number }

const worker = new SharedWorker(new URL('./counter-worker.ts', import.meta.url), { type: 'module', name: 'smoke-counter' })
worker.port.start()

const received: unknown[] = []
const inbox = new BroadcastChannel('smoke')
inbox.onmessage = (event) => received.push(event.data)
const fromWorker = new BroadcastChannel('smoke-from-worker')
fromWorker.onmessage = (event) => received.push(event.data)

let dedicated: Worker | undefined

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('smoke', 1)
    req.onupgradeneeded = () => req.result.createObjectStore('kv')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

const smoke = {
  protocolVersion: PROTOCOL_VERSION,
  crossOriginIsolated: self.crossOriginIsolated,
  /** Bumps the SharedWorker's counter and returns its state. */
  increment(): Promise<Tally> {
    return new Promise((resolve) => {
      worker.port.addEventListener('message', (event) => resolve(event.data as Tally), { once: true })
      worker.port.postMessage('inc')
    })
  },
  broadcast(data: unknown): void {
    const out = new BroadcastChannel('smoke')
    out.postMessage(data)
    out.close()
  },
  /** Asks a dedicated worker to broadcast `data` to every tab. */
  viaDedicatedWorker(data: unknown): void {
    dedicated ??= new Worker(new URL('./echo-worker.ts', import.meta.url), { type: 'module' })
    dedicated.postMessage(data)
  },
  received,
  async put(key: string, value: unknown): Promise<void> {
    const db = await openDb()
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite', { durability: 'strict' })
      tx.objectStore('kv').put(value, key)
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
    db.close()
  },
  async get(key: string): Promise<unknown> {
    const db = await openDb()
    const value = await new Promise((resolve, reject) => {
      const req = db.transaction('kv').objectStore('kv').get(key)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    db.close()
    return value
  },
}

declare global {
  interface Window { smoke: typeof smoke }
}
window.smoke = smoke
