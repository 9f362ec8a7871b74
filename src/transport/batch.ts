/**
 * Gathers items pushed during one turn and hands them over at the next microtask, so
 * throughput is not bound by one postMessage per frame.
 */
export class Batcher<T> {
  #items: T[] = []
  #scheduled = false

  /**
   * @param flushTo receives each batch (never empty); a throw there is its own business
   * @param max largest batch handed over at once (the broker refuses batches above 10,000)
   */
  constructor(
    private readonly flushTo: (items: T[]) => void,
    private readonly max = 4096,
  ) {}

  get size(): number {
    return this.#items.length
  }

  push(item: T): void {
    this.#items.push(item)
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(() => this.flush())
    }
  }

  /** Hands over everything now (also used before a goodbye or a close). */
  flush(): void {
    this.#scheduled = false
    const items = this.#items
    if (items.length === 0) return
    this.#items = []
    if (items.length <= this.max) this.flushTo(items)
    else for (let i = 0; i < items.length; i += this.max) this.flushTo(items.slice(i, i + this.max))
  }

  /** Takes what is queued without handing it over (the destination is gone). */
  take(): T[] {
    const items = this.#items
    this.#items = []
    return items
  }
}

/**
 * Posts a batch; if structured clone refuses it (a function or a DOM node in a body), posts
 * the items one by one and reports each one that cannot go, so one bad frame does not take
 * its whole batch down with it.
 */
export function postEach<T>(items: T[], post: (items: T[]) => void, refused: (item: T, error: unknown) => void): void {
  try {
    post(items)
    return
  } catch (error) {
    if (items.length === 1) {
      refused(items[0]!, error)
      return
    }
  }
  for (const item of items) {
    try {
      post([item])
    } catch (error) {
      refused(item, error)
    }
  }
}
