// Job-queue helpers, the same in a page and in a dedicated worker: queues by name on one
// connection, workers of a few kinds, recorded events and outcomes.
import { JobQueue, Queue, type Connection, type JobEvent, type JobEvents, type JobWorker, type JobWorkerEvent } from './warren.js'

type Kind = 'ok' | 'fetch' | 'fail' | 'hold'

export function createJobRig(connection: () => Connection) {
  const queues = new Map<string, JobQueue<unknown>>()
  const workers = new Map<string, JobWorker<unknown>>()
  const events = new Map<string, JobEvent[]>()
  const local = new Map<string, Array<{ type: string; id?: string; attempt?: number; redelivered?: boolean; reason?: string }>>()
  const watchers: JobEvents[] = []
  const queueOf = (name: string, options: { attempts?: number; backoff?: number } = {}) => {
    let queue = queues.get(name)
    if (!queue) {
      queue = new JobQueue(connection(), name, { attempts: options.attempts ?? 3, backoff: { type: 'fixed', delay: options.backoff ?? 100, jitter: 0 } })
      queues.set(name, queue)
    }
    return queue
  }

  return {
    queue(name: string, options: { attempts?: number; backoff?: number } = {}) {
      queueOf(name, options)
    },
    async add(name: string, data: unknown) {
      return queueOf(name).add(data)
    },
    async watch(name: string) {
      const list: JobEvent[] = []
      events.set(name, list)
      const watcher = queueOf(name).events({ onEvent: (event) => void list.push(event) })
      watchers.push(watcher)
      await watcher.ready
    },
    events: (name: string) => events.get(name) ?? [],
    local: (name: string) => local.get(name) ?? [],
    /**
     * Starts a worker: 'ok' succeeds, 'fetch' fetches this page (fails offline; data 'reject'
     * fails for good), 'fail' always throws, 'hold' never ends.
     */
    process(name: string, kind: Kind, concurrency = 1) {
      const list: Array<{ type: string; id?: string; attempt?: number; redelivered?: boolean; reason?: string }> = []
      local.set(name, list)
      const worker = queueOf(name).process(
        async (job) => {
          if (kind === 'hold') await new Promise(() => {})
          if (kind === 'fail') throw new Error(`job ${String(job.data)} cannot succeed`)
          if (kind === 'fetch') {
            const response = await fetch(`${location.origin}/offline/jobs.html?ping=${job.id}`, { cache: 'no-store' })
            if (!response.ok) throw new Error(`HTTP ${response.status}`)
            // The "server" refuses this one for good: it ends in the dead-letter queue.
            if (job.data === 'reject') throw new Error('HTTP 422: the server refused the job')
          }
          return job.data
        },
        { concurrency },
      )
      worker.on((event: JobWorkerEvent<unknown, unknown>) => {
        const job = 'job' in event ? event.job : undefined
        list.push({
          type: event.type,
          ...(job ? { id: job.id, attempt: job.attempt, redelivered: job.redelivered } : {}),
          ...('reason' in event ? { reason: event.reason } : {}),
        })
      })
      workers.set(name, worker)
    },
    workerState(name: string) {
      const worker = workers.get(name)
      return worker ? { paused: worker.paused, running: worker.running } : undefined
    },
    async stopWorker(name: string) {
      await workers.get(name)?.close({ abort: true })
      workers.delete(name)
    },
    async counts(name: string) {
      return queueOf(name).counts()
    },
    /** Reads (and requeues) the dead-letter queue's messages: body and headers. */
    async dead(name: string) {
      const conn = connection()
      const channel = await conn.channel()
      const out: Array<{ body: unknown; headers: Record<string, unknown>; id: string | undefined }> = []
      const got = []
      for (;;) {
        const message = await queueOf(name).deadLetterQueue!.bind(channel).get()
        if (!message) break
        got.push(message)
        out.push({ body: message.body, headers: JSON.parse(JSON.stringify(message.headers)), id: message.properties.messageId })
      }
      await channel.close()
      return out
    },
    /** Durable queue `name` as plain messages (e.g. what the service worker reported done). */
    async drain(name: string) {
      const q = new Queue(name, { durable: true }).bind(connection())
      await q.declare()
      const out: unknown[] = []
      for (;;) {
        const message = await q.get()
        if (!message) break
        out.push(message.body)
        message.ack()
      }
      return out
    },
  }
}

export type JobRig = ReturnType<typeof createJobRig>
