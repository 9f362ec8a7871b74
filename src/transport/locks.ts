/**
 * The slice of the Web Locks API the link and the host use. Injectable, so Node tests can
 * run both sides in one process with an in-memory lock manager.
 */
export interface LockOptions {
  signal?: AbortSignal
  ifAvailable?: boolean
}

export interface LockManagerLike {
  request(name: string, options: LockOptions, callback: (lock: unknown) => unknown): Promise<unknown>
}

/** `navigator.locks` where the context has it. */
export function defaultLocks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator
  return nav?.locks
}

/** Takes `name` and holds it until the returned release function is called. */
export function holdLock(locks: LockManagerLike, name: string, signal?: AbortSignal): Promise<() => void> {
  return new Promise((granted, failed) => {
    let release!: () => void
    const held = new Promise<void>((done) => {
      release = done
    })
    locks
      .request(name, signal ? { signal } : {}, () => {
        granted(release)
        return held
      })
      .catch(failed)
  })
}

export interface LockSnapshot {
  held?: ReadonlyArray<{ name?: string }>
}

/** `navigator.locks.query()` where the lock manager has it. */
export async function queryLocks(locks: LockManagerLike | undefined): Promise<LockSnapshot | undefined> {
  const query = (locks as { query?: () => Promise<LockSnapshot> } | undefined)?.query
  if (typeof query !== 'function') return undefined
  try {
    return await query.call(locks)
  } catch {
    return undefined
  }
}
