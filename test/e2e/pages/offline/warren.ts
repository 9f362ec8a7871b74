// The wiring of the `warren` entry (src/index.ts), done explicitly: the pages import the pieces
// from source, and a module whose only use is re-exports may be skipped by the bundler, so the
// registrations are a function the rig calls.
import { registerTransport } from '../../../../src/index.js'
import { useElectedHost } from '../../../../src/transport/elect.js'
import { connectShared } from '../../../../src/transport/shared.js'

export * from '../../../../src/index.js'
export * from '../../../../src/jobs/index.js'
export { useSharedWorker } from '../../../../src/transport/shared.js'

export function wireWarren(): void {
  registerTransport('shared', () => connectShared)
  useElectedHost(async (vhost) => {
    ;(await import('../../../../src/hosts/elected.js')).electBroker(vhost)
  })
}
