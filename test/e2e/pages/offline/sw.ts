// The test service worker: a Warren client (and, when no window serves, the elected broker
// host: a service worker cannot import(), so the host code, management API included, is bundled
// with enableElectedHost from the worker-sw entry).
// Driven by messages from a page (each answered on the message's port, kept alive with
// waitUntil) and by `sync` events: tag `jobs:<queue>` drains that queue within a time bound.
import { Connection, Queue, registerTransport } from '../../../../src/index.js'
import { JobQueue } from '../../../../src/jobs/index.js'
import { connectShared } from '../../../../src/transport/shared.js'
import { electedBroker, enableElectedHost } from '../../../../src/worker-sw.js'

registerTransport('shared', () => connectShared)
enableElectedHost()

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface ExtendableMessageEvent extends ExtendableEvent {
  data: { op: string; args: unknown[] }
  ports: MessagePort[]
}
interface SyncEvent extends ExtendableEvent {
  tag: string
}
const sw = self as unknown as {
  addEventListener(type: 'install' | 'activate', fn: (event: ExtendableEvent) => void): void
  addEventListener(type: 'message', fn: (event: ExtendableMessageEvent) => void): void
  addEventListener(type: 'sync', fn: (event: SyncEvent) => void): void
  skipWaiting(): Promise<void>
  clients: { claim(): Promise<void> }
}

sw.addEventListener('install', (event) => event.waitUntil(sw.skipWaiting()))
sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()))

let connection: Promise<Connection> | undefined
const connect = () => {
  connection ??= Connection.open({ url: 'shared://', name: 'service worker', connectTimeout: 10_000 })
  connection.catch(() => (connection = undefined))
  return connection
}

/**
 * Works on `queue` until it is empty (or `timeout` ms): 'ok' jobs publish their data to the
 * durable queue `<queue>.done` and succeed, 'hold' jobs never finish (the test stops the worker).
 */
async function work(queue: string, mode: 'ok' | 'hold', timeout: number) {
  const conn = await connect()
  const jobs = new JobQueue<unknown>(conn, queue, { attempts: 3, backoff: { delay: 100, jitter: 0 } })
  const done = conn.producer()
  const doneQueue = new Queue(`${queue}.done`, { durable: true })
  const worker = jobs.process(async (job) => {
    if (mode === 'hold') await new Promise(() => {})
    await done.publish({ data: job.data, attempt: job.attempt, redelivered: job.redelivered, by: 'service-worker', host: electedBroker('/')?.state ?? 'none' }, { routingKey: `${queue}.done`, declare: [doneQueue] })
    return 'done by the service worker'
  })
  const idle = await worker.whenIdle({ timeout })
  await worker.close({ abort: true })
  return { idle }
}

const ops: Record<string, (...args: never[]) => unknown> = {
  ping: () => 'pong',
  async open() {
    const conn = await connect()
    return { clientId: conn.clientId, brokerId: conn.brokerId, epoch: conn.epoch }
  },
  work: (queue: string, mode: 'ok' | 'hold', timeout: number) => work(queue, mode, timeout),
  async add(queue: string, data: unknown[]) {
    const jobs = new JobQueue<unknown>(await connect(), queue, { attempts: 3, backoff: { delay: 100, jitter: 0 } })
    return Promise.all(data.map((d) => jobs.add(d)))
  },
  host() {
    const candidate = electedBroker('/')
    return { state: candidate?.state ?? 'none', brokerId: candidate?.serving?.broker.brokerId }
  },
}

sw.addEventListener('message', (event) => {
  const { op, args } = event.data
  const port = event.ports[0]
  event.waitUntil(
    (async () => {
      try {
        port?.postMessage({ result: await (ops[op] as (...a: unknown[]) => unknown)(...args) })
      } catch (error) {
        port?.postMessage({ error: String(error) })
      }
    })(),
  )
})

sw.addEventListener('sync', (event) => {
  if (!event.tag.startsWith('jobs:')) return
  const queue = event.tag.slice('jobs:'.length)
  event.waitUntil(
    work(queue, 'ok', 20_000).then(({ idle }) => {
      // Not drained in time: fail the event, and the browser retries it later.
      if (!idle) throw new Error(`queue ${queue} not drained`)
    }),
  )
})
