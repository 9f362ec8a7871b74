// Resource bounds: many durable queues and bindings through a broker restart
// (10,000 in the long run, `npm run test:reliability`), and a tab that floods a queue nobody
// consumes against a test broker with small memory limits (vhosts named rel-limit-*).
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCdp } from '../e2e/harness.js'
import { ReliabilityHarness } from './harness.js'
import type { InspectReply } from './pages/workload.js'

const long = process.env.WARREN_RELIABILITY === 'long'

let rig: ReliabilityHarness
beforeAll(async () => {
  rig = await ReliabilityHarness.start()
})
afterAll(async () => {
  await rig?.close()
})

describe('reliability: resource bounds', () => {
  const inspect = (page: Page, vhost: string) =>
    page.evaluate(([v]) => window.rel.debug(v!, { op: 'inspect' }, 5000), [vhost]) as Promise<InspectReply | null>

  // The broker restart: in Chromium its SharedWorker is killed under its client (CDP); elsewhere
  // a SharedWorker only ends with its last client, so the window closes and a new one opens.
  it(`${long ? '10,000' : '2,000'} durable queues and as many bindings: declared, routed to, recovered after the SharedWorker ${hasCdp ? 'is killed' : 'ends with its last window'}, drained`, async () => {
    let page = await rig.harness.openPage('index.html')
    const vhost = 'rel-many'
    const url = `shared://${vhost}`
    const n = long ? 10_000 : 2_000
    try {
      const timing = await page.evaluate(([u, count]) => window.rel.manyQueues(u as string, count as number), [url, n] as const)
      const before = await inspect(page, vhost)
      expect(before!.queues.filter((q) => q.name.startsWith('res.q.') && q.ready === 1)).toHaveLength(n)
      expect(before!.bindings).toBeGreaterThanOrEqual(n)
      if (hasCdp) {
        const session = await rig.harness.cdp(page)
        const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; title: string }> }
        const worker = targetInfos.find((t) => t.type === 'shared_worker' && t.title.endsWith(vhost))!
        await session.send('Target.closeTarget', { targetId: worker.targetId })
        await session.detach().catch(() => {})
      } else {
        await page.close()
        // The broker holds its lock for life: seen from a page of the origin that is no client.
        const onlooker = await rig.harness.openPage('not-a-page')
        const held = () => onlooker.evaluate((name) => navigator.locks.query().then((s) => s.held?.filter((l) => l.name === name).length ?? 0), `warren:${vhost}:broker`)
        await expect.poll(held, { timeout: 15_000, interval: 100 }).toBe(0)
        await onlooker.close()
        page = await rig.harness.openPage('index.html')
      }
      const started = Date.now()
      // A window that held the killed worker starts a new one for its next connection.
      const drained = await page.evaluate(([u, count]) => window.rel.drainMany(u as string, count as number, 60_000), [url, n] as const)
      const drainedAt = Date.now()
      const after = await inspect(page, vhost)
      expect(after!.epoch).toBe(before!.epoch + 1)
      expect(after!.bindings).toBeGreaterThanOrEqual(n)
      expect(drained).toBe(n)
      if (long || process.env.WARREN_RELIABILITY_VERBOSE === '1') console.log(`${rig.harness.engine}: ${n} durable queues and bindings declared in ${Math.round(timing.declareMs)} ms, ${n} routed persistent publishes confirmed in ${Math.round(timing.publishMs)} ms; after the SharedWorker ended, a new broker recovered them and a get from each queue took ${drainedAt - started} ms`)
    } finally {
      await page.close()
    }
  }, 120_000)

  it('a tab that floods a queue nobody consumes is nacked with RESOURCE_LIMIT once the vhost holds its limit', async () => {
    const page = await rig.harness.openPage('index.html')
    const vhost = 'rel-limit-flood'
    try {
      const outcomes = await page.evaluate(([u]) => window.rel.flood(u!, 'flooded', 20_000), [`shared://${vhost}`])
      expect(outcomes).toEqual({ confirmed: 5000, 'ResourceLimitError:RESOURCE_LIMIT': 15_000 })
      const state = await inspect(page, vhost)
      expect(state!.queues.find((q) => q.name === 'flooded')).toMatchObject({ ready: 5000 })
    } finally {
      await page.close()
    }
  }, 60_000)
})

