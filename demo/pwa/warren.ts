/**
 * How the outbox page wires Warren (in an app: `import { Connection } from 'warren'` and `import { JobQueue }
 * from 'warren/jobs'` do the first two steps): the shared:// transport, the elected host for browsers without
 * SharedWorker (loaded only where needed), and the SharedWorker where there is one.
 * `?host=elected` forces the elected host, to try it on a desktop browser.
 */
import { registerTransport } from '../../src/index.js'
import { useElectedHost } from '../../src/transport/elect.js'
import { connectShared, useSharedWorker } from '../../src/transport/shared.js'

export * from '../../src/index.js'
export * from '../../src/jobs/index.js'

export const forcedHost = new URLSearchParams(location.search).get('host') === 'elected' ? ('elected' as const) : undefined

export function wire(): void {
  registerTransport('shared', () => connectShared)
  useElectedHost(async (vhost) => {
    ;(await import('../../src/hosts/elected.js')).electBroker(vhost)
  })
  if (typeof SharedWorker === 'function' && !forcedHost)
    useSharedWorker((name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name }))
}

/** Which context serves the broker, for the header. */
export async function hostLabel(brokerId: string): Promise<string> {
  if (typeof SharedWorker === 'function' && !forcedHost) return 'SharedWorker'
  const { electedBroker } = await import('../../src/hosts/elected.js')
  return electedBroker('/')?.serving?.broker.brokerId === brokerId ? 'elected: this tab' : 'elected: another tab or worker'
}
