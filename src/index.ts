/**
 * The `warren` entry: the client API plus the built-in transports. `shared://` (the default)
 * reaches the origin's broker over BroadcastChannel; `memory://` starts an in-process broker,
 * loaded lazily so that apps that never use it do not ship the engine.
 */
import { registerTransport } from './client/index.js'
import { connectShared, remoteConnector } from './transport/shared.js'
import { useElectedHost } from './transport/elect.js'
import { detectClientKind } from './transport/env.js'

registerTransport('shared', () => connectShared)
// [remote] A direct connection to RabbitMQ, through the broker host's one socket per remote.
registerTransport('stomp+ws', () => remoteConnector)
registerTransport('stomp+wss', () => remoteConnector)
registerTransport('memory', async () => (await import('./hosts/in-process.js')).connector)
// [offline] Where no SharedWorker can run the broker, a context of the vhost is elected to
// host it; the host code (engine, storage) loads only in contexts that stand as candidates.
useElectedHost(async (vhost) => {
  if (detectClientKind() === 'service-worker')
    throw new Error("a service worker cannot import() the elected broker host: call enableElectedHost() from 'warren/worker' in its script")
  ;(await import('./hosts/elected.js')).electBroker(vhost)
})

export * from './client/index.js'
export * from './jobs/index.js'
export { useSharedWorker, type SharedWorkerFactory } from './transport/shared.js'
export { PROTOCOL_VERSION } from './protocol/version.js'
export { useElectedHost, type BrokerHost, type Elector } from './transport/elect.js'
