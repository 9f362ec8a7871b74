// The browser offline mid-shovel (issue #13, item 6). What was found: Playwright's
// `context.setOffline(true)` (Chromium's network emulation, applied to the pages' targets)
// does not reach a SharedWorker: its open WebSocket keeps carrying the shovel, and it even
// opens new ones. The first test pins that finding (it fails the day the emulation reaches
// workers, and this file should then cut through it). The second cuts the network the nearest
// real way: RabbitMQ closes every connection and refuses new ones (listeners suspended) while
// the outbox keeps filling; then the listeners come back and the outbox drains: lost 0, the
// copies RabbitMQ may already have had flagged as redelivered.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness } from '../e2e/harness.js'
import { queueInfo, rabbit, sink, takeMessages, until, type FetchedMessage } from './rabbitmq.js'
import { remoteHarness, remoteWhere } from './setup.js'

let harness: Harness
let page: Page

beforeAll(async () => {
  harness = await remoteHarness()
  page = await harness.openPage('index.html')
})
afterAll(async () => {
  await harness?.context.setOffline(false)
  await harness?.close()
})

/** Every id exactly once (lost 0), and any further copy flagged as a resend. */
function expectEveryIdOnceOrFlagged(got: FetchedMessage[], count: number): void {
  const ids = new Set(got.map((m) => m.properties.message_id))
  expect(ids.size).toBe(count)
  const seen = new Set<unknown>()
  for (const m of got) {
    if (seen.has(m.properties.message_id)) expect(m.properties.headers?.['x-warren-redelivered']).toBe('true')
    seen.add(m.properties.message_id)
  }
}

describe('the browser offline mid-shovel', () => {
  it("Chromium's offline emulation (context.setOffline) does not reach the SharedWorker's socket: the shovel goes on", async () => {
    const vhost = 'outbox-emulated'
    await sink('sink-emulated', 'from.outbox-emulated')
    await page.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    const publishing = page.evaluate((v) => window.r.publish(v, 'outbox', 0, 1000, { messageIds: true }), vhost)
    await until(async () => (await queueInfo('sink-emulated')).messages > 0, 'the stream to start')
    await harness.context.setOffline(true)
    try {
      await publishing
      await page.evaluate((v) => window.r.publish(v, 'outbox', 1000, 100, { messageIds: true }), vhost)
      // Published and delivered to RabbitMQ while the pages are "offline".
      await until(async () => (await queueInfo('sink-emulated')).messages >= 1100, 'all 1,100 at RabbitMQ while emulated offline')
      // Even a new socket: RabbitMQ drops the connection, the worker opens another one.
      const before = await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote open')
      await rabbit.ctl('close_all_connections', 'cut by the test')
      await remoteWhere(page, vhost, (r) => r.state === 'open' && r.attempts > before.attempts, 'the worker to reconnect while emulated offline')
    } finally {
      await harness.context.setOffline(false)
    }
    expectEveryIdOnceOrFlagged(await takeMessages('sink-emulated'), 1100)
  })

  it('the nearest real cut: the socket closed and reconnects refused mid-shovel; the outbox fills, then drains (lost 0, copies flagged)', async () => {
    const vhost = 'outbox-cutoff'
    await sink('sink-cutoff', 'from.outbox-cutoff')
    await page.evaluate((v) => window.r.open(v), vhost)
    const opened = await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    const publishing = page.evaluate((v) => window.r.publish(v, 'outbox', 0, 2000, { messageIds: true }), vhost)
    await until(async () => (await queueInfo('sink-cutoff')).messages > 0, 'the stream to start')
    await rabbit.ctl('suspend_listeners')
    try {
      await rabbit.ctl('close_all_connections', 'network cut by the test')
      // Reconnects refused: attempts go on, the remote never opens, publishing goes on locally.
      await remoteWhere(page, vhost, (r) => r.state !== 'open' && r.attempts >= opened.attempts + 2, 'reconnects to be refused')
      await publishing
      await page.evaluate((v) => window.r.publish(v, 'outbox', 2000, 300, { messageIds: true }), vhost)
      const waiting = await page.evaluate((v) => window.r.ready(v, 'outbox'), vhost)
      expect(waiting).toBeGreaterThanOrEqual(300)
      expect((await remoteWhere(page, vhost, () => true, 'the status')).state).not.toBe('open')
    } finally {
      await rabbit.ctl('resume_listeners')
    }
    await remoteWhere(page, vhost, (r) => r.state === 'open' && r.links[0]?.backlog === 0 && r.links[0]?.inFlight === 0, 'the outbox to drain', 60_000)
    expectEveryIdOnceOrFlagged(await takeMessages('sink-cutoff'), 2300)
  })
})
