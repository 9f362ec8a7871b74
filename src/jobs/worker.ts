/**
 * Runs a job queue's handler: at most `concurrency` jobs at a time (the consumer's prefetch,
 * on a channel of its own), each attempt settled by the rules in job-queue.ts. Pauses while
 * offline (the consumer is cancelled; running jobs go on) and resumes when back online. A job
 * that fails while the context is offline is put back where it was without using an attempt.
 */
import type { Channel } from '../client/channel.js'
import { Consumer } from '../client/consumer.js'
import { TimeoutError } from '../client/errors.js'
import type { Message } from '../client/message.js'
import { Job, errorText } from './job.js'
import type { JobQueue } from './job-queue.js'
import { networkStatus, type NetworkStatus } from './network.js'

export type JobHandler<T, R> = (job: Job<T>) => R | Promise<R>

export interface JobWorkerOptions {
  /** Jobs at a time (the prefetch). Default 1. */
  concurrency?: number
  /**
   * Pause while offline and resume when online. Default true where the context has
   * `navigator.onLine` (browsers); Node has no notion of it.
   */
  pauseWhenOffline?: boolean
  /** Where online/offline comes from. Default: this context's events plus the windows' relay. */
  network?: NetworkStatus
  /** Milliseconds an attempt may take: then its signal aborts and the attempt fails. */
  timeout?: number
  /** Closes the worker (running jobs are aborted and go back to the queue). */
  signal?: AbortSignal
}

export type JobWorkerEvent<T, R> =
  | { type: 'active'; job: Job<T> }
  | { type: 'completed'; job: Job<T>; result: R }
  | { type: 'retrying'; job: Job<T>; error: unknown; delay: number }
  | { type: 'failed'; job: Job<T> | undefined; error: unknown; deadLettered: boolean }
  /** Put back without using an attempt: it failed while offline, or the worker closed under it. */
  | { type: 'requeued'; job: Job<T>; reason: 'offline' | 'closed' }
  | { type: 'paused' | 'resumed'; reason: 'offline' | 'manual' }
  /** Something went wrong around the jobs (a retry could not be scheduled, consuming failed). */
  | { type: 'error'; error: unknown }

interface Running<T> {
  readonly job: Job<T>
  readonly abort: AbortController
  readonly done: Promise<void>
}

const hasOnLine = (): boolean => typeof (globalThis as { navigator?: { onLine?: unknown } }).navigator?.onLine === 'boolean'

export class JobWorker<T = unknown, R = unknown> {
  readonly queue: JobQueue<T, R>
  readonly concurrency: number
  readonly #handler: JobHandler<T, R>
  readonly #options: JobWorkerOptions
  readonly #network: NetworkStatus | undefined
  readonly #running = new Set<Running<T>>()
  readonly #listeners = new Set<(event: JobWorkerEvent<T, R>) => void>()
  readonly #idleWaiters = new Set<() => void>()
  #channel: Promise<Channel> | undefined
  #consumer: Consumer<T> | undefined
  #consuming = false
  #manualPause = false
  #offline = false
  #closed = false
  #sync: Promise<void> = Promise.resolve()
  #unsubscribe: (() => void) | undefined

  constructor(queue: JobQueue<T, R>, handler: JobHandler<T, R>, options: JobWorkerOptions = {}) {
    this.queue = queue
    this.#handler = handler
    this.#options = options
    this.concurrency = Math.max(1, Math.trunc(options.concurrency ?? 1))
    const pauseWhenOffline = options.pauseWhenOffline ?? (options.network !== undefined || hasOnLine())
    this.#network = pauseWhenOffline ? (options.network ?? networkStatus()) : undefined
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running.size
  }

  /** Paused by hand or by being offline. */
  get paused(): boolean {
    return this.#manualPause || this.#offline
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Calls `listener` with what happens to this worker's jobs; returns a function that stops. */
  on(listener: (event: JobWorkerEvent<T, R>) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** @internal Called by JobQueue.process. */
  start(): void {
    const network = this.#network
    if (network) {
      this.#offline = !network.online
      this.#unsubscribe = network.subscribe((online) => {
        if (this.#closed || online === !this.#offline) return
        this.#offline = !online
        this.#emit(online ? { type: 'resumed', reason: 'offline' } : { type: 'paused', reason: 'offline' })
        void this.#update()
      })
    }
    this.#options.signal?.addEventListener('abort', () => void this.close({ abort: true }), { once: true })
    void this.#update()
  }

  /** Stops taking jobs (running ones finish). */
  pause(): Promise<void> {
    if (!this.#manualPause && !this.#closed) {
      this.#manualPause = true
      this.#emit({ type: 'paused', reason: 'manual' })
    }
    return this.#update()
  }

  resume(): Promise<void> {
    if (this.#manualPause && !this.#closed) {
      this.#manualPause = false
      this.#emit({ type: 'resumed', reason: 'manual' })
    }
    return this.#update()
  }

  /**
   * Resolves true once no job runs and none is waiting in the queue, or false after
   * `timeout` ms. Jobs waiting out a backoff are not counted: they are held by the exchange.
   * For a service worker's `sync` event: process, wait for idle within a bound, close.
   */
  async whenIdle(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout
    for (;;) {
      if (options.signal?.aborted) return false
      if (this.#running.size === 0) {
        const { waiting } = await this.queue.counts().catch(() => ({ waiting: 1 }))
        if (waiting === 0 && this.#running.size === 0) return true
      }
      const left = deadline - Date.now()
      if (left <= 0) return false
      // Wake on the next settled job, or look again soon (jobs may arrive from elsewhere).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 250))
        function done() {
          clearTimeout(timer)
          waiters.delete(done)
          resolve()
        }
        const waiters = this.#idleWaiters
        waiters.add(done)
      })
    }
  }

