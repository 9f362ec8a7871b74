/**
 * Opens a Warren database through any IDBFactory (the page's, a worker's, or a fake one
 * in tests). idb's own openDB always uses the global `indexedDB`, so this is its
 * equivalent with the factory passed in, wrapping the result with idb's `wrap`.
 */
import { wrap } from 'idb'
import { SCHEMA_VERSION, upgrade, type StoreName, type WarrenDB, type WarrenDatabase } from './schema.js'
import type { IDBPTransaction } from 'idb'

export interface OpenHooks {
  /** The browser closed the connection (storage cleared, disk error). */
  onClose(): void
  /** Another context wants to upgrade or delete the database: we must close. */
  onVersionChange(): void
}

export function openDatabase(factory: IDBFactory, name: string, hooks: OpenHooks): Promise<WarrenDatabase> {
  return new Promise((resolve, reject) => {
    let upgradeError: unknown
    let request: IDBOpenDBRequest
    try {
      request = factory.open(name, SCHEMA_VERSION)
    } catch (err) {
      reject(err)
      return
    }
    request.onupgradeneeded = (event) => {
      const tx = request.transaction!
      upgrade(
        wrap(request.result) as WarrenDatabase,
        event.oldVersion,
        wrap(tx) as unknown as IDBPTransaction<WarrenDB, StoreName[], 'versionchange'>,
      ).catch((err: unknown) => {
        upgradeError = err
        try {
          tx.abort()
        } catch {
          // Already finished or aborting: the request's error event reports it.
        }
      })
    }
    request.onsuccess = () => {
      const raw = request.result
      raw.onclose = () => hooks.onClose()
      raw.onversionchange = () => hooks.onVersionChange()
      resolve(wrap(raw) as WarrenDatabase)
    }
    request.onerror = () => reject(upgradeError ?? request.error)
    // 'blocked': an older connection elsewhere has not closed yet; the open completes once it does.
  })
}
