/**
 * The pending-request map of one connection. Request ids are unique per connection (replies
 * carry only the id), each entry remembers its channel so a closing channel rejects just its
 * own requests, and every entry has a timeout whose error was created by the caller.
 */
import type { Fail, Ok } from '../protocol/frames.js'
import { fromErrorData, type TimeoutError, type WarrenError } from './errors.js'

interface Pending {
  channel: number
  resolve(value: unknown): void
  reject(reason: unknown): void
  timer: ReturnType<typeof setTimeout> | undefined
}

export class Requests {
  #next = 1
  readonly #pending = new Map<number, Pending>()

  get size(): number {
    return this.#pending.size
  }

  has(id: number): boolean {
    return this.#pending.has(id)
  }

  /** Registers a request; `timeout` ≤ 0 or Infinity means no timeout. */
  add(channel: number, timeout: number, timeoutError: TimeoutError): { id: number; promise: Promise<unknown> } {
    const id = this.#next++
    const promise = new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { channel, resolve, reject, timer: undefined }
      if (timeout > 0 && Number.isFinite(timeout)) {
        entry.timer = setTimeout(() => {
          this.#pending.delete(id)
          reject(timeoutError)
        }, timeout)
      }
      this.#pending.set(id, entry)
    })
    return { id, promise }
  }

  /**
   * Settles the request a reply is for. For an error reply, returns the rebuilt error and the
   * request's channel, so the channel.closed that follows can close with the same object.
   */
  settle(frame: Ok | Fail): { channel: number; error: WarrenError } | undefined {
    const entry = this.#pending.get(frame.id)
    if (!entry) return undefined
    this.#pending.delete(frame.id)
    if (entry.timer !== undefined) clearTimeout(entry.timer)
    if (frame.op === 'ok') {
      entry.resolve(frame.result)
      return undefined
    }
    const error = fromErrorData(frame.error)
    entry.reject(error)
    return { channel: entry.channel, error }
  }

  reject(id: number, error: unknown): void {
    const entry = this.#pending.get(id)
    if (!entry) return
    this.#pending.delete(id)
    if (entry.timer !== undefined) clearTimeout(entry.timer)
    entry.reject(error)
  }

  rejectChannel(channel: number, error: unknown): void {
    for (const [id, entry] of this.#pending) if (entry.channel === channel) this.reject(id, error)
  }

  rejectAll(error: unknown): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, error)
  }
}
