/**
 * How a page reaches the shared broker: say which script starts it (only the app's bundler
 * knows that URL), then open `shared://`. Any tab of the origin can do this; the first one
 * starts the SharedWorker and the rest join it.
 */
import { Connection, registerTransport, useSharedWorker } from '../warren.js'
import { connectShared } from '../../src/transport/shared.js'

// The entry registers shared:// on import, but package.json says "sideEffects": false, so a
// bundler that only takes re-exported names from it may drop that registration: say it here.
registerTransport('shared', () => connectShared)

useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))

export function connect(name: string): Promise<Connection> {
  return Connection.open({ url: 'shared://', name })
}
