// API-level page: starts the broker's SharedWorker the way an app does, exposes the API rig
// on `window.api`, and drives dedicated workers running the same rig.
import { useSharedWorker } from '../../../../src/transport/shared.js'
import { createApiRig, type ApiRig } from './api-rig.js'

useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))

const rig = createApiRig()
const workers: Worker[] = []
let next = 1
const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>()

const api = {
  ...rig,
  spawn(): number {
    const worker = new Worker(new URL('./api.worker.ts', import.meta.url), { type: 'module' })
    worker.onmessage = (event: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
      const p = pending.get(event.data.id)
      pending.delete(event.data.id)
      if (event.data.error !== undefined) p?.reject(new Error(event.data.error))
      else p?.resolve(event.data.result)
    }
    workers.push(worker)
    return workers.length - 1
  },
  w<K extends keyof ApiRig>(index: number, method: K, ...args: Parameters<ApiRig[K]>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      workers[index]!.postMessage({ id, method, args })
    })
  },
}

declare global {
  interface Window {
    api: typeof api
  }
}
window.api = api
