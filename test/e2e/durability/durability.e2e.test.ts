// Durable messaging in real browsers: the shared broker on IndexedDB keeps confirmed
// persistent messages across closing every tab (the SharedWorker ends), a browser restart
// and a killed SharedWorker; transient ones go; unacked ones come back redelivered.
import type { CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCdp, startHarness, type Harness } from '../harness.js'

const PAGE = 'durability/index.html'

let harness: Harness
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE] })
})
afterAll(async () => {
  await harness?.close()
})

type Seen = { body: unknown; redelivered: boolean }

async function tab(): Promise<{ page: Page; epoch: number }> {
  const page = await harness.openPage(PAGE)
  const { epoch } = await page.evaluate(() => window.d.open())
  return { page, epoch }
}

/** A CDP session on a blank tab (which keeps no worker alive), for Target.* and Storage.* calls. */
async function probe(): Promise<{ session: CDPSession; page: Page }> {
  const page = await harness.context.newPage()
  // Not about:blank: the harness reuses blank tabs for openPage().
  await page.goto('data:text/html,probe')
  return { session: await harness.cdp(page), page }
}

/**
 * Without CDP: a page of the origin that is no client (the server's 404) watches the broker's
 * Web Lock, which the SharedWorker holds for its whole life and the browser releases when the
 * worker ends. Returns a `workerGone` for it.
 */
async function lockProbe(): Promise<{ workerGone: () => Promise<number>; page: Page }> {
  const page = await harness.context.newPage()
  await page.goto(harness.url('not-a-client'))
  const brokerLocks = () => page.evaluate(async () => (await navigator.locks.query()).held?.filter((l) => l.name?.endsWith(':broker')).length ?? 0)
  const workerGone = async (timeout = 15_000) => {
    const started = Date.now()
    while ((await brokerLocks()) > 0) {
      if (Date.now() - started > timeout) throw new Error('the SharedWorker did not end')
      await new Promise((r) => setTimeout(r, 50))
    }
    return Date.now() - started
  }
  return { workerGone, page }
}

/** How this engine sees the SharedWorker end: CDP targets in Chromium, the broker's lock elsewhere. */
async function endWatcher(): Promise<{ workerGone: () => Promise<number>; page: Page }> {
  if (!hasCdp) return lockProbe()
  const { session, page } = await probe()
  return { workerGone: () => workerGone(session), page }
}

async function sharedWorkers(session: CDPSession) {
  const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; url: string }> }
  return targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(harness.baseUrl))
}

/** Waits until the origin's SharedWorker is gone (it ends with its last tab). */
async function workerGone(session: CDPSession, timeout = 15_000): Promise<number> {
  const started = Date.now()
  while ((await sharedWorkers(session)).length > 0) {
    if (Date.now() - started > timeout) throw new Error('the SharedWorker did not end')
    await new Promise((r) => setTimeout(r, 50))
  }
  return Date.now() - started
}

