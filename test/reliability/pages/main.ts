// A tab of a reliability run. It starts the broker's SharedWorker the way an app does and
// exposes `window.rel` to the harness: roles in this page or in dedicated workers, the
// final drain, the test broker's debug channel, and the protocol fuzzer. Events go to the
// harness through `window.warrenLog`, a binding the harness installs on the browser context.
import { Connection, Exchange, Queue } from '../../../src/index.js'
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

  /** 10,000 durable queues bound to one topic exchange, one persistent message routed to each. */
  async manyQueues(url: string, n: number) {
    const conn = await Connection.open({ url, requestTimeout: 60_000 })
    try {
      const started = performance.now()
      const exchange = new Exchange('res.many', 'topic', { durable: true })
      await exchange.bind(conn).declare()
      const channel = await conn.channel()
      await Promise.all(Array.from({ length: n }, (_, i) => new Queue(`res.q.${i}`, { exchange, routingKey: `key.${i}.*` }).bind(channel).declare()))
      const declared = performance.now()
      const producer = conn.producer({ exchange })
      await Promise.all(Array.from({ length: n }, (_, i) => producer.publish(i, { routingKey: `key.${i}.x` })))
      const published = performance.now()
      return { declareMs: declared - started, publishMs: published - declared }
    } finally {
      await conn.close()
    }
  },

  /** Takes the one message of each of the n queues; returns how many came. */
  async drainMany(url: string, n: number, connectTimeout = 5000) {
    const conn = await Connection.open({ url, requestTimeout: 60_000, connectTimeout })
    try {
      const channel = await conn.channel()
      const got = await Promise.all(Array.from({ length: n }, (_, i) => new Queue(`res.q.${i}`, { noDeclare: true }).bind(channel).get({ noAck: true })))
      return got.filter((m, i) => m?.body === i).length
    } finally {
      await conn.close()
    }
  },

  /** Publishes n transient messages to a queue nobody consumes; tallies the outcomes by error code. */
  async flood(url: string, queue: string, n: number) {
    const conn = await Connection.open({ url })
    try {
      const q = new Queue(queue, { durable: false })
      const producer = conn.producer({ retry: false })
      const outcomes: Record<string, number> = {}
      const all: Promise<void>[] = []
      for (let i = 0; i < n; i++) {
        all.push(
          producer.publish('x'.repeat(100) + i, { routingKey: queue, declare: [q], deliveryMode: 1 }).then(
            () => void (outcomes.confirmed = (outcomes.confirmed ?? 0) + 1),
            (error: { name?: string; code?: string }) => {
              const key = `${error?.name}:${error?.code}`
              outcomes[key] = (outcomes[key] ?? 0) + 1
            },
          ),
        )
        if (i % 500 === 499) await new Promise((r) => setTimeout(r, 0))
      }
      await Promise.all(all)
      return outcomes
    } finally {
      await conn.close()
    }
  },
}

window.rel = rel
