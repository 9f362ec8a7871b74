/**
 * The pending-request map of one connection. Request ids are unique per connection (replies
 * carry only the id), each entry remembers its channel so a closing channel rejects just its
 * own requests, and every entry has a timeout whose error the caller gives (or a function
 * that makes it: an Error captures a stack trace when it is built, which cost a fifth of a
 * publisher's time when it was built for every publish that never timed out).
 *
 * Requests with the connection's usual timeout expire in the order they were made, so one
 * timer walks them from the oldest instead of one timer per request (publishes come by the
 * thousand); other timeouts get a timer of their own.
 */
import type { Fail, Ok } from '../protocol/frames.js'
import { fromErrorData, type TimeoutError, type WarrenError } from './errors.js'

interface Pending {
  channel: number
  resolve(value: unknown): void
  reject(reason: unknown): void
  deadline: number
  timeoutError: TimeoutError | (() => TimeoutError) | undefined
  timer: ReturnType<typeof setTimeout> | undefined
}

const errorOf = (error: TimeoutError | (() => TimeoutError) | undefined) => (typeof error === 'function' ? error() : error)

export class Requests {
  #next = 1
  readonly #pending = new Map<number, Pending>()
  readonly #usualTimeout: number
  /** Ids with the usual timeout, oldest first; settled ones are skipped lazily. */
  #queue: number[] = []
  #head = 0
  #sweeper: ReturnType<typeof setTimeout> | undefined

  constructor(usualTimeout: number) {
    this.#usualTimeout = usualTimeout
  }

  get size(): number {
    return this.#pending.size
  }

  has(id: number): boolean {
    return this.#pending.has(id)
  }

  /** Registers a request; `timeout` ≤ 0 or Infinity means no timeout. */
  add(channel: number, timeout: number, timeoutError: TimeoutError | (() => TimeoutError)): { id: number; promise: Promise<unknown> } {
    const id = this.#next++
    const promise = new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { channel, resolve, reject, deadline: Infinity, timeoutError: undefined, timer: undefined }
      this.#pending.set(id, entry)
      if (timeout > 0 && Number.isFinite(timeout)) {
        entry.timeoutError = timeoutError
        if (timeout === this.#usualTimeout) {
          entry.deadline = Date.now() + timeout
          this.#queue.push(id)
          this.#arm()
        } else {
          entry.timer = setTimeout(() => this.reject(id, errorOf(timeoutError)), timeout)
        }
      }
    })
    return { id, promise }
  }

  /**
   * Settles the request a reply is for. For an error reply, returns the rebuilt error and the
   * request's channel, so the channel.closed that follows can close with the same object.
   */
  settle(frame: Ok | Fail): { channel: number; error: WarrenError } | undefined {
    if (frame.op === 'ok' && frame.through !== undefined) {
      // Consecutive confirms in one frame, with equal flat results: each request gets its own copy.
      const result = frame.result
      const copy = typeof result === 'object' && result !== null ? () => ({ ...result }) : () => result
      for (let id = frame.id; id <= frame.through; id++) this.#take(id)?.resolve(copy())
      return undefined
    }
    const entry = this.#take(frame.id)
    if (!entry) return undefined
    if (frame.op === 'ok') {
      entry.resolve(frame.result)
      return undefined
    }
    const error = fromErrorData(frame.error)
    entry.reject(error)
    return { channel: entry.channel, error }
  }

  reject(id: number, error: unknown): void {
    this.#take(id)?.reject(error)
  }

  rejectChannel(channel: number, error: unknown): void {
    for (const [id, entry] of this.#pending) if (entry.channel === channel) this.reject(id, error)
  }

  rejectAll(error: unknown): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, error)
  }

  #take(id: number): Pending | undefined {
    const entry = this.#pending.get(id)
    if (!entry) return undefined
    this.#pending.delete(id)
    if (entry.timer !== undefined) clearTimeout(entry.timer)
    if (this.#pending.size === 0) this.#reset()
    return entry
  }

  /** Nothing pending: forget the queue and stop the timer. */
  #reset(): void {
    this.#queue = []
    this.#head = 0
    if (this.#sweeper !== undefined) clearTimeout(this.#sweeper)
    this.#sweeper = undefined
  }

  #arm(): void {
    if (this.#sweeper !== undefined) return
    while (this.#head < this.#queue.length && !this.#pending.has(this.#queue[this.#head]!)) this.#head++
    if (this.#head >= this.#queue.length) return
    const oldest = this.#pending.get(this.#queue[this.#head]!)!
    this.#sweeper = setTimeout(() => this.#sweep(), Math.max(0, oldest.deadline - Date.now()))
  }

  #sweep(): void {
    this.#sweeper = undefined
    const now = Date.now()
    while (this.#head < this.#queue.length) {
      const id = this.#queue[this.#head]!
      const entry = this.#pending.get(id)
      if (entry && entry.deadline > now) break
      this.#head++
      if (entry) this.reject(id, errorOf(entry.timeoutError))
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    this.#arm()
  }
}
