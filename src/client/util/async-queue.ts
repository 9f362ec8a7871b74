/**
 * A push-driven async iterator: producers `push`, one reader awaits `next()`. `end()` finishes
 * the iteration after the buffered values, `fail(error)` throws after them. `onReturn` runs
 * when the reader stops early (`break` in a `for await`), not when the queue ends.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  readonly #buffer: T[] = []
  #waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | undefined
  #done = false
  #error: unknown = undefined
  #failed = false
  #onReturn: ((leftover: T[]) => void) | undefined

  /** `onReturn` gets the values that were buffered but never read. */
  constructor(onReturn?: (leftover: T[]) => void) {
    this.#onReturn = onReturn
  }

  get size(): number {
    return this.#buffer.length
  }

  get ended(): boolean {
    return this.#done
  }

  push(value: T): void {
    if (this.#done) return
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = undefined
      waiting.resolve({ value, done: false })
    } else this.#buffer.push(value)
  }

  end(): void {
    if (this.#done) return
    this.#done = true
    this.#flushEnd()
  }

  fail(error: unknown): void {
    if (this.#done) return
    this.#done = true
    this.#failed = true
    this.#error = error
    this.#flushEnd()
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#buffer.length > 0) return Promise.resolve({ value: this.#buffer.shift() as T, done: false })
    if (this.#done) return this.#finish()
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<T>> {
    this.#done = true
    this.#failed = false
    this.#runOnReturn(this.#buffer.splice(0))
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.resolve({ value: undefined, done: true })
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  #flushEnd(): void {
    this.#onReturn = undefined
    const waiting = this.#waiting
    if (!waiting || this.#buffer.length > 0) return
    this.#waiting = undefined
    this.#finish().then(waiting.resolve, waiting.reject)
  }

  #finish(): Promise<IteratorResult<T>> {
    if (this.#failed) {
      this.#failed = false
      return Promise.reject(this.#error)
    }
    return Promise.resolve({ value: undefined, done: true })
  }

  #runOnReturn(leftover: T[]): void {
    const fn = this.#onReturn
    this.#onReturn = undefined
    fn?.(leftover)
  }
}
