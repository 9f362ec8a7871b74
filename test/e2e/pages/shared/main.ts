// Link-level page: a window that starts the broker's SharedWorker, with the rig on
// `window.t` and a way to drive a dedicated worker running the same rig.
import { brokerChannelName, sharedWorkerName } from '../../../../src/transport/names.js'
import { useSharedWorker } from '../../../../src/transport/shared.js'
import { createRig, type Rig } from './rig.js'

const params = new URLSearchParams(location.search)
const startsBroker = params.get('starter') !== '0'

let workerCreated = 0
if (params.get('bad') === '1')
  // A factory whose script does not exist: the connect must fail fast, not time out.
  useSharedWorker((name) => new SharedWorker('/no-such-broker.js', { type: 'module', name }))
else if (startsBroker)
  useSharedWorker((name) => {
    workerCreated++
    return new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name })
  })

const rig = createRig()

type Remote = { [K in keyof Rig]: (...args: Parameters<Rig[K]>) => Promise<Awaited<ReturnType<Rig[K]>>> }

/** Starts a dedicated worker and returns a proxy to the rig inside it. */
function dedicated(): Remote {
  const worker = new Worker(new URL('./client.worker.ts', import.meta.url), { type: 'module' })
  let next = 1
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>()
  worker.onmessage = (event: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
    const p = pending.get(event.data.id)
    pending.delete(event.data.id)
    if (event.data.error !== undefined) p?.reject(new Error(event.data.error))
    else p?.resolve(event.data.result)
  }
  return new Proxy({} as Remote, {
    get: (_, method: string) => (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve, reject })
        worker.postMessage({ id, method, args })
      }),
  })
}

const workers: Remote[] = []
const sniffed = new Map<string, string>()

const t = {
  ...rig,
  workerCreated: () => workerCreated,
  /** Starts a dedicated worker; returns its index for `w`. */
  spawn(): number {
    workers.push(dedicated())
    return workers.length - 1
  },
  /** Calls the rig in dedicated worker `index`. */
  w<K extends keyof Rig>(index: number, method: K, ...args: Parameters<Rig[K]>): Promise<unknown> {
    const remote = workers[index]!
    return (remote[method] as (...a: unknown[]) => Promise<unknown>)(...args)
  },
  /** Starts a dedicated worker that hosts `vhost`'s broker (elected through the broker lock); resolves once it serves. */
  electHost(vhost: string): Promise<{ brokerId: string; epoch: number }> {
    const worker = new Worker(new URL('../offline/host.worker.ts', import.meta.url), { type: 'module' })
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<{ result?: { brokerId: string; epoch: number }; error?: string }>) =>
        event.data.error !== undefined ? reject(new Error(event.data.error)) : resolve(event.data.result!)
      worker.postMessage({ id: 1, method: 'elect', args: [vhost] })
    })
  },
  /** Listens on the broker channel as any script of the origin can: the last session each client named. */
  sniff(vhost = '/'): void {
    const channel = new BroadcastChannel(brokerChannelName(vhost))
    channel.onmessage = (event: MessageEvent<{ from?: unknown; session?: unknown }>) => {
      if (typeof event.data?.from === 'string' && typeof event.data.session === 'string') sniffed.set(event.data.from, event.data.session)
    }
  },
  sniffed: (clientId: string): string | undefined => sniffed.get(clientId),
  /** Posts raw data straight onto the broker channel of `vhost` (hostile-script tests). */
  postRaw(data: unknown, vhost = '/'): void {
    const channel = new BroadcastChannel(brokerChannelName(vhost))
    try {
      channel.postMessage(data)
    } finally {
      channel.close()
    }
  },
  /** Plays the page entering (true) or leaving (false) the back/forward cache. */
  bfcache(entering: boolean): void {
    window.dispatchEvent(new PageTransitionEvent(entering ? 'pagehide' : 'pageshow', { persisted: true }))
  },
  /** Asks the broker (through a fresh SharedWorker port) for its host and engine counters. */
  brokerStats(vhost = '/'): Promise<unknown> {
    const worker = new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name: sharedWorkerName(vhost) })
    return new Promise((resolve) => {
      worker.port.onmessage = (event) => {
        if ((event.data as { op?: string }).op === 'stats') resolve(event.data)
      }
      worker.port.postMessage({ op: 'stats' })
    })
  },
}

declare global {
  interface Window {
    t: typeof t
  }
}
window.t = t
