/**
 * Runs the broker of one vhost inside a SharedWorker. The vhost comes from the worker's name
 * (`warren:v<protocol>:<vhost>`, made by the shared:// connector). Before serving, the worker
 * takes the vhost's broker lock and holds it for life: whoever holds it is the broker, and
 * clients waiting on it learn that the broker is gone when it is granted to them.
 */
import { Broker } from '../engine/broker.js'
import { parsePortRequest, type PortNotice, type RemoteAttach } from '../protocol/notices.js'
import { PROTOCOL_VERSION } from '../protocol/version.js'
import { IndexedDBStorage } from '../storage/indexeddb/index.js'
import { MemoryStorage } from '../storage/memory.js'
import type { Durability, Storage } from '../storage/types.js'
import { defaultLocks, holdLock, type LockManagerLike } from '../transport/locks.js'
import { brokerLockName, parseSharedWorkerName } from '../transport/names.js'
import { LinkHost, serveBroadcast, servePort } from './broadcast-host.js'
import { serveManagement } from './management.js' // [console]
import { systemClock } from './system-clock.js'
import { announceTakeover, liveClients } from './takeover.js'
import type { DirectRemotes, RemotesOptions, ServingRemotes } from './remotes.js'

/**
 * [remote] Starts the configured remotes; the code (and @stomp/stompjs) is loaded only when
 * there are some. A bad configuration is logged, never a reason for the broker not to serve.
 */
export async function serveRemotes(broker: Broker, vhost: string, options: RemotesOptions): Promise<ServingRemotes | undefined> {
  if (!options.remotes || Object.keys(options.remotes).length === 0) return undefined
  try {
    const { startRemotes } = await import('./remotes.js')
    return await startRemotes(broker, vhost, options)
  } catch (error) {
    console.error(`warren: the remotes of vhost '${vhost}' could not start:`, error)
    return undefined
  }
}

export interface SharedBrokerOptions extends RemotesOptions {
  /**
   * Where durable state lives: 'indexeddb' (default), 'memory', or a factory for any Storage.
   * If IndexedDB cannot be opened the broker still serves, on memory, but tells its clients
   * (storage 'unavailable' in their welcome) and nacks persistent messages for durable queues
   * with STORAGE_UNAVAILABLE; choose 'memory' to accept losing them at a restart instead.
   */
  storage?: 'indexeddb' | 'memory' | ((vhost: string) => Storage)
  /** Default durability of IndexedDB writes. */
  durability?: Durability
  /** Bounded memory: see BrokerOptions (publishes past these are nacked with RESOURCE_LIMIT). */
  maxReadyMessages?: number
  maxReadyBytes?: number
  /** For tests. */
  locks?: LockManagerLike
}

export interface SharedBroker {
  readonly vhost: string
  /** Resolves once the broker holds its lock, has recovered its state and serves. */
  readonly ready: Promise<{ broker: Broker; host: LinkHost; remotes: ServingRemotes | undefined }>
  /** Stops serving and releases the broker lock (tests; a SharedWorker normally just dies). */
  stop(): Promise<void>
}

interface ConnectEvent {
  readonly ports: readonly MessagePort[]
}

interface SharedScope {
  readonly name?: string
  addEventListener(type: 'connect', listener: (event: ConnectEvent) => void): void
}

/** A memory store still gives every start a new epoch, so clients see the restart. */
class FreshEpochMemoryStorage extends MemoryStorage {
  override async open(): Promise<{ epoch: number }> {
    await super.open()
    return { epoch: Date.now() }
  }
}

/** The engine on the configured storage (also used by the elected host). */
export async function startEngine(vhost: string, options: SharedBrokerOptions): Promise<Broker> {
  const choice = options.storage ?? 'indexeddb'
  const { maxReadyMessages, maxReadyBytes } = options
  const base = {
    vhost,
    clock: systemClock,
    ...(maxReadyMessages !== undefined ? { maxReadyMessages } : {}),
    ...(maxReadyBytes !== undefined ? { maxReadyBytes } : {}),
  }
  if (typeof choice === 'function') {
    const storage = choice(vhost)
    return Broker.start({ ...base, storage, storageState: storage instanceof MemoryStorage ? 'memory' : 'durable' })
  }
  if (choice === 'memory') return Broker.start({ ...base, storage: new FreshEpochMemoryStorage(), storageState: 'memory' })
  if (typeof indexedDB !== 'undefined') {
    const storage = new IndexedDBStorage(options.durability ? { vhost, durability: options.durability } : { vhost })
    try {
      return await Broker.start({ ...base, storage, storageState: 'durable' })
    } catch (error) {
      console.error(`warren: IndexedDB is unavailable for vhost '${vhost}': persistent messages for durable queues will be nacked (STORAGE_UNAVAILABLE)`, error)
      await storage.close().catch(() => {})
    }
  }
  // Never a silent downgrade: clients hear 'unavailable' in their welcome, persistent publishes are nacked.
  return Broker.start({ ...base, storage: new FreshEpochMemoryStorage(), storageState: 'unavailable' })
}