  /**
   * Stops: no new jobs; waits for the running ones, or with `abort` aborts them (their signal
   * fires) and puts them back in the queue without using an attempt. Then closes the channel.
   */
  async close(options: { abort?: boolean } = {}): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#unsubscribe?.()
    }
    await this.#update()
    if (options.abort) for (const running of this.#running) running.abort.abort(new DOMException('the worker closed', 'AbortError'))
    await Promise.allSettled([...this.#running].map((running) => running.done))
    const channel = await this.#channel?.catch(() => undefined)
    this.#channel = undefined
    await channel?.close().catch(() => {})
  }

  // ------------------------------------------------------------------ consuming

  /** Starts or stops the consumer to match the state; one change at a time. */
  #update(): Promise<void> {
    this.#sync = this.#sync.then(() => this.#apply()).catch((error: unknown) => this.#emit({ type: 'error', error }))
    return this.#sync
  }

  async #apply(): Promise<void> {
    const want = !this.#closed && !this.#manualPause && !this.#offline
    if (want === this.#consuming) return
    if (!want) {
      this.#consuming = false
      await this.#consumer?.cancel()
      return
    }
    await this.queue.connection.ensure(() => this.queue.declare())
    this.#channel ??= this.queue.connection.channel()
    const channel = await this.#channel
    this.#consumer ??= new Consumer<T>(channel, {
      queues: this.queue.queue,
      prefetch: this.concurrency,
      autoDeclare: false,
      onMessage: (message) => this.#run(message),
      onCancel: () => this.#emit({ type: 'error', error: new Error(`the queue '${this.queue.name}' was deleted: the worker stopped`) }),
    })
    this.#consuming = true
    try {
      await this.#consumer.consume()
    } catch (error) {
      this.#consuming = false
      throw error
    }
  }

  // ------------------------------------------------------------------ one job

  #run(message: Message<T>): void {
    const abort = new AbortController()
    let job: Job<T>
    try {
      job = new Job<T>({
        queue: this.queue.name,
        message,
        maxAttempts: this.queue.attempts,
        signal: abort.signal,
        progress: (j, value) => this.queue.publishEvent({ type: 'progress', jobId: j.id, attempt: j.attempt, progress: value }),
      })
      void job.data // decode now: a body that cannot be decoded will never succeed
    } catch (error) {
      message.reject({ requeue: false })
      this.#emit({ type: 'failed', job: undefined, error, deadLettered: this.queue.deadLetterQueue !== undefined })
      return
    }
    const running: Running<T> = { job, abort, done: this.#attempt(job, abort) }
    this.#running.add(running)
    void running.done.finally(() => {
      this.#running.delete(running)
      for (const wake of [...this.#idleWaiters]) wake()
    })
  }

  async #attempt(job: Job<T>, abort: AbortController): Promise<void> {
    await Promise.resolve() // let #run register the job first
    this.#emit({ type: 'active', job })
    this.queue.publishEvent({ type: 'active', jobId: job.id, attempt: job.attempt, ...(job.redelivered ? { redelivered: true } : {}) })
    const { timeout } = this.#options
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(() => abort.abort(new TimeoutError(`job ${job.id} took longer than ${timeout} ms`)), timeout)
    try {
      const result = await abortable(Promise.resolve().then(() => this.#handler(job)), abort.signal)
      job.message.ack()
      this.#emit({ type: 'completed', job, result })
      this.queue.publishEvent({ type: 'completed', jobId: job.id, attempt: job.attempt, result })
    } catch (error) {
      await this.#failed(job, error)
    } finally {
      clearTimeout(timer)
    }
  }

  async #failed(job: Job<T>, error: unknown): Promise<void> {
    const { message } = job
    const closing = this.#closed && job.signal.aborted && !(job.signal.reason instanceof TimeoutError)
    if (closing || (this.#network !== undefined && !this.#network.online)) {
      // Not the job's fault: back where it was, flagged redelivered, no attempt used (nack
      // does not count towards the crash limit). Stop taking jobs first, or it comes back here.
      const reason = closing ? 'closed' : 'offline'
      if (reason === 'offline') {
        this.#offline = true
        await this.#update()
      }
      message.nack({ requeue: true })
      this.#emit({ type: 'requeued', job, reason })
      return
    }
    if (job.attempt < job.maxAttempts) {
      const delay = this.queue.backoff(job.attempt, error)
      try {
        await this.queue.republish(message, { attempt: job.attempt + 1, delay, error: errorText(error) })
      } catch (publishError) {
        // The retry could not be stored: keep the job (after a pause, so it does not spin).
        this.#emit({ type: 'error', error: publishError })
        await new Promise((resolve) => setTimeout(resolve, 1000))
        message.nack({ requeue: true })
        return
      }
      message.ack()
      this.#emit({ type: 'retrying', job, error, delay })
      this.queue.publishEvent({ type: 'retrying', jobId: job.id, attempt: job.attempt, error: errorText(error), delay })
      return
    }
    message.reject({ requeue: false })
    const deadLettered = this.queue.deadLetterQueue !== undefined
    this.#emit({ type: 'failed', job, error, deadLettered })
    this.queue.publishEvent({ type: 'failed', jobId: job.id, attempt: job.attempt, error: errorText(error), deadLettered })
  }

  #emit(event: JobWorkerEvent<T, R>): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event)
      } catch (error) {
        this.queue.connection.reportError(error)
      }
    }
  }
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function abortable<V>(work: Promise<V>, signal: AbortSignal): Promise<V> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<V>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
