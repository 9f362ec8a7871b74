// An in-memory, exclusive, FIFO Web Locks manager: lets Node tests run a link and a host in
// one process. `drop(holderTag)` plays a context dying: every lock it holds is released.
import type { LockManagerLike, LockOptions } from '../../src/transport/locks.js'

interface Waiter {
  grant(): void
}

export class FakeLocks {
  readonly #held = new Set<string>()
  readonly #queues = new Map<string, Waiter[]>()

  /** Names currently held. */
  held(): string[] {
    return [...this.#held]
  }

  /** A view of this manager for one context; `kill()` releases what that context holds. */
  context(): LockManagerLike & { kill(): void } {
    const releases = new Set<() => void>()
    let dead = false
    return {
      request: (name: string, options: LockOptions, callback: (lock: unknown) => unknown) =>
        new Promise((resolve, reject) => {
          if (options.signal?.aborted) return reject(new DOMException('aborted', 'AbortError'))
          const run = () => {
            this.#held.add(name)
            let released = false
            const release = () => {
              if (released) return
              released = true
              releases.delete(release)
              this.#held.delete(name)
              this.#next(name)
            }
            releases.add(release)
            let result: unknown
            try {
              result = callback({ name })
            } catch (error) {
              release()
              reject(error)
              return
            }
            Promise.resolve(result).then(
              (value) => {
                release()
                resolve(value)
              },
              (error) => {
                release()
                reject(error)
              },
            )
          }
          if (dead) return
          if (!this.#held.has(name) && !(this.#queues.get(name)?.length)) {
            queueMicrotask(run)
            return
          }
          if (options.ifAvailable) {
            queueMicrotask(() => resolve(callback(null)))
            return
          }
          const waiter: Waiter = { grant: run }
          const queue = this.#queues.get(name) ?? []
          queue.push(waiter)
          this.#queues.set(name, queue)
          options.signal?.addEventListener('abort', () => {
            const q = this.#queues.get(name)
            const i = q?.indexOf(waiter) ?? -1
            if (i >= 0) {
              q!.splice(i, 1)
              reject(new DOMException('aborted', 'AbortError'))
            }
          })
        }),
      kill: () => {
        dead = true
        for (const release of [...releases]) release()
      },
    }
  }

  #next(name: string): void {
    const queue = this.#queues.get(name)
    const waiter = queue?.shift()
    if (queue && queue.length === 0) this.#queues.delete(name)
    if (waiter) {
      this.#held.add(name) // reserve before the grant runs
      queueMicrotask(() => {
        this.#held.delete(name)
        waiter.grant()
      })
    }
  }
}