let running: SharedBroker | undefined

/** Starts the broker in this SharedWorker (once; later calls return the same broker). */
export function startSharedWorkerBroker(options: SharedBrokerOptions = {}): SharedBroker {
  if (running) return running
  const scope = globalThis as unknown as SharedScope
  const parsed = parseSharedWorkerName(scope.name ?? '')
  if (!parsed)
    console.warn(`warren: the SharedWorker is named '${scope.name ?? ''}', not 'warren:v${PROTOCOL_VERSION}:<vhost>'; serving vhost '/'`)
  else if (parsed.version !== PROTOCOL_VERSION)
    console.error(`warren: this broker speaks protocol ${PROTOCOL_VERSION}, but was started as '${scope.name}'`)
  const vhost = parsed?.vhost ?? '/'

  // Windows that connect before the broker is ready hear 'ready' (and say hello at once);
  // ports attached for the MessagePort link are served once the host exists.
  const waiting: MessagePort[] = []
  const attached: MessagePort[] = []
  let serving: { broker: Broker; host: LinkHost; remotes: ServingRemotes | undefined } | undefined
  const stops: Array<() => void> = []

  const attach = (port: MessagePort) => {
    if (serving) stops.push(servePort(serving.host, port))
    else attached.push(port)
  }
  // [remote] A direct stomp+ws connection's port is served by the LinkHost of its remote socket.
  let directs: Promise<DirectRemotes> | undefined
  const attachRemote = (port: MessagePort, remote: RemoteAttach) => {
    directs ??= ready.then(async ({ remotes }) => {
      const { DirectRemotes } = await import('./remotes.js')
      return new DirectRemotes(vhost, () => remotes?.remotes, locks ?? undefined)
    })
    directs
      .then((d) => d.host(remote))
      .then((host) => stops.push(servePort(host, port)))
      .catch((error: unknown) => {
        console.error(`warren: a direct connection to ${remote.url.replace(/\/\/[^@/]*@/, '//')} could not be served:`, error)
        port.close()
      })
  }
  scope.addEventListener('connect', (event) => {
    const port = event.ports[0]
    if (!port) return
    port.onmessage = (message) => {
      const request = parsePortRequest(message.data)
      if (request?.op === 'attach') {
        const linkPort = message.ports[0]
        if (linkPort && request.remote) attachRemote(linkPort, request.remote)
        else if (linkPort) attach(linkPort)
      } else if (request?.op === 'stats' && serving) {
        const { host, broker } = serving
        const notice: PortNotice = { op: 'stats', host: { ...host.stats }, broker: { ...broker.stats }, sessions: host.sessionCount, epoch: broker.epoch }
        port.postMessage(notice)
      }
    }
    if (serving) port.postMessage(readyNotice(serving.broker))
    else waiting.push(port)
  })

  const locks = options.locks ?? defaultLocks()
  const lockAbort = new AbortController()
  let releaseLock: (() => void) | undefined

  const ready = (async () => {
    if (locks) releaseLock = await holdLock(locks, brokerLockName(vhost), lockAbort.signal)
    // [offline] see takeover.ts. Asked while the engine starts: any broker before us is gone
    // (we hold its lock), so a client that appears meanwhile is new and hears 'ready' itself.
    const found = liveClients(locks, vhost) // never rejects
    const broker = await startEngine(vhost, options)
    const clients = await found
    const host = new LinkHost(broker, locks ? { vhost, locks } : { vhost })
    stops.push(serveBroadcast(host))
    const remotes = await serveRemotes(broker, vhost, options) // [remote]
    stops.push(serveManagement(broker, vhost, remotes ? { remotes } : {})) // [console] the management API for consoles of this origin (src/hosts/management.ts)
    announceTakeover(broker, vhost, clients) // [offline] clients of an elected broker that just died reconnect at once
    serving = { broker, host, remotes }
    for (const port of attached.splice(0)) stops.push(servePort(host, port))
    const notice = readyNotice(broker)
    for (const port of waiting.splice(0)) port.postMessage(notice)
    return serving
  })()
  ready.catch((error: unknown) => console.error(`warren: the broker of vhost '${vhost}' failed to start:`, error))

  running = {
    vhost,
    ready,
    async stop() {
      lockAbort.abort()
      for (const stop of stops.splice(0)) stop()
      if (serving) {
        await (await directs)?.stop()
        await serving.remotes?.stop()
        serving.host.close()
        await serving.broker.stop()
      }
      releaseLock?.()
    },
  }
  return running
}

const readyNotice = (broker: Broker): PortNotice => ({ op: 'ready', epoch: broker.epoch, brokerId: broker.brokerId })

/** Whether this code runs in a SharedWorker. */
export const inSharedWorker = (): boolean => {
  const g = globalThis as unknown as Record<string, unknown>
  const C = g.SharedWorkerGlobalScope
  return typeof C === 'function' && g instanceof (C as new () => unknown)
}
