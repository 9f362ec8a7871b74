// The management API's two ways of loading its consoles' side (hosts/management.ts): by
// import() when the first console attaches (SharedWorker and elected hosts), or a module
// handed in with bundleManagement (warren/worker-sw: a service worker may not import()).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { openManagement } from '../../src/client/management.js'
import * as consoles from '../../src/hosts/management-consoles.js'
import { bundleManagement, serveManagement } from '../../src/hosts/management.js'
import { startBroker } from '../engine/harness.js'

describe('management API loading', () => {
  afterEach(() => bundleManagement(undefined))

  it('loads nothing until a console attaches, then serves it', async () => {
    const h = await startBroker()
    const bundled = { serveConsoles: vi.fn(consoles.serveConsoles) }
    bundleManagement(bundled)
    const stop = serveManagement(h.broker, `bundled-${process.pid}-1`)
    expect(bundled.serveConsoles).not.toHaveBeenCalled()
    const m = await openManagement({ vhost: `bundled-${process.pid}-1`, connectTimeout: 2000, callTimeout: 2000 })
    expect((await m.overview()).brokerId).toBe('test')
    // The bundled module served the console, once for the broker.
    expect(bundled.serveConsoles).toHaveBeenCalledTimes(1)
    m.close()
    stop()
    await h.broker.stop()
  })
})
