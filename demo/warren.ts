/**
 * The demo's one place that knows how Warren is wired (in your app: `from 'warren'`): which
 * script starts the broker's SharedWorker. Safe to import from dedicated workers too: they
 * never start the broker, they reach it over BroadcastChannel.
 */
import { Connection, registerTransport, useSharedWorker } from '../src/index.js'
import { connectShared } from '../src/transport/shared.js'

export * from '../src/index.js'

// The entry registers shared:// on import, but package.json says "sideEffects": false, so a
// bundler that only takes re-exported names from it may drop that registration: say it here.
registerTransport('shared', () => connectShared)

export const startBrokerWorker = (name: string): SharedWorker =>
  new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name })

if (typeof SharedWorker === 'function') useSharedWorker(startBrokerWorker)

export function connect(name: string): Promise<Connection> {
  return Connection.open({ url: 'shared://', name })
}
