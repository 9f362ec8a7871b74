// A tab of a reliability run. It starts the broker's SharedWorker the way an app does and
// exposes `window.rel` to the harness: roles in this page or in dedicated workers, the
// final drain, the test broker's debug channel, and the protocol fuzzer. Events go to the
// harness through `window.warrenLog`, a binding the harness installs on the browser context.
import { useSharedWorker } from '../../../src/transport/shared.js'
import { drain, runRole, setup, type RoleConfig, type RunningRole, type WireEvent } from './roles.js'
import { debugChannelName, type DebugCommand, type DebugReply } from './workload.js'
import { runFuzzer, type FuzzConfig } from './fuzz.js'

useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))

declare global {
  interface Window {
    warrenLog(events: WireEvent[]): Promise<void>
    rel: typeof rel
  }
}

const sink = (events: WireEvent[]) => window.warrenLog(events)

interface WorkerRole {
  worker: Worker
  stopped: Promise<void>
}

const pageRoles = new Map<string, RunningRole>()
const workerRoles = new Map<string, WorkerRole>()
let nonce = 0

function spawn(config: RoleConfig): void {
  const worker = new Worker(new URL('./role.worker.ts', import.meta.url), { type: 'module', name: config.role })
  let stoppedResolve!: () => void
  const stopped = new Promise<void>((resolve) => (stoppedResolve = resolve))
  worker.onmessage = (event: MessageEvent<{ kind: 'log'; seq: number; events: WireEvent[] } | { kind: 'stopped' }>) => {
    const message = event.data
    if (message.kind === 'stopped') stoppedResolve()
    else sink(message.events).then(
      () => worker.postMessage({ kind: 'logged', seq: message.seq }),
      () => {},
    )
  }
  worker.onerror = (event) => {
    void sink([{ type: 'role', role: config.role, event: 'error', detail: `worker error: ${event.message}` }]).catch(() => {})
  }
  worker.postMessage({ kind: 'start', config })
  workerRoles.set(config.role, { worker, stopped })
}

const rel = {
  /** Declares the run's entities. */
  setup: (url: string, queues: string[]) => setup(url, queues),

  /** Starts a role in this page (inWorker false) or in a new dedicated worker. */
  start(config: RoleConfig, inWorker: boolean): void {
    if (inWorker) spawn(config)
    else pageRoles.set(config.role, runRole(config, sink))
  },

  /** Kills a worker role at once (Worker.terminate): no goodbye, the broker learns it from the lock. */
  terminate(role: string): boolean {
    const entry = workerRoles.get(role)
    if (!entry) return false
    entry.worker.terminate()
    workerRoles.delete(role)
    return true
  },

  /** Stops every role of this page gracefully (consumers close, unacked messages return). */
  async stopAll(): Promise<void> {
    const stops: Promise<void>[] = []
    for (const role of pageRoles.values()) stops.push(role.stop())
    for (const { worker, stopped } of workerRoles.values()) {
      worker.postMessage({ kind: 'stop' })
      stops.push(stopped)
    }
    await Promise.all(stops)
    pageRoles.clear()
    for (const { worker } of workerRoles.values()) worker.terminate()
    workerRoles.clear()
  },

  drain: (url: string, queues: string[]) => drain(url, queues, sink),

  /** One request on the test broker's debug channel; null if no broker answered in time. */
  debug(vhost: string, request: DebugCommand, timeout = 3000): Promise<DebugReply | null> {
    const channel = new BroadcastChannel(debugChannelName(vhost))
    const n = ++nonce + Math.floor(Math.random() * 1e9)
    return new Promise<DebugReply | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeout)
      channel.onmessage = (event: MessageEvent<DebugReply>) => {
        if (event.data.nonce !== n) return
        clearTimeout(timer)
        resolve(event.data)
      }
      channel.postMessage({ ...request, nonce: n })
    }).finally(() => channel.close())
  },

  fuzz: (config: FuzzConfig) => runFuzzer(config),
}

window.rel = rel
