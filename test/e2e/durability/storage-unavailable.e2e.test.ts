// No silent downgrade, in Chromium: the origin's IndexedDB really refuses the SharedWorker
// broker (the vhost's database was left at a newer schema version, so indexedDB.open fails
// with VersionError). The broker still serves, tells the client its storage is 'unavailable',
// nacks persistent messages for durable queues with STORAGE_UNAVAILABLE and takes the rest; an
// app that chose storage: 'memory' gets confirms; an unblocked vhost is durable.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from '../harness.js'

const PAGE = 'storage/index.html'

let harness: Harness
let page: Page
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE] })
  page = await harness.openPage(PAGE)
})
afterAll(async () => {
  await harness?.close()
})

describe('a broker whose IndexedDB cannot be opened', () => {
  it('says unavailable and nacks persistent messages for durable queues; the rest works', async () => {
    await page.evaluate(() => window.s.block('blocked'))
    // The same open the broker makes really fails in this origin.
    expect(await page.evaluate(() => window.s.probe('blocked'))).toBe('VersionError')
    expect(await page.evaluate(() => window.s.open('blocked'))).toBe('unavailable')

    const nack = await page.evaluate(() => window.s.publish('orders', { durable: true, deliveryMode: 'persistent' }))
    expect(nack).toMatchObject({ outcome: 'nacked', name: 'StorageUnavailableError', code: 'STORAGE_UNAVAILABLE' })
    expect(await page.evaluate(() => window.s.count('orders'))).toBe(0)

    expect(await page.evaluate(() => window.s.publish('orders', { durable: true, deliveryMode: 'transient' }))).toEqual({ outcome: 'confirmed' })
    expect(await page.evaluate(() => window.s.publish('scratch', { durable: false, deliveryMode: 'persistent' }))).toEqual({ outcome: 'confirmed' })
    expect(await page.evaluate(() => window.s.count('orders'))).toBe(1)
    await page.evaluate(() => window.s.close())
  })

  it("confirms them when the app chose storage: 'memory'", async () => {
    await page.evaluate(() => window.s.block('chosen-memory'))
    expect(await page.evaluate(() => window.s.open('chosen-memory'))).toBe('memory')
    expect(await page.evaluate(() => window.s.publish('orders', { durable: true, deliveryMode: 'persistent' }))).toEqual({ outcome: 'confirmed' })
    await page.evaluate(() => window.s.close())
  })

  it('a vhost whose database opens is durable and confirms them', async () => {
    expect(await page.evaluate(() => window.s.open('fine'))).toBe('durable')
    expect(await page.evaluate(() => window.s.publish('orders', { durable: true, deliveryMode: 'persistent' }))).toEqual({ outcome: 'confirmed' })
    await page.evaluate(() => window.s.close())
  })
})
