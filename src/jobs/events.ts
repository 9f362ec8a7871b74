/**
 * Job events as they happen, from every tab and worker: a server-named, exclusive queue bound
 * to the events exchange with `<queue>.*` (or only the chosen types), consumed without acks.
 * Iterate it (`for await`) or pass `onEvent`; events from before it started are not replayed.
 */
import type { Connection } from '../client/connection.js'
import type { Consumer } from '../client/consumer.js'
import type { Exchange } from '../client/exchange.js'
import { Binding } from '../client/binding.js'
import { Queue } from '../client/queue.js'
import { AsyncQueue } from '../client/util/async-queue.js'
import type { JobProgress } from './job.js'

export type JobEventType = 'added' | 'active' | 'progress' | 'completed' | 'retrying' | 'failed'

export interface JobEvent<R = unknown> {
  type: JobEventType
  queue: string
  jobId: string
  /** The attempt the event is about (1-based). */
  attempt: number
  /** Date.now() where it happened. */
  at: number
  /** progress */
  progress?: JobProgress
  /** completed: the handler's result (structured-cloneable or JSON) */
  result?: R
  /** retrying, failed: what went wrong */
  error?: string
  /** added (delayed), retrying: ms until the job is due */
  delay?: number
  /** failed: the job went to the dead-letter queue (else it was dropped) */
  deadLettered?: boolean
  /** active: the job is back after its worker was lost */
  redelivered?: boolean
}

export interface JobEventsOptions<R = unknown> {
  /** Only these types (default: all). */
  types?: readonly JobEventType[]
  onEvent?: (event: JobEvent<R>) => void
  signal?: AbortSignal
}

export class JobEvents<R = unknown> implements AsyncIterable<JobEvent<R>> {
  readonly #buffer = new AsyncQueue<JobEvent<R>>(() => void this.close())
  readonly #consumer: Consumer<JobEvent<R>>
  /** Resolves once the subscription is bound: events published after it are seen. */
  readonly ready: Promise<void>

  constructor(connection: Connection, exchange: Exchange<any>, queue: string, options: JobEventsOptions<R> = {}) {
    const keys = options.types ? options.types.map((type) => `${queue}.${type}`) : [`${queue}.*`]
    const subscription = new Queue<JobEvent<R>>('', {
      exclusive: true,
      durable: false,
      bindings: keys.map((routingKey) => new Binding(exchange, { routingKey })),
    })
    this.#consumer = connection.consumer<JobEvent<R>>(subscription, {
      noAck: true,
      onMessage: (message) => {
        let event: JobEvent<R>
        try {
          event = message.body
        } catch {
          return
        }
        if (options.onEvent) {
          try {
            options.onEvent(event)
          } catch (error) {
            connection.reportError(error)
          }
        } else this.#buffer.push(event)
      },
    })
    this.ready = this.#consumer.consume().then(() => {})
    this.ready.catch((error: unknown) => this.#buffer.fail(error))
    options.signal?.addEventListener('abort', () => void this.close(), { once: true })
  }

  [Symbol.asyncIterator](): AsyncIterator<JobEvent<R>> {
    return this.#buffer
  }

  async close(): Promise<void> {
    this.#buffer.end()
    await this.#consumer.cancel().catch(() => {})
  }
}