async function killWorker(session: CDPSession): Promise<void> {
  const targets = await sharedWorkers(session)
  expect(targets).toHaveLength(1)
  await session.send('Target.closeTarget', { targetId: targets[0]!.targetId })
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** Copies per body, and copies not flagged redelivered per body. */
function tally(seen: Seen[]) {
  const copies = new Map<unknown, number>()
  const fresh = new Map<unknown, number>()
  for (const { body, redelivered } of seen) {
    copies.set(body, (copies.get(body) ?? 0) + 1)
    if (!redelivered) fresh.set(body, (fresh.get(body) ?? 0) + 1)
  }
  return { copies, fresh }
}

describe('durability (IndexedDB under the shared broker)', () => {
  it('10,000 confirmed persistent messages survive closing every tab and a browser restart, in order; transient ones do not', async () => {
    const first = await tab()
    // 10,100 messages, every 101st transient: 10,000 persistent ones.
    const result = await first.page.evaluate(() => window.d.publishStream('durable-10k', 0, 10_100, { inFlight: 100, transientEvery: 101 }))
    expect(result).toMatchObject({ confirmed: 10_100, failed: 0 })
    console.log(`10,100 publishes (100 transient) with 100 in flight, all confirmed in ${Math.round(result.ms)} ms`)
    const persistent = range(0, 10_100).filter((n) => n % 101 !== 0)

    const watcher = await endWatcher()
    await first.page.close()
    const goneMs = await watcher.workerGone()
    console.log(`the SharedWorker ended ${goneMs} ms after its last tab closed`)

    // A new tab starts a new broker: it recovers everything persistent, in order.
    const second = await tab()
    expect(second.epoch).toBeGreaterThan(first.epoch)
    expect(await second.page.evaluate(() => window.d.declare('durable-10k'))).toBe(10_000)
    const seen = await second.page.evaluate(() => window.d.consumeAll('durable-10k', { expected: 10_000, ack: false }))
    expect(seen.map((m) => m.body)).toEqual(persistent)
    expect(seen.every((m) => m.redelivered)).toBe(true)
    // Held unacked, then the tab closes: they stay stored.
    await second.page.close()
    await watcher.workerGone()
    await watcher.page.close()

    // A cold start on the same profile.
    await harness.restartBrowser()
    const third = await tab()
    expect(third.epoch).toBeGreaterThan(second.epoch)
    const again = await third.page.evaluate(() => window.d.consumeAll('durable-10k', { expected: 10_000, ack: true }))
    expect(again.map((m) => m.body)).toEqual(persistent)
    expect(again.every((m) => m.redelivered)).toBe(true)
    expect(await third.page.evaluate(() => window.d.declare('durable-10k'))).toBe(0)
    await third.page.close()
  }, 180_000)

  for (const retry of [false, true]) {
    // Chromium only: killing a SharedWorker that still has clients needs CDP (Target.closeTarget).
    it.runIf(hasCdp)(`a SharedWorker killed during a confirmed publish stream loses no confirmed message (producer retry ${retry ? 'on' : 'off'})`, async () => {
      const queue = `kill-stream-${retry}`
      const { page } = await tab()
      const stream = page.evaluate(
        ([q, r]) => window.d.publishStream(q as string, 0, 6000, { inFlight: 200, retry: r as boolean }),
        [queue, retry] as const,
      )
      await page.waitForFunction(() => window.d.confirmed() >= 1500, undefined, { timeout: 30_000 })
      const { session, page: blank } = await probe()
      await killWorker(session)
      const result = await stream
      const confirmed = await page.evaluate(() => window.d.confirmedBodies())
      const failures = await page.evaluate(() => window.d.failures())
      if (retry) expect(result.failed).toBe(0)
      // Wait for the client to be back on a new broker, then read the whole queue.
      await page.waitForFunction(() => window.d.declare !== undefined)
      const count = await page.evaluate((q) => window.d.declare(q), queue)
      const seen = await page.evaluate(([q, n]) => window.d.consumeAll(q as string, { expected: n as number, ack: true }), [queue, count] as const)
      const { copies, fresh } = tally(seen)
      const lost = confirmed.filter((body) => !copies.has(body))
      const twiceUnflagged = [...fresh.entries()].filter(([, n]) => n > 1)
      const duplicates = [...copies.values()].filter((n) => n > 1).length
      console.log(
        `kill during 6000 publishes (retry ${retry ? 'on' : 'off'}): confirmed ${confirmed.length}, failed ${failures.length} ` +
          `(${[...new Set(failures.map((f) => f.code))].join(', ') || 'none'}), stored after restart ${seen.length}, ` +
          `lost ${lost.length}, bodies stored twice ${duplicates} (each with a redelivered copy), twice unflagged ${twiceUnflagged.length}`,
      )
      expect(lost).toEqual([])
      expect(twiceUnflagged).toEqual([])
      expect(failures.length + confirmed.length).toBe(6000)
      await page.close()
      await workerGone(session)
      await blank.close()
    }, 120_000)
  }

  // Chromium only: the crash is a SharedWorker killed under its clients, through CDP.
  it.runIf(hasCdp)('unacked messages at the time of a crash come back with redelivered: true', async () => {
    const { page } = await tab()
    await page.evaluate(() => window.d.publishStream('crash-unacked', 0, 50, { inFlight: 50 }))
    const held = await page.evaluate(() => window.d.consumeAll('crash-unacked', { expected: 50, ack: false }))
    expect(held.map((m) => m.redelivered)).toEqual(Array(50).fill(false))
    const { session, page: blank } = await probe()
    await killWorker(session)
    await page.close()
    await workerGone(session)
    const next = await tab()
    const back = await next.page.evaluate(() => window.d.consumeAll('crash-unacked', { expected: 50, ack: true }))
    expect(back.map((m) => m.body)).toEqual(range(0, 50))
    expect(back.every((m) => m.redelivered)).toBe(true)
    await next.page.close()
    await workerGone(session)
    await blank.close()
  }, 60_000)

  it('the connection reads estimate() and asks for persist() from a tab', async () => {
    const { page } = await tab()
    const estimate = await page.evaluate(() => window.d.storage.estimate())
    expect(estimate.quota).toBeGreaterThan(0)
    expect(estimate.usage).toBeGreaterThanOrEqual(0)
    const persisted = await page.evaluate(() => window.d.storage.persist())
    expect(persisted).toHaveProperty('ok')
    console.log(`storage: usage ${estimate.usage} B of quota ${estimate.quota} B; persist() → ${JSON.stringify(persisted)}`)
    await page.close()
  })
})
