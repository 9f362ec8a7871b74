/**
 * A durable job queue built from the broker's own features, nothing beside them:
 *
 * - jobs are persistent messages on a durable queue (`name`), confirmed when stored;
 * - concurrency is the consumer's prefetch;
 * - a failed attempt is republished, with its attempt number and error in headers, to a
 *   delayed-message exchange (`warren.jobs.delay`, routing as direct) with `x-delay` = the
 *   backoff, then acked: the exchange holds it (stored, if the exchange is durable) and routes
 *   it back to the queue when due. Per-message TTL + dead-letter "retry queues" would work too,
 *   but a queue expires only its head, so jittered delays would wait behind longer ones;
 * - the last failed attempt is rejected without requeue: the queue dead-letters it to
 *   `name.dead` with the `x-death` header RabbitMQ writes;
 * - a job whose worker keeps dying under it (a closed tab, a stopped service worker) comes back
 *   `redelivered`, and after `crashLimit` such returns is dead-lettered too (`x-delivery-limit`);
 * - events (added, active, progress, completed, retrying, failed) are transient messages on a
 *   topic exchange (`warren.jobs.events`, key `<queue>.<type>`), for any tab or worker to watch.
 *
 * ```ts
 * const outbox = new JobQueue<Mail>(conn, 'outbox', { attempts: 5, backoff: { delay: 2000 } })
 * await outbox.add({ to: 'a@b.c', text: 'hi' })
 * outbox.process(async (job) => { await send(job.data) }, { concurrency: 2 })
 * ```
 */
import type { Connection } from '../client/connection.js'
import { Exchange } from '../client/exchange.js'
import type { Message } from '../client/message.js'
import type { Producer } from '../client/producer.js'
import { Queue } from '../client/queue.js'
import type { FieldTable } from '../protocol/frames.js'
import { backoffDelay, type Backoff } from './backoff.js'
import { JobEvents, type JobEvent, type JobEventsOptions } from './events.js'
import { errorText } from './job.js'
import {
  ATTEMPT_HEADER,
  ATTEMPTS_HEADER,
  DELAY_EXCHANGE,
  ERRORS_HEADER,
  EVENTS_EXCHANGE,
  PER_DELIVERY_HEADERS,
  deadLetterQueueName,
} from './names.js'
import { JobWorker, type JobHandler, type JobWorkerOptions } from './worker.js'

export interface JobQueueOptions {
  /** Attempts in all, the first included. Default 3. */
  attempts?: number
  /** The wait between attempts. Default exponential from 1 s, ×2, jitter 0.5, at most 1 h. */
  backoff?: Backoff
  /** Where jobs go after their last attempt: a queue name (default `<name>.dead`), or false to drop them. */
  deadLetterQueue?: string | false
  /**
   * Deliveries lost with their worker before the job is dead-lettered as poison
   * (`x-delivery-limit`; reason `delivery_limit`). Default 10; false for no limit.
   */
  crashLimit?: number | false
  /** Priorities 0..maxPriority (`add(…, { priority })`). */
  maxPriority?: number
  /** Publish job events. Default true. */
  events?: boolean
  /** The source of jitter (tests). */
  random?: () => number
}

export interface AddOptions {
  /** The job id (the message id). Default: a random UUID. */
  id?: string
  /** Milliseconds before the job is due (held by the delayed exchange). */
  delay?: number
  priority?: number
  /** Attempts for this job, overriding the queue's. */
  attempts?: number
  headers?: FieldTable
  signal?: AbortSignal
}

export interface JobCounts {
  /** Jobs ready in the queue (not those running, nor those waiting out a backoff). */
  waiting: number
  /** Consumers of the queue. */
  workers: number
  /** Jobs in the dead-letter queue. */
  dead: number
}

export class JobQueue<T = unknown, R = unknown> {
  readonly name: string
  readonly connection: Connection
  readonly attempts: number
  readonly queue: Queue<T>
  readonly deadLetterQueue: Queue<T> | undefined
  readonly delayExchange: Exchange<T>
  readonly eventsExchange: Exchange<JobEvent>
  readonly #options: JobQueueOptions
  #producer: Producer<T> | undefined
  #eventProducer: Producer<JobEvent> | undefined
  #declared: Promise<void> | undefined

