/**
 * The schemes `Connection.open` knows without a `registerTransport` call. A lookup rather
 * than registrations run at import time, so that the package has no side effects and a
 * bundler may drop whatever an app does not use. `memory://` and the elected host carry the
 * engine: they load lazily, only where used.
 */
import { connectShared, remoteConnector } from './transport/shared.js'
import { electedHost, type Elector } from './transport/elect.js'
import { detectClientKind } from './transport/env.js'
import type { Connector } from './transport/link.js'

// [offline] Where no SharedWorker can run the broker, a context of the vhost is elected to
// host it; the host code (engine, storage) loads only in contexts that stand as candidates.
const electLazily: Elector = async (vhost) => {
  if (detectClientKind() === 'service-worker')
    throw new Error("a service worker cannot import() the elected broker host: call enableElectedHost() from 'warren/worker-sw' in its script")
  ;(await import('./hosts/elected.js')).electBroker(vhost)
}

const shared: Connector = (options) => connectShared({ ...options, elect: electedHost(electLazily) })

/** The built-in connector for `scheme`, if there is one. */
export const builtinTransport = (scheme: string): Connector | Promise<Connector> | undefined => {
  if (scheme === 'shared') return shared
  if (scheme === 'memory') return import('./hosts/in-process.js').then((m) => m.connector)
  // [remote] A direct connection to RabbitMQ, through the broker host's one socket per remote.
  if (scheme === 'stomp+ws' || scheme === 'stomp+wss') return remoteConnector
  return undefined
}

/** The schemes `builtinTransport` knows, for error messages. */
export const BUILTIN_SCHEMES = ['shared', 'memory', 'stomp+ws', 'stomp+wss'] as const
