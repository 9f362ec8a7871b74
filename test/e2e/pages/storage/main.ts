// Storage-state page: a rig on `window.s` that makes the origin's IndexedDB refuse the broker
// for real (a database of the vhost's name left at a schema version newer than this broker's:
// indexedDB.open fails with VersionError, as after rolling an app back), then connects and
// publishes. Vhosts ending in '-memory' get a broker worker started with storage: 'memory'.
import { Connection, Queue, registerTransport } from '../../../../src/index.js'
import { SCHEMA_VERSION } from '../../../../src/storage/indexeddb/index.js'
import { connectShared, useSharedWorker } from '../../../../src/transport/shared.js'

registerTransport('shared', () => connectShared)
useSharedWorker((name) =>
  name.endsWith('-memory')
    ? new SharedWorker(new URL('./memory.worker.ts', import.meta.url), { type: 'module', name })
    : new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }),
)

const errorInfo = (error: unknown) => {
  const e = error as { name?: string; code?: string; message?: string }
  return { name: e?.name ?? 'Error', code: e?.code ?? '', message: e?.message ?? String(error) }
}

const openDb = (name: string, version: number) =>
  new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name, version)
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })

let conn: Connection | undefined

const s = {
  /** Leaves the vhost's database at a version this broker cannot open. */
  async block(vhost: string) {
    ;(await openDb(`warren:${vhost}`, SCHEMA_VERSION + 100)).close()
  },
  /** What indexedDB.open at the broker's schema version does here (the same call the broker makes). */
  async probe(vhost: string) {
    try {
      ;(await openDb(`warren:${vhost}`, SCHEMA_VERSION)).close()
      return 'opened'
    } catch (error) {
      return errorInfo(error).name
    }
  },
  async open(vhost: string) {
    conn = await Connection.open({ url: `shared://${vhost}`, connectTimeout: 10_000 })
    return conn.storage.broker
  },
  /** Publishes one message; resolves with 'confirmed' or the nack's name and code. */
  async publish(queue: string, options: { durable: boolean; deliveryMode: 'persistent' | 'transient' }) {
    const target = new Queue(queue, { durable: options.durable })
    try {
      await conn!.producer().publish({ n: 1 }, { routingKey: queue, declare: [target], deliveryMode: options.deliveryMode })
      return { outcome: 'confirmed' }
    } catch (error) {
      return { outcome: 'nacked', ...errorInfo(error) }
    }
  },
  async count(queue: string) {
    return (await conn!.defaultChannel.queueDeclare({ queue, passive: true })).messageCount
  },
  async close() {
    await conn?.close()
    conn = undefined
  },
}

declare global {
  interface Window {
    s: typeof s
  }
}
window.s = s
