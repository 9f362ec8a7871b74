/// <reference types="vite/client" />
// Job queues in a page: one connection (this page may be the elected broker host), the job
// rig, a service worker to drive, and dedicated workers running the job rig too.
import swUrl from './sw.ts?worker&url'
import { createJobRig, type JobRig } from './job-rig.js'
import { createRig } from './rig.js'
import { Connection, useSharedWorker } from './warren.js'

// ?badworker=1: a SharedWorker factory whose script does not exist (the connect must fall back
// to an elected host instead of failing).
if (new URLSearchParams(location.search).get('badworker') === '1')
  useSharedWorker((name) => new SharedWorker('/no-such-broker.worker.js', { type: 'module', name }))

let conn: Connection | undefined
const rig = createRig()
const jobs = createJobRig(() => {
  if (!conn) throw new Error('open() first')
  return conn
})
const workers: Worker[] = []
let next = 1
const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>()

const api = {
  ...jobs,
  host: rig.host,
  async open(url = 'shared://') {
    conn = await Connection.open({ url, name: 'jobs page', connectTimeout: 10_000 })
    return { clientId: conn.clientId, brokerId: conn.brokerId, epoch: conn.epoch }
  },
  online: () => navigator.onLine,

  /** Registers the service worker (a module, built by Vite) and waits for it to be active. */
  async registerSW() {
    const registration = await navigator.serviceWorker.register(swUrl, { type: 'module' })
    const worker = registration.installing ?? registration.waiting ?? registration.active
    if (worker && worker.state !== 'activated') {
      await new Promise<void>((resolve) => {
        worker.addEventListener('statechange', () => {
          if (worker.state === 'activated') resolve()
        })
      })
    }
    return { scope: registration.scope, script: swUrl }
  },
  /** Sends an op to the active service worker (starting it if stopped); resolves with its answer. */
  async sw(op: string, ...args: unknown[]) {
    const registration = await navigator.serviceWorker.getRegistration(swUrl)
    const target = registration?.active
    if (!target) throw new Error('no active service worker')
    const channel = new MessageChannel()
    const answer = new Promise<unknown>((resolve, reject) => {
      channel.port1.onmessage = (event: MessageEvent<{ result?: unknown; error?: string }>) =>
        event.data.error !== undefined ? reject(new Error(event.data.error)) : resolve(event.data.result)
    })
    target.postMessage({ op, args }, [channel.port2])
    return answer
  },
  /** Same, without waiting for the answer (ops that never end). */
  async swStart(op: string, ...args: unknown[]) {
    const registration = await navigator.serviceWorker.getRegistration(swUrl)
    registration?.active?.postMessage({ op, args }, [new MessageChannel().port2])
  },

  spawn(): number {
    const worker = new Worker(new URL('./jobs.worker.ts', import.meta.url), { type: 'module' })
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
}

declare global {
  interface Window {
    jobs: typeof api & JobRig
  }
}
window.jobs = api
