// A page with no SharedWorker factory (and, in these tests, no SharedWorker at all): shared://
// elects a host among the origin's contexts. Exposes the rig on `window.el`, and drives
// dedicated workers: `spawn('host')` starts one that hosts the broker, `spawn('client')` one
// that runs the rig.
import { createRig, type Rig } from './rig.js'

const rig = createRig()
const workers: Worker[] = []
let next = 1
const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>()

const t = {
  ...rig,
  hasSharedWorker: () => typeof (globalThis as { SharedWorker?: unknown }).SharedWorker !== 'undefined',
  spawn(kind: 'host' | 'client'): number {
    const worker =
      kind === 'host'
        ? new Worker(new URL('./host.worker.ts', import.meta.url), { type: 'module' })
        : new Worker(new URL('./client.worker.ts', import.meta.url), { type: 'module' })
    worker.onmessage = (event: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
      const p = pending.get(event.data.id)
      pending.delete(event.data.id)
      if (event.data.error !== undefined) p?.reject(new Error(event.data.error))
      else p?.resolve(event.data.result)
    }
    workers.push(worker)
    return workers.length - 1
  },
  w(index: number, method: string, ...args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      workers[index]!.postMessage({ id, method, args })
    })
  },
  terminate(index: number) {
    workers[index]!.terminate()
  },
}

declare global {
  interface Window {
    el: typeof t & Rig
  }
}
window.el = t
