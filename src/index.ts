/**
 * The `warren` entry: the client API plus the built-in transports. `shared://` (the default)
 * reaches the origin's broker over BroadcastChannel; `memory://` starts an in-process broker,
 * loaded lazily so that apps that never use it do not ship the engine.
 */
import { registerTransport } from './client/index.js'
import { connectShared } from './transport/shared.js'

registerTransport('shared', () => connectShared)
registerTransport('memory', async () => (await import('./hosts/in-process.js')).connector)

export * from './client/index.js'
export { useSharedWorker, type SharedWorkerFactory } from './transport/shared.js'
export { PROTOCOL_VERSION } from './protocol/version.js'