  constructor(connection: Connection, name: string, options: JobQueueOptions = {}) {
    if (!name) throw new TypeError('a job queue needs a name')
    this.connection = connection
    this.name = name
    this.#options = options
    this.attempts = Math.max(1, Math.trunc(options.attempts ?? 3))
    this.delayExchange = new Exchange<T>(DELAY_EXCHANGE, 'x-delayed-message', {
      durable: true,
      arguments: { 'x-delayed-type': 'direct' },
    })
    this.eventsExchange = new Exchange<JobEvent>(EVENTS_EXCHANGE, 'topic', { durable: true, deliveryMode: 'transient' })
    const dead = options.deadLetterQueue === false ? undefined : (options.deadLetterQueue ?? deadLetterQueueName(name))
    this.deadLetterQueue = dead === undefined ? undefined : new Queue<T>(dead, { durable: true })
    const crashLimit = options.crashLimit === false ? undefined : (options.crashLimit ?? 10)
    this.queue = new Queue<T>(name, {
      durable: true,
      // Bound to the delayed exchange by its own name: that is how retries come back.
      exchange: this.delayExchange,
      routingKey: name,
      ...(dead === undefined ? {} : { deadLetterExchange: '', deadLetterRoutingKey: dead }),
      ...(crashLimit === undefined ? {} : { deliveryLimit: crashLimit }),
      ...(options.maxPriority === undefined ? {} : { maxPriority: options.maxPriority }),
    })
  }

