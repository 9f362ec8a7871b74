// Harness smoke test: two real tabs share one SharedWorker, talk over BroadcastChannel (also
// from a dedicated worker), and IndexedDB survives a browser restart on the same profile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCdp, startHarness, type Harness } from './harness.js'

describe('e2e harness smoke', () => {
  let harness: Harness

  beforeAll(async () => {
    harness = await startHarness({ pages: ['smoke/index.html'] })
  })
  afterAll(async () => {
    await harness?.close()
  })

  it('two tabs share one SharedWorker', async () => {
    const a = await harness.openPage('smoke/index.html')
    const b = await harness.openPage('smoke/index.html')
    expect(await a.evaluate(() => window.smoke.protocolVersion)).toBeGreaterThan(0)
    expect(await a.evaluate(() => window.smoke.crossOriginIsolated)).toBe(true)

    const first = await a.evaluate(() => window.smoke.increment())
    const second = await b.evaluate(() => window.smoke.increment())
    expect(second.instance).toBe(first.instance)
    expect(second.connections).toBe(2)
    expect([first.count, second.count]).toEqual([1, 2])

    // The browser sees exactly one shared_worker target for the pages' origin (CDP: Chromium only).
    if (hasCdp) {
      const session = await harness.cdp(a)
      const { targetInfos } = await session.send('Target.getTargets') as { targetInfos: Array<{ type: string; url: string }> }
      const shared = targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(harness.baseUrl))
      expect(shared).toHaveLength(1)
      await session.detach()
    }
    await Promise.all([a.close(), b.close()])
  })

  it('BroadcastChannel carries messages between tabs and from a dedicated worker', async () => {
    const a = await harness.openPage('smoke/index.html')
    const b = await harness.openPage('smoke/index.html')
    await a.evaluate(() => window.smoke.broadcast({ hello: 'from a' }))
    await b.waitForFunction(() => window.smoke.received.length >= 1)
    expect(await b.evaluate(() => window.smoke.received)).toEqual([{ hello: 'from a' }])

    await a.evaluate(() => window.smoke.viaDedicatedWorker('ping'))
    await b.waitForFunction(() => window.smoke.received.length >= 2)
    expect(await b.evaluate(() => window.smoke.received[1])).toEqual({ fromWorker: 'ping' })
    await Promise.all([a.close(), b.close()])
  })

  it('IndexedDB survives restartBrowser() and the SharedWorker starts fresh', async () => {
    const a = await harness.openPage('smoke/index.html')
    const before = await a.evaluate(() => window.smoke.increment())
    await a.evaluate(() => window.smoke.put('k', { kept: true }))
    await harness.restartBrowser()

    const c = await harness.openPage('smoke/index.html')
    expect(await c.evaluate(() => window.smoke.get('k'))).toEqual({ kept: true })
    const after = await c.evaluate(() => window.smoke.increment())
    expect(after.instance).not.toBe(before.instance)
    expect(after.count).toBe(1)
    expect(harness.pageErrors).toEqual([])
  })
})
