/** One delivery of a job to a worker's handler. */
import type { FieldTable } from '../protocol/frames.js'
import type { Message } from '../client/message.js'
import { ATTEMPT_HEADER, ATTEMPTS_HEADER, ERRORS_HEADER } from './names.js'

export interface JobInit<T> {
  queue: string
  message: Message<T>
  maxAttempts: number
  signal: AbortSignal
  progress(job: Job<T>, value: JobProgress): void
}

/** What `job.progress()` reports: a percentage, or anything structured-cloneable. */
export type JobProgress = number | string | Record<string, unknown>

export class Job<T = unknown> {
  /** The message id (given to `add`, or made up there). */
  readonly id: string
  readonly queue: string
  /** This attempt, 1-based. */
  readonly attempt: number
  /** Attempts in all; after the last one fails, the job goes to the dead-letter queue. */
  readonly maxAttempts: number
  /** Aborted when the attempt times out or the worker closes: stop and throw. */
  readonly signal: AbortSignal
  readonly message: Message<T>
  readonly #progress: (job: Job<T>, value: JobProgress) => void

  constructor(init: JobInit<T>) {
    const { message } = init
    this.message = message
    this.queue = init.queue
    this.signal = init.signal
    this.id = message.properties.messageId ?? `${init.queue}:${message.deliveryTag}`
    this.attempt = attemptOf(message.headers)
    this.maxAttempts = positiveInt(message.headers[ATTEMPTS_HEADER]) ?? init.maxAttempts
    this.#progress = init.progress
  }

  /** The job's data (the decoded body). */
  get data(): T {
    return this.message.body
  }

  /**
   * True when an earlier delivery of this very attempt was lost with its worker (a closed tab,
   * a stopped service worker): the job may have been half done.
   */
  get redelivered(): boolean {
    return this.message.redelivered
  }

  get isLastAttempt(): boolean {
    return this.attempt >= this.maxAttempts
  }

  /** Error messages of the earlier attempts (the last few), oldest first. */
  get errors(): string[] {
    const raw = this.message.headers[ERRORS_HEADER]
    return Array.isArray(raw) ? raw.filter((e): e is string => typeof e === 'string') : []
  }

  /** Publishes a `progress` event for this job (best effort; never throws). */
  progress(value: JobProgress): void {
    this.#progress(this, value)
  }
}

export const attemptOf = (headers: FieldTable): number => positiveInt(headers[ATTEMPT_HEADER]) ?? 1

const positiveInt = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined

/** The error text kept in headers and events: short, never a stack. */
export const errorText = (error: unknown): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return text.length > 500 ? `${text.slice(0, 497)}...` : text
}
