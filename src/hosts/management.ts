/**
 * Serves the management API of a broker to consoles. A console announces itself (its id) on
 * the vhost's management channel; the first announce loads the consoles' side
 * (hosts/management-consoles.ts: the service and comlink) with a dynamic import, so a broker
 * nobody inspects does not carry it. A service worker may not `import()`: its host script
 * bundles that side statically through `warren/worker-sw` (bundleManagement below).
 */
import type { Broker } from '../engine/broker.js'
import { managementChannelName, managementDirectoryName, parseDirectorySignal, parseManagementSignal, type DirectorySignal } from '../protocol/management.js'
import type { Consoles, ServeManagementOptions } from './management-consoles.js'

export type { ServeManagementOptions } from './management-consoles.js'

type ConsolesModule = typeof import('./management-consoles.js')
let bundled: ConsolesModule | undefined

/** Makes serveManagement use `module` instead of importing it: for hosts that cannot `import()`. */
export function bundleManagement(module: ConsolesModule | undefined): void {
  bundled = module
}

/** Starts answering consoles of `vhost`; returns a function that stops (and drops them all). */
export function serveManagement(broker: Broker, vhost: string = broker.vhost, options: ServeManagementOptions = {}): () => void {
  let consoles: Promise<Consoles> | undefined
  let stopped = false
  // One promise for the loaded side: opens and closes queue on it in the order they came.
  const served = () =>
    (consoles ??= (bundled ? Promise.resolve(bundled) : import('./management-consoles.js')).then((m) => m.serveConsoles(broker, vhost, options)))

  const announce = new BroadcastChannel(managementChannelName(vhost))
  announce.onmessage = (event: MessageEvent) => {
    if (stopped) return
    const signal = parseManagementSignal(event.data)
    if (signal?.op === 'management.open')
      served().then(
        (c) => stopped || c.open(signal.consoleId),
        (error: unknown) => console.error('warren: the management API failed to load:', error),
      )
    else if (signal?.op === 'management.close') void consoles?.then((c) => stopped || c.close(signal.consoleId), () => {})
  }

  const directory = new BroadcastChannel(managementDirectoryName())
  directory.onmessage = (event: MessageEvent) => {
    if (stopped || parseDirectorySignal(event.data)?.op !== 'vhosts?') return
    directory.postMessage({ op: 'vhost', vhost, epoch: broker.epoch, brokerId: broker.brokerId } satisfies DirectorySignal)
  }

  return () => {
    if (stopped) return
    stopped = true
    announce.close()
    directory.close()
    void consoles?.then((c) => c.stop(), () => {})
  }
}