  /** Declares the queue, its dead-letter queue and the exchanges (cached per broker session). */
  declare(): Promise<void> {
    const conn = this.connection
    const run = async () => {
      if (this.deadLetterQueue) await conn.maybeDeclare(this.deadLetterQueue)
      await conn.maybeDeclare(this.queue)
      if (this.#options.events !== false) await conn.maybeDeclare(this.eventsExchange)
    }
    // maybeDeclare caches per session itself; this only saves the awaits on the hot path.
    this.#declared ??= run().catch((error: unknown) => {
      this.#declared = undefined
      throw error
    })
    return this.#declared
  }

  /** Adds a job; resolves with its id once the broker has stored it. */
  async add(data: T, options: AddOptions = {}): Promise<string> {
    await this.connection.ensure(() => this.declare())
    const id = options.id ?? crypto.randomUUID()
    const headers: FieldTable = { ...options.headers }
    if (options.attempts !== undefined) headers[ATTEMPTS_HEADER] = Math.max(1, Math.trunc(options.attempts))
    const delay = options.delay !== undefined && options.delay > 0 ? Math.round(options.delay) : undefined
    if (delay !== undefined) headers['x-delay'] = delay
    await this.#publisher().publish(data, {
      // Through the delayed exchange only when delayed: the default exchange is one hop less.
      ...(delay === undefined ? { exchange: '' } : { exchange: this.delayExchange }),
      routingKey: this.name,
      messageId: id,
      timestamp: new Date(),
      deliveryMode: 'persistent',
      headers,
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    this.publishEvent({ type: 'added', jobId: id, attempt: 1, ...(delay === undefined ? {} : { delay }) })
    return id
  }

  /** Adds several jobs; their publishes leave together, in order. */
  addBulk(jobs: ReadonlyArray<{ data: T; options?: AddOptions }>): Promise<string[]> {
    return Promise.all(jobs.map((job) => this.add(job.data, job.options)))
  }

  /** Starts a worker: `handler` runs for each job, at most `concurrency` at a time. */
  process(handler: JobHandler<T, R>, options: JobWorkerOptions = {}): JobWorker<T, R> {
    const worker = new JobWorker<T, R>(this, handler, options)
    worker.start()
    return worker
  }

  /** Watches this queue's job events (from every tab and worker). */
  events(options: JobEventsOptions<R> = {}): JobEvents<R> {
    return new JobEvents<R>(this.connection, this.eventsExchange, this.name, options)
  }

  async counts(): Promise<JobCounts> {
    await this.connection.ensure(() => this.declare())
    const main = await this.queue.bind(this.connection).queueDeclare({ passive: true })
    const dead = this.deadLetterQueue ? await this.deadLetterQueue.bind(this.connection).queueDeclare({ passive: true }) : undefined
    return { waiting: main.messageCount, workers: main.consumerCount, dead: dead?.messageCount ?? 0 }
  }

  /**
   * Moves jobs from the dead-letter queue back to the queue with a fresh set of attempts
   * (their `x-death` history stays). Resolves with how many moved.
   */
  async retryDead(options: { limit?: number } = {}): Promise<number> {
    const dead = this.deadLetterQueue
    if (!dead) return 0
    await this.connection.ensure(() => this.declare())
    const channel = await this.connection.channel()
    try {
      const source = dead.bind(channel)
      let moved = 0
      while (moved < (options.limit ?? Infinity)) {
        const message = await source.get({ noAck: false })
        if (!message) break
        await this.republish(message, { attempt: 1, errors: [] })
        message.ack()
        moved++
      }
      return moved
    } finally {
      await channel.close().catch(() => {})
    }
  }

  /** @internal The wait before the attempt after `attempt`. */
  backoff(attempt: number, error: unknown): number {
    return backoffDelay(this.#options.backoff, attempt, error, this.#options.random)
  }

  /**
   * @internal Publishes a copy of a delivered job for another attempt (through the delayed
   * exchange when `delay` > 0) and resolves on its confirm; the caller then acks the original.
   */
  republish(message: Message<T>, next: { attempt: number; delay?: number; error?: string; errors?: string[] }): Promise<unknown> {
    const props = message.properties
    const headers: FieldTable = { ...props.headers }
    for (const name of PER_DELIVERY_HEADERS) delete headers[name]
    headers[ATTEMPT_HEADER] = next.attempt
    const previous = next.errors ?? (Array.isArray(headers[ERRORS_HEADER]) ? (headers[ERRORS_HEADER] as unknown[]) : [])
    const errors = next.error === undefined ? previous : [...previous, next.error]
    if (errors.length > 0) headers[ERRORS_HEADER] = errors.slice(-5)
    else delete headers[ERRORS_HEADER]
    if (next.delay !== undefined && next.delay > 0) headers['x-delay'] = next.delay
    return this.#publisher().publish(message.rawBody as T, {
      exchange: this.delayExchange,
      routingKey: this.name,
      // The body goes as it came (decompressed): with its content type, nothing re-encodes it.
      contentType: props.contentType ?? 'application/x-warren-raw',
      ...(props.contentEncoding === undefined ? {} : { contentEncoding: props.contentEncoding }),
      deliveryMode: 'persistent',
      headers,
      ...(props.messageId === undefined ? {} : { messageId: props.messageId }),
      ...(props.priority === undefined ? {} : { priority: props.priority }),
      ...(props.correlationId === undefined ? {} : { correlationId: props.correlationId }),
      ...(props.replyTo === undefined ? {} : { replyTo: props.replyTo }),
      ...(props.timestamp === undefined ? {} : { timestamp: props.timestamp }),
      ...(props.type === undefined ? {} : { type: props.type }),
      ...(props.appId === undefined ? {} : { appId: props.appId }),
    })
  }

  /** @internal Publishes a job event; best effort, never throws, never waits. */
  publishEvent(event: Omit<JobEvent, 'queue' | 'at'>): void {
    if (this.#options.events === false) return
    const full: JobEvent = { ...event, queue: this.name, at: Date.now() } as JobEvent
    this.#eventProducer ??= this.connection.producer<JobEvent>({ exchange: this.eventsExchange, retry: false })
    this.#eventProducer.publish(full, { routingKey: `${this.name}.${event.type}`, deliveryMode: 'transient' }).catch(() => {})
  }

  #publisher(): Producer<T> {
    this.#producer ??= this.connection.producer<T>({ autoDeclare: false })
    return this.#producer
  }
}

export type { JobEvent }
