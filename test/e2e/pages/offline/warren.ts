// The wiring of the `warren` entry (src/index.ts), repeated here: the repository's
// package.json marks only dist files as having side effects, so a page importing src/ from
// source must call this itself (Vite drops module bodies whose exports nobody uses).
import { registerTransport } from '../../../../src/client/index.js'
import { useElectedHost } from '../../../../src/transport/elect.js'
import { connectShared } from '../../../../src/transport/shared.js'

export * from '../../../../src/client/index.js'
export * from '../../../../src/jobs/index.js'
export { useSharedWorker } from '../../../../src/transport/shared.js'

export function wireWarren(): void {
  registerTransport('shared', () => connectShared)
  useElectedHost(async (vhost) => {
    ;(await import('../../../../src/hosts/elected.js')).electBroker(vhost)
  })
}
