// The elected host in real Chromium with SharedWorker taken out of every page before Warren
// loads (as on Chrome Android before 148): tabs elect one broker through the broker lock,
// share queues, and when the host tab closes another takes over from IndexedDB. Also a
// broker hosted by a dedicated worker, serving two tabs.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from '../harness.js'

const PAGE = 'offline/elected.html'

let harness: Harness
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE] })
  await harness.context.addInitScript(() => {
    delete (window as { SharedWorker?: unknown }).SharedWorker
  })
})
afterAll(async () => {
  await harness?.close()
})

type Opened = { id: string; epoch: number; brokerId: string; ms: number }
type Seen = { body: unknown; redelivered: boolean; at: number }

async function open(page: Page, url = 'shared://', options: { host?: 'auto' | 'elected' } = {}): Promise<Opened> {
  const result = await page.evaluate(([u, o]) => window.el.open(u, o), [url, options] as const)
  if ('error' in result) throw new Error(`open failed: ${JSON.stringify(result.error)}`)
  return result as Opened
}

const hostOf = (page: Page, vhost = '/') => page.evaluate((v) => window.el.host(v), vhost)

/** The candidate appears once the lazily loaded host code has loaded (just after the connect). */
async function standing(page: Page, vhost = '/') {
  await page.waitForFunction(async (v) => (await window.el.host(v)).state !== 'none', vhost, { timeout: 10_000 })
  return hostOf(page, vhost)
}
const seen = (page: Page, key: string) => page.evaluate((k) => window.el.seen(k), key) as Promise<Seen[]>

async function waitSeen(page: Page, key: string, n: number, timeout = 15_000): Promise<Seen[]> {
  await page.waitForFunction(([k, count]) => window.el.seen(k as string).length >= (count as number), [key, n] as const, { timeout })
  return seen(page, key)
}

