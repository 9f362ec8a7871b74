/**
 * A dedicated worker that "processes images": it consumes `image-jobs` one at a time
 * (prefetch 1), reports progress on the `job-events` exchange for every tab to see, and acks
 * only when done. Terminate it mid-job and the broker sees its lock go: the job returns to the
 * queue, marked redelivered, and another worker takes it.
 */
import { connect } from './warren.js'
import { imageJobs, jobEvents, type Job, type JobEvent } from './topology.js'

export type WorkerNotice =
  | { type: 'ready' }
  | { type: 'busy'; job: Job; pct: number; redelivered: boolean }
  | { type: 'idle' }
  | { type: 'cancelled' }
  | { type: 'error'; message: string }

const name = self.name || 'worker'
const post = (notice: WorkerNotice) => self.postMessage(notice)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

try {
  const conn = await connect(name)
  const events = conn.producer<JobEvent>({ exchange: jobEvents })
  const report = (job: Job, state: JobEvent['state'], pct: number, extra: Partial<JobEvent> = {}) =>
    events.publish({ id: job.id, name: job.name, state, pct, worker: name, ...extra }, { routingKey: `job.${job.id}.${state}`, deliveryMode: 'transient' }).catch(() => {})

  const consumer = conn.consumer<Job>(imageJobs, {
    prefetch: 1,
    onCancel: () => post({ type: 'cancelled' }),
    callbacks: [
      async (job, message) => {
        const redelivered = message.redelivered
        const retried = Array.isArray(message.headers['x-death'])
        post({ type: 'busy', job, pct: 0, redelivered })
        void report(job, 'started', 0, { redelivered, retried })
        for (let step = 1; step <= job.steps; step++) {
          await sleep(job.stepMs)
          const pct = Math.round((step / job.steps) * 100)
          if (job.poison && !retried && step === Math.ceil(job.steps / 2)) {
            // A job that cannot be processed: reject it without requeue, so the queue's
            // dead-letter exchange takes it (to image-jobs.dead), x-death and all.
            await report(job, 'failed', pct, { redelivered })
            message.reject({ requeue: false })
            post({ type: 'idle' })
            return
          }
          post({ type: 'busy', job, pct, redelivered })
          if (step < job.steps) void report(job, 'progress', pct, { redelivered, retried })
        }
        await report(job, 'done', 100, { redelivered, retried })
        message.ack()
        post({ type: 'idle' })
      },
    ],
  })
  await consumer.consume()
  post({ type: 'ready' })
} catch (error) {
  post({ type: 'error', message: (error as Error)?.message ?? String(error) })
}
