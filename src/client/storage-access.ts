/**
 * The broker keeps durable state in this origin's IndexedDB, which the browser may evict
 * under storage pressure unless the origin's storage is persistent. Only a window can ask
 * for that: `navigator.storage.persist()` does not exist in workers, the SharedWorker
 * broker included, so a tab asks on the broker's behalf (the grant covers the whole
 * origin). `estimate()` and `persisted()` work in every context. A connection's `storage`
 * also says what the broker it reached keeps durable state on (`broker`).
 */
import type { StorageState } from '../protocol/frames.js'
import { WarrenError } from './errors.js'

/** The part of the platform's StorageManager used here. */
export interface StorageManagerLike {
  persist?(): Promise<boolean>
  persisted?(): Promise<boolean>
  estimate?(): Promise<{ usage?: number; quota?: number }>
}

export interface StorageEstimate {
  /** Bytes this origin uses (IndexedDB and the rest), as the browser reports it. */
  usage: number | undefined
  /** Bytes this origin may use before writes fail with QuotaExceededError. */
  quota: number | undefined
}

export class StorageAccess {
  readonly #manager: () => StorageManagerLike | undefined
  readonly #broker: () => StorageState | undefined

  constructor(manager: () => StorageManagerLike | undefined = platformStorage, broker: () => StorageState | undefined = () => undefined) {
    this.#manager = manager
    this.#broker = broker
  }

  /**
   * What the broker keeps durable state on, as its last welcome said: 'durable' (IndexedDB),
   * 'memory' (the app chose it: nothing survives a broker restart) or 'unavailable' (IndexedDB
   * could not be opened: persistent messages for durable queues are nacked with
   * StorageUnavailableError). Undefined outside a connection, or from a broker that does not say.
   */
  get broker(): StorageState | undefined {
    return this.#broker()
  }

  /**
   * Asks the browser to keep this origin's storage (the broker's queues) under storage
   * pressure. Resolves with whether it is persistent now. Chromium decides by site
   * engagement and may say no without a prompt; Firefox may prompt; Safari grants more
   * readily to installed web apps. Call it from a window: elsewhere it rejects.
   */
  async persist(): Promise<boolean> {
    const manager = this.#manager()
    if (typeof manager?.persist !== 'function')
      throw new WarrenError('navigator.storage.persist() is only available in a window: call it from a tab', { code: 'NOT_SUPPORTED' })
    return manager.persist()
  }

  /** Whether this origin's storage is already persistent (false where unknown). */
  async persisted(): Promise<boolean> {
    const manager = this.#manager()
    return typeof manager?.persisted === 'function' ? manager.persisted() : false
  }

  /** Usage and quota of this origin (undefined where the platform does not say). */
  async estimate(): Promise<StorageEstimate> {
    const manager = this.#manager()
    if (typeof manager?.estimate !== 'function') return { usage: undefined, quota: undefined }
    const { usage, quota } = await manager.estimate()
    return { usage, quota }
  }
}

function platformStorage(): StorageManagerLike | undefined {
  const nav = (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator
  return nav?.storage
}