describe('elected broker host (no SharedWorker)', () => {
  it('three tabs elect one broker and share queues; when the host tab closes another takes over: no confirmed persistent message lost, unacked ones redelivered', async () => {
    const a = await harness.openPage(PAGE)
    expect(await a.evaluate(() => window.el.hasSharedWorker())).toBe(false)
    const ca = await open(a)
    const b = await harness.openPage(PAGE)
    const cb = await open(b)
    const c = await harness.openPage(PAGE)
    const cc = await open(c)
    // One broker: the first tab's. Its own connection talks to it over BroadcastChannel too.
    expect(new Set([ca.brokerId, cb.brokerId, cc.brokerId]).size).toBe(1)
    const hosts = await Promise.all([a, b, c].map((p) => standing(p)))
    expect(hosts.map((h) => h.state)).toEqual(['serving', 'waiting', 'waiting'])
    expect(hosts[0]!.brokerId).toBe(ca.brokerId)
    console.log(`elected host: first tab connected in ${ca.ms.toFixed(0)} ms (elected, IndexedDB opened); others in ${cb.ms.toFixed(0)} / ${cc.ms.toFixed(0)} ms`)

    // Shared work queue between tabs, including the host tab's own connection.
    await a.evaluate((id) => window.el.work(id, 'el-shared', 'shared-a', { prefetch: 1 }), ca.id)
    await b.evaluate((id) => window.el.work(id, 'el-shared', 'shared-b', { prefetch: 1 }), cb.id)
    expect(await c.evaluate((id) => window.el.publishMany(id, 'el-shared', 20), cc.id)).toHaveLength(20)
    const deadline = Date.now() + 10_000
    let split = [0, 0]
    while (Date.now() < deadline) {
      split = [(await seen(a, 'shared-a')).length, (await seen(b, 'shared-b')).length]
      if (split[0]! + split[1]! >= 20) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(split[0]! + split[1]!).toBe(20)
    expect(Math.min(...split)).toBeGreaterThan(0)

    // Before the host goes: c holds 3 unacked; 10 more wait in a durable queue; b consumes
    // a stream that c keeps publishing, confirmed one at a time.
    await c.evaluate((id) => window.el.work(id, 'el-held', 'held', { prefetch: 3, hold: true }), cc.id)
    expect(await b.evaluate((id) => window.el.publishMany(id, 'el-held', 3), cb.id)).toEqual([0, 1, 2])
    await waitSeen(c, 'held', 3)
    expect(await b.evaluate((id) => window.el.publishMany(id, 'el-backlog', 10), cb.id)).toHaveLength(10)
    await b.evaluate((id) => window.el.work(id, 'el-stream', 'stream', { prefetch: 50 }), cb.id)
    await c.evaluate((id) => window.el.startPublishing(id, 'el-stream', 'stream', 10), cc.id)
    await waitSeen(b, 'stream', 20)

    // The host tab closes.
    const closing = Date.now()
    await a.close()
    const closed = Date.now()
    const newHost = await (async () => {
      for (;;) {
        const [hb, hc] = await Promise.all([hostOf(b), hostOf(c)])
        if (hb.state === 'serving') return { page: b, ...hb }
        if (hc.state === 'serving') return { page: c, ...hc }
        if (Date.now() - closed > 15_000) throw new Error('nobody took over')
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    expect(newHost.epoch).toBeGreaterThan(ca.epoch)
    // Traffic flows again: the first stream message b gets after the close returned.
    await b.waitForFunction((t0) => window.el.seen('stream').some((s) => s.at > t0), closed, { timeout: 15_000 })
    const stream = await seen(b, 'stream')
    const firstAfter = stream.find((s) => s.at > closed)!.at
    const lastBefore = Math.max(...stream.filter((s) => s.at <= closing).map((s) => s.at))
    console.log(
      `failover, host tab closed → traffic flowing again: ${firstAfter - closing} ms from page.close() ` +
        `(close itself took ${closed - closing} ms; gap in the stream ${firstAfter - lastBefore} ms); ` +
        `new broker started in ${newHost.startMs!.toFixed(0)} ms (IndexedDB recovery), told ${newHost.told} clients`,
    )

    // c's 3 unacked come back to it, redelivered; the backlog is all there.
    const held = await waitSeen(c, 'held', 6)
    expect(held.slice(3).map((s) => s.body).sort()).toEqual([0, 1, 2])
    expect(held.slice(3).every((s) => s.redelivered)).toBe(true)
    expect(await c.evaluate((id) => window.el.counts(id, 'el-backlog'), cc.id)).toEqual({ messageCount: 10, consumerCount: 0 })

    // Every confirmed stream message arrived (duplicates allowed, losses not).
    await c.evaluate(() => window.el.stopPublishing('stream'))
    await new Promise((r) => setTimeout(r, 300))
    const confirmed = (await c.evaluate(() => window.el.confirmed('stream'))) as number[]
    const got = new Set((await seen(b, 'stream')).map((s) => s.body as number))
    expect(confirmed.length).toBeGreaterThan(20)
    expect(confirmed.filter((n) => !got.has(n))).toEqual([])
    const infos = await Promise.all([b.evaluate((id) => window.el.info(id), cb.id), c.evaluate((id) => window.el.info(id), cc.id)])
    expect(infos.map((i) => i.brokerId)).toEqual([newHost.brokerId, newHost.brokerId])
    await Promise.all([b.close(), c.close()])
  })

  it('a broker hosted in a dedicated worker serves two tabs', async () => {
    const vhost = 'worker-hosted'
    const a = await harness.openPage(PAGE)
    const wi = await a.evaluate(() => window.el.spawn('host'))
    const hosted = (await a.evaluate(([i, v]) => window.el.w(i as number, 'elect', v), [wi, vhost] as const)) as { brokerId: string; epoch: number }
    const b = await harness.openPage(PAGE)
    const ca = await open(a, `shared://${vhost}`)
    const cb = await open(b, `shared://${vhost}`)
    expect([ca.brokerId, cb.brokerId]).toEqual([hosted.brokerId, hosted.brokerId])
    // The tabs stand as candidates behind the worker, and are served by it.
    expect((await standing(a, vhost)).state).toBe('waiting')
    expect((await standing(b, vhost)).state).toBe('waiting')
    await b.evaluate((id) => window.el.work(id, 'wh-jobs', 'jobs', { prefetch: 5 }), cb.id)
    expect(await a.evaluate((id) => window.el.publishMany(id, 'wh-jobs', 10), ca.id)).toHaveLength(10)
    expect((await waitSeen(b, 'jobs', 10)).map((s) => s.body)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(await a.evaluate(([i, v]) => window.el.w(i as number, 'stats', v), [wi, vhost] as const)).toMatchObject({ sessions: 2 })

    // The worker goes (its tab terminates it): a tab takes over.
    await a.evaluate((i) => window.el.terminate(i), wi)
    await b.waitForFunction(
      async ([id, old]) => window.el.info(id as string).brokerId !== old,
      [cb.id, hosted.brokerId] as const,
      { timeout: 15_000 },
    )
    expect(await a.evaluate((id) => window.el.publishMany(id, 'wh-jobs', 5, 10), ca.id)).toHaveLength(5)
    expect((await waitSeen(b, 'jobs', 15)).slice(10).map((s) => s.body)).toEqual([10, 11, 12, 13, 14])
    await Promise.all([a.close(), b.close()])
  })
})
