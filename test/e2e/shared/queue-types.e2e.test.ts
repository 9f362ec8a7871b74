// Queue types over shared:// in real Chromium: a quorum queue declared through the public
// client API counts every return toward its delivery limit and dead-letters past it.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from '../harness.js'

const PAGE = 'shared/api.html'

let harness: Harness
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE] })
})
afterAll(async () => {
  await harness?.close()
})

async function open(page: Page, url: string): Promise<string> {
  const result = await page.evaluate((u) => window.api.open(u), url)
  if ('error' in result) throw new Error(`open failed: ${JSON.stringify(result.error)}`)
  return result.id
}

describe('queue types over shared://', () => {
  it('a quorum queue: x-delivery-count after the first delivery, every return counted, dead-lettered with reason delivery_limit; non-durable refused with 406', async () => {
    const page = await harness.openPage(PAGE)
    // A vhost of its own: the shared broker outlives a test run's earlier attempts.
    const id = await open(page, `shared:///quorum-${Math.random().toString(36).slice(2)}`)
    const result = await page.evaluate((conn) => window.api.quorumPoison(conn, 'jobs'), id)
    expect(result).toEqual({ deliveryCounts: [null, 1], left: 0, deadReason: 'delivery_limit', deadBody: 'poison', refused: 406 })
  })
})
