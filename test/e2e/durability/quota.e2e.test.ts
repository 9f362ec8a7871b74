// A real QuotaExceededError: Chromium gives the origin a tiny quota through CDP
// (Storage.overrideQuotaForOrigin), Firefox gets a tiny temporary-storage limit through a pref
// read at launch; publishes whose write does not fit are nacked, the broker keeps serving,
// writes succeed again once there is room, and no confirmed message is lost.
import type { CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine, hasCdp, startHarness, type Harness } from '../harness.js'

const PAGE = 'durability/index.html'

/**
 * Firefox's whole temporary storage limited to 1 MiB (the pref is in KiB and read once, when
 * the quota manager starts; an origin's group limit is at most the whole limit). -1 is the
 * default: a share of the free disk space.
 */
const FIREFOX_LIMIT = { 'dom.quotaManager.temporaryStorage.fixedLimit': 1024 }
const FIREFOX_ROOM = { 'dom.quotaManager.temporaryStorage.fixedLimit': -1 }

let harness: Harness
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE], firefoxPrefs: engine === 'firefox' ? FIREFOX_LIMIT : undefined })
})
afterAll(async () => {
  await harness?.close()
})

async function probe(): Promise<{ session: CDPSession; page: Page }> {
  const page = await harness.context.newPage()
  await page.goto('data:text/html,probe') // not about:blank: the harness reuses blank tabs
  return { session: await harness.cdp(page), page }
}

/** Fills the queue 'quota' with 500 messages of 8 KiB (4 MiB): far more than fits. */
async function overfill(page: Page, quota: string) {
  const filled = await page.evaluate(() => window.d.publishStream('quota', 0, 500, { inFlight: 10, pad: 8192 }))
  const failures = await page.evaluate(() => window.d.failures())
  const codes = [...new Set(failures.map((f) => f.code))]
  console.log(`${engine}, ${quota}: ${filled.confirmed} confirmed, ${filled.failed} nacked (${codes.join(', ')}): ${failures[0]?.message ?? ''}`)
  expect(filled.confirmed).toBeGreaterThan(0)
  expect(filled.failed).toBeGreaterThan(0)
  expect(codes).toEqual(['NACK'])
  expect(failures[0]!.message).toMatch(/quota/i)
  // Still serving.
  expect(await page.evaluate(() => window.d.declare('quota'))).toBeGreaterThanOrEqual(filled.confirmed)
  return filled
}

const byNumber = (bodies: unknown[]) => [...bodies].sort((a, b) => (a as number) - (b as number))

// Firefox has no CDP: its limit is a pref read at launch, so the room comes with a restart.
describe.runIf(engine === 'firefox')('storage quota in Firefox', () => {
  it('publishes over a 1 MiB storage limit are nacked with a quota error; the broker keeps serving; after a restart with room, exactly the confirmed messages are there and writes succeed', async () => {
    const page = await harness.openPage(PAGE)
    await page.evaluate(() => window.d.open())
    const filled = await overfill(page, 'temporary storage limited to 1 MiB by pref')
    const confirmed = await page.evaluate(() => window.d.confirmedBodies())
    expect(confirmed.length).toBe(filled.confirmed)

    await harness.restartBrowser({ firefoxPrefs: FIREFOX_ROOM })
    const next = await harness.openPage(PAGE)
    await next.evaluate(() => window.d.open())
    const after = await next.evaluate(() => window.d.publishStream('quota', 1000, 1100, { inFlight: 10, pad: 100 }))
    expect(after).toMatchObject({ confirmed: 100, failed: 0 })
    const count = await next.evaluate(() => window.d.declare('quota'))
    const seen = await next.evaluate((n) => window.d.consumeAll('quota', { expected: n, ack: true }), count)
    expect(byNumber(seen.map((m) => m.body))).toEqual(byNumber([...confirmed, ...Array.from({ length: 100 }, (_, i) => 1000 + i)]))
    await next.close()
  }, 120_000)
})

// Chromium: the quota comes from CDP.
describe.runIf(hasCdp)('storage quota in Chromium', () => {
  it('publishes over a tiny quota are nacked with a quota error; the broker keeps serving and loses no confirmed message', async () => {
    const page = await harness.openPage(PAGE)
    const { session, page: blank } = await probe()
    // Chromium applies an override to a database opened after it (not to one already open).
    const quota = 1_000_000
    await session.send('Storage.overrideQuotaForOrigin', { origin: harness.baseUrl, quotaSize: quota })
    await page.evaluate(() => window.d.open())

    // 8 KiB messages, 500 of them (4 MiB): far more than fits.
    const filled = await page.evaluate(() => window.d.publishStream('quota', 0, 500, { inFlight: 10, pad: 8192 }))
    const failures = await page.evaluate(() => window.d.failures())
    const codes = [...new Set(failures.map((f) => f.code))]
    console.log(`quota ${quota} B: ${filled.confirmed} confirmed, ${filled.failed} nacked (${codes.join(', ')}): ${failures[0]?.message ?? ''}`)
    expect(filled.confirmed).toBeGreaterThan(0)
    expect(filled.failed).toBeGreaterThan(0)
    expect(codes).toEqual(['NACK'])
    expect(failures[0]!.message).toMatch(/quota/i)

    // Still serving; with room again (the storage reopens its database), writes succeed.
    expect(await page.evaluate(() => window.d.declare('quota'))).toBeGreaterThanOrEqual(filled.confirmed)
    await session.send('Storage.overrideQuotaForOrigin', { origin: harness.baseUrl })
    const after = await page.evaluate(() => window.d.publishStream('quota', 1000, 1100, { inFlight: 10, pad: 100 }))
    expect(after.failed).toBe(filled.failed) // no new failures
    const confirmed = await page.evaluate(() => window.d.confirmedBodies())
    expect(confirmed.length).toBe(filled.confirmed + 100)

    // After a restart of the broker, exactly the confirmed messages are there.
    await page.close()
    for (let i = 0; i < 300; i++) {
      const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ type: string; url: string }> }
      if (!targetInfos.some((t) => t.type === 'shared_worker' && t.url.startsWith(harness.baseUrl))) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const next = await harness.openPage(PAGE)
    await next.evaluate(() => window.d.open())
    const count = await next.evaluate(() => window.d.declare('quota'))
    const seen = await next.evaluate((n) => window.d.consumeAll('quota', { expected: n, ack: true }), count)
    expect(seen.map((m) => m.body).sort((a, b) => (a as number) - (b as number))).toEqual(
      [...confirmed].sort((a, b) => (a as number) - (b as number)),
    )
    await next.close()
    await blank.close()
  }, 120_000)
})
