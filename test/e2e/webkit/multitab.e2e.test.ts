// The multi-tab essentials in WebKitGTK (MiniBrowser over classic WebDriver, two windows of one
// session share one SharedWorker): a work queue across tabs, redelivery when a tab closes, and
// durable messages across a broker restart and across a browser restart. MiniBrowser keeps
// every automation session on ephemeral storage, so the browser restart runs in
// test/webkit-browser.py (the same WebKitGTK, with a profile folder).
import type { Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { remote } from 'webdriverio'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { miniBrowserCapabilities, persistentBrowserCapabilities, startWebKitDriver, type WebKitDriver } from '../../webkit.js'
import { buildPages, serveStatic } from '../harness.js'

const PAGE = 'shared/api.html'

type Opened = { id: string; epoch: number; brokerId: string }
type Seen = { body: unknown; redelivered: boolean }

let driver: WebKitDriver
let browser: WebdriverIO.Browser
let server: Server
let baseUrl: string
let outDir: string
/** A window on the origin that is no client of the broker: it keeps the session open. */
let keeper: string

beforeAll(async () => {
  outDir = await buildPages([PAGE])
  ;({ server, baseUrl } = await serveStatic(outDir))
  driver = await startWebKitDriver()
  browser = await remote({ hostname: driver.hostname, port: driver.port, logLevel: 'silent', capabilities: miniBrowserCapabilities() })
  await browser.url(`${baseUrl}/not-a-client`)
  keeper = await browser.getWindowHandle()
})

afterAll(async () => {
  await browser?.deleteSession().catch(() => {})
  await driver?.stop()
  await new Promise<void>((done) => { server?.close(() => done()); server?.closeAllConnections() })
  if (outDir) await rm(outDir, { recursive: true, force: true })
})

/** Opens a new window on the api page and connects it; returns its handle and connection. */
async function openTab(): Promise<{ handle: string; conn: Opened }> {
  const { handle } = await browser.createWindow('tab')
  await browser.switchToWindow(handle)
  await browser.url(`${baseUrl}/${PAGE}`)
  const conn = (await browser.execute(() => window.api.open())) as Opened | { error: unknown }
  if ('error' in conn) throw new Error(`open failed: ${JSON.stringify(conn.error)}`)
  return { handle, conn }
}

/** Runs `fn` in window `handle` (WebDriver drives one window at a time). */
async function inTab<T>(handle: string, fn: () => Promise<T>): Promise<T> {
  await browser.switchToWindow(handle)
  return fn()
}

const seen = (handle: string, key: string) => inTab(handle, () => browser.execute((k) => window.api.seen(k), key) as Promise<Seen[]>)

/** Polls window `handle` until `key` has seen at least `n` messages. */
async function waitSeen(handle: string, key: string, n: number): Promise<Seen[]> {
  await expect.poll(async () => (await seen(handle, key)).length, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(n)
  return seen(handle, key)
}

async function closeTab(handle: string): Promise<void> {
  await browser.switchToWindow(handle)
  await browser.closeWindow()
  await browser.switchToWindow(keeper)
}

/** The broker's SharedWorker holds its Web Lock for life: held locks named '…:broker', seen from the keeper. */
const brokerLocks = () =>
  inTab(keeper, () => browser.execute(async () => (await navigator.locks.query()).held?.filter((l) => l.name?.endsWith(':broker')).length ?? 0))

describe('multi-tab essentials in WebKitGTK', () => {
  it('two windows share one broker and split a work queue; every message is done once', async () => {
    const a = await openTab()
    const b = await openTab()
    expect(b.conn.brokerId).toBe(a.conn.brokerId)
    for (const tab of [a, b]) {
      await inTab(tab.handle, () => browser.execute((id) => window.api.work(id, 'wk-jobs', 'done', { prefetch: 1, delay: 5 }), tab.conn.id))
    }
    const published = await inTab(a.handle, () => browser.execute((id) => window.api.publishMany(id, 'wk-jobs', 40), a.conn.id))
    expect(published.outcomes).toEqual({ confirmed: 40 })
    await expect
      .poll(async () => (await seen(a.handle, 'done')).length + (await seen(b.handle, 'done')).length, { timeout: 15_000, interval: 100 })
      .toBe(40)
    const [inA, inB] = [await seen(a.handle, 'done'), await seen(b.handle, 'done')]
    // Round-robin over two consumers with prefetch 1: both windows take part.
    expect(inA.length).toBeGreaterThan(0)
    expect(inB.length).toBeGreaterThan(0)
    expect([...inA, ...inB].map((m) => m.body).sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 40 }, (_, i) => i))
    await closeTab(a.handle)
    await closeTab(b.handle)
  })

  it('a window closed while holding unacked messages: they are redelivered to the other window', async () => {
    const survivor = await openTab()
    const closing = await openTab()
    await inTab(closing.handle, () => browser.execute((id) => window.api.work(id, 'wk-held', 'held', { prefetch: 5, hold: true }), closing.conn.id))
    const published = await inTab(survivor.handle, () => browser.execute((id) => window.api.publishMany(id, 'wk-held', 5), survivor.conn.id))
    expect(published.outcomes).toEqual({ confirmed: 5 })
    await waitSeen(closing.handle, 'held', 5)
    await closeTab(closing.handle)

    await inTab(survivor.handle, () => browser.execute((id) => window.api.work(id, 'wk-held', 'rescued', { prefetch: 10 }), survivor.conn.id))
    const rescued = await waitSeen(survivor.handle, 'rescued', 5)
    expect(rescued.map((m) => m.body).sort()).toEqual([0, 1, 2, 3, 4])
    expect(rescued.every((m) => m.redelivered)).toBe(true)
    await closeTab(survivor.handle)
  })

  it('persistent messages in a durable queue survive the broker: every client window closes, a new one recovers them from IndexedDB', async () => {
    const first = await openTab()
    const published = await inTab(first.handle, () => browser.execute((id) => window.api.publishMany(id, 'wk-durable', 200), first.conn.id))
    expect(published.outcomes).toEqual({ confirmed: 200 })
    await closeTab(first.handle)
    // The SharedWorker ends with its last client; its lock goes with it.
    await expect.poll(brokerLocks, { timeout: 15_000, interval: 100 }).toBe(0)

    const second = await openTab()
    expect(second.conn.epoch).toBeGreaterThan(first.conn.epoch)
    expect(await inTab(second.handle, () => browser.execute((id) => window.api.counts(id, 'wk-durable'), second.conn.id))).toEqual({ messageCount: 200, consumerCount: 0 })
    await inTab(second.handle, () => browser.execute((id) => window.api.work(id, 'wk-durable', 'recovered', { prefetch: 50 }), second.conn.id))
    const recovered = await waitSeen(second.handle, 'recovered', 200)
    expect(recovered.map((m) => m.body)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    await closeTab(second.handle)
  })

  it('persistent messages in a durable queue survive a browser restart on the same profile', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'warren-webkit-profile-'))
    // A driver of its own: WebKitWebDriver serves one session at a time, and MiniBrowser's is open.
    const own = await startWebKitDriver()
    const session = () => remote({ hostname: own.hostname, port: own.port, logLevel: 'silent', capabilities: persistentBrowserCapabilities(profile) })
    const open = async (b: WebdriverIO.Browser) => {
      await b.url(`${baseUrl}/${PAGE}`)
      const conn = (await b.execute(() => window.api.open())) as Opened | { error: unknown }
      if ('error' in conn) throw new Error(`open failed: ${JSON.stringify(conn.error)}`)
      return conn
    }
    try {
      const before = await session()
      const first = await open(before)
      expect((await before.execute((id) => window.api.publishMany(id, 'wk-restart', 100), first.id)).outcomes).toEqual({ confirmed: 100 })
      // Ending the session ends the browser: the broker's memory is gone, its IndexedDB stays.
      await before.deleteSession()

      const after = await session()
      const second = await open(after)
      expect(second.epoch).toBeGreaterThan(first.epoch)
      expect(await after.execute((id) => window.api.counts(id, 'wk-restart'), second.id)).toEqual({ messageCount: 100, consumerCount: 0 })
      await after.execute((id) => window.api.work(id, 'wk-restart', 'recovered', { prefetch: 50 }), second.id)
      await expect.poll(async () => (await after.execute(() => window.api.seen('recovered'))).length, { timeout: 15_000, interval: 100 }).toBe(100)
      const recovered = (await after.execute(() => window.api.seen('recovered'))) as Seen[]
      expect(recovered.map((m) => m.body)).toEqual(Array.from({ length: 100 }, (_, i) => i))
      await after.deleteSession()
    } finally {
      await own.stop()
      await rm(profile, { recursive: true, force: true })
    }
    // Two browser launches, each a GTK and WebKit cold start: 10-25 s apiece on a loaded machine.
  }, 120_000)
})
