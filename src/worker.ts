/**
 * `warren/worker`: the broker host script for the SharedWorker. Give the app's bundler a
 * worker file that starts it, and hand the shared:// connector a factory for that worker:
 *
 * ```ts
 * // broker.worker.ts
 * import { startBroker } from 'warren/worker'
 * startBroker()
 *
 * // main.ts (a window)
 * const conn = await Connection.open({
 *   url: 'shared://',
 *   sharedWorker: (name) =>
 *     new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }),
 * })
 * ```
 *
 * The factory must pass `name` through: it carries the vhost and the protocol version.
 */
import { electBroker, type ElectedHostOptions } from './hosts/elected.js'
import { useElectedHost } from './transport/elect.js'
import { inSharedWorker, startSharedWorkerBroker, type SharedBroker, type SharedBrokerOptions } from './hosts/shared-worker.js'

export type { SharedBroker, SharedBrokerOptions } from './hosts/shared-worker.js'
export type { LinkHost, HostStats } from './hosts/broadcast-host.js'

/** Starts the broker of this SharedWorker's vhost (idempotent). */
export function startBroker(options?: SharedBrokerOptions): SharedBroker {
  return startSharedWorkerBroker(options)
}

// [offline] The elected host, for contexts that cannot reach a SharedWorker (hosts/elected.ts).
export { electBroker, electedBroker } from './hosts/elected.js'
export type { ElectedBroker, ElectedHostOptions, ElectedServing, ElectedState } from './hosts/elected.js'

/**
 * Lets `shared://` connections of this context host the broker when elected, with the host
 * code bundled statically: a service worker must call this, since it may not `import()`
 * (the `warren` entry loads the elected host lazily everywhere else). Import it from
 * `warren/worker-sw` there, which bundles the management API too (loaded lazily here).
 */
export function enableElectedHost(options?: ElectedHostOptions): void {
  useElectedHost(async (vhost) => {
    electBroker(vhost, options)
  })
}

// A worker script that only imports this entry still serves: start with the defaults after
// the importing module has run, unless it called startBroker() itself.
if (inSharedWorker()) queueMicrotask(() => startSharedWorkerBroker())
