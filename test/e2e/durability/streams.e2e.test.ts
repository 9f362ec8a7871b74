// Stream queues in real Chromium: the shared broker keeps a stream's log in IndexedDB, so it
// survives a browser restart, and a consumer replays it from an offset the app stored.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from '../harness.js'

const PAGE = 'durability/index.html'
const STREAM = { 'x-queue-type': 'stream' }

let harness: Harness
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE] })
})
afterAll(async () => {
  await harness?.close()
})

async function tab(): Promise<Page> {
  const page = await harness.openPage(PAGE)
  await page.evaluate(() => window.d.open())
  return page
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe('stream queues in Chromium (IndexedDB under the shared broker)', () => {
  it('a stream survives a browser restart and a consumer replays it from the offset the app stored', async () => {
    const queue = `events-${Date.now()}`
    const first = await tab()
    const published = await first.evaluate(([q, args]) => window.d.publishStream(q, 0, 3000, { inFlight: 200, args }), [queue, STREAM] as const)
    expect(published).toMatchObject({ confirmed: 3000, failed: 0 })
    // Reads the first 1000; the app keeps the offset of the last one it processed.
    const read = await first.evaluate((q) => window.d.readStream(q, 'first', 1000), queue)
    expect(read.bodies).toEqual(range(0, 1000))
    expect(read.offsets).toEqual(range(0, 1000))
    const stored = read.offsets.at(-1) as number
    await first.evaluate(() => window.d.close())
    await first.close()

    await harness.restartBrowser()
    const second = await tab()
    expect(await second.evaluate(([q, args]) => window.d.declare(q, args), [queue, STREAM] as const)).toBe(3000)
    const replay = await second.evaluate(([q, from]) => window.d.readStream(q as string, from as number, 2000), [queue, stored + 1] as const)
    expect(replay.bodies).toEqual(range(1000, 3000))
    expect(replay.offsets).toEqual(range(1000, 3000))
    console.log(`replayed 2,000 stream messages from a stored offset after a browser restart in ${Math.round(replay.ms)} ms`)
    // Nothing was removed by reading: the whole log is still there, and new appends go on after it.
    await second.evaluate(([q, args]) => window.d.publishStream(q, 3000, 3010, { inFlight: 10, args }), [queue, STREAM] as const)
    const all = await second.evaluate((q) => window.d.readStream(q, 'first', 3010), queue)
    expect(all.offsets).toEqual(range(0, 3010))
    await second.close()
  }, 180_000)
})
