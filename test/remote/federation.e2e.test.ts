// Federation against a real RabbitMQ: a remote queue, or an exchange through a named durable
// subscription queue, delivered into a local exchange and acked to RabbitMQ only after the
// local commit. Faults: the local side refusing, the SharedWorker killed mid-stream.
import type { CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCdp, type Harness } from '../e2e/harness.js'
import { declareQueue, deleteQueue, liveQueue, publishRemote, queueInfo, until } from './rabbitmq.js'
import { remoteHarness, remoteWhere } from './setup.js'

let harness: Harness
let page: Page

beforeAll(async () => {
  harness = await remoteHarness()
  page = await harness.openPage('index.html')
})
afterAll(async () => {
  await harness?.close()
})

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i))

async function publishMany(exchange: string, key: string, from: number, to: number) {
  for (let i = from; i < to; i++) await publishRemote(exchange, key, String(i), { message_id: `r-${i}`, headers: { seq: i }, content_type: 'text/plain' })
}

describe('federation: RabbitMQ → local exchange', () => {
  it('a remote queue into a local queue, in order, properties kept, acked at RabbitMQ only after the local commit', async () => {
    const vhost = 'fed-queue'
    await deleteQueue('fed-in')
    await declareQueue('fed-in')
    await publishMany('', 'fed-in', 0, 300)
    await page.evaluate((v) => window.r.open(v), vhost)
    await page.evaluate(async (v) => {
      await window.r.declareQueue(v, 'fed-local')
      await window.r.declareFederation(v, { name: 'in', remote: 'upstream', source: { queue: 'fed-in' }, exchange: '', routingKey: 'fed-local', prefetch: 20 })
    }, vhost)
    await until(async () => (await page.evaluate((v) => window.r.ready(v, 'fed-local'), vhost)) === 300, '300 local')
    await until(async () => (await queueInfo('fed-in')).messages === 0, 'RabbitMQ to have them acked')
    const got = await page.evaluate((v) => window.r.take(v, 'fed-local'), vhost)
    expect(got.map((m) => m.body)).toEqual(range(0, 300))
    expect(got[5]!.properties).toMatchObject({ messageId: 'r-5', deliveryMode: 2, contentType: 'text/plain', headers: { seq: '5' } })
    const remote = await remoteWhere(page, vhost, (r) => r.in === 300, 'the status to count 300 in')
    expect(remote.links[0]).toMatchObject({ name: 'in', kind: 'federation', state: 'running', moved: 300, source: '/amq/queue/fed-in' })
  })

  it('an exchange and binding key through a named durable queue that RabbitMQ keeps while the browser is away', async () => {
    const vhost = 'fed-exchange'
    await deleteQueue('warren-news')
    await page.evaluate((v) => window.r.open(v), vhost)
    await page.evaluate(async (v) => {
      await window.r.declareExchange(v, 'news', 'topic')
      await window.r.declareQueue(v, 'news-local')
      await window.r.bindQueue(v, 'news', 'news-local', '#')
      await window.r.declareFederation(v, { name: 'news', remote: 'upstream', source: { exchange: 'amq.topic', bindingKey: 'news.#', queueName: 'warren-news' }, exchange: 'news' })
    }, vhost)
    await until(async () => (await queueInfo('warren-news')).consumers === 1, 'the subscription queue at RabbitMQ')
    await publishMany('amq.topic', 'news.sport', 0, 50)
    await publishRemote('amq.topic', 'weather.today', 'not for us')
    await until(async () => (await page.evaluate((v) => window.r.ready(v, 'news-local'), vhost)) === 50, '50 local')
    const got = await page.evaluate((v) => window.r.take(v, 'news-local'), vhost)
    expect(got.map((m) => m.body)).toEqual(range(0, 50))
    expect(got[0]!.routingKey).toBe('news.sport')
  })

  it('a local exchange that refuses fails the link; RabbitMQ keeps every message', async () => {
    const vhost = 'fed-refused'
    await deleteQueue('fed-refused-in')
    await declareQueue('fed-refused-in')
    await publishMany('', 'fed-refused-in', 0, 30)
    await page.evaluate((v) => window.r.open(v), vhost)
    await page.evaluate((v) => window.r.declareFederation(v, { name: 'in', remote: 'upstream', source: { queue: 'fed-refused-in' }, exchange: 'no-such-local-exchange', prefetch: 5 }), vhost)
    const remote = await remoteWhere(page, vhost, (r) => r.links[0]?.state === 'failed', 'the link to fail')
    expect(remote.links[0]!.lastError?.code).toBe('NOT_FOUND')
    expect((await liveQueue('fed-refused-in'))?.messages).toBe(30)
  })
})

describe('faults', () => {
  async function sharedWorkers(session: CDPSession) {
    const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; url: string }> }
    return targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(harness.baseUrl))
  }

  // Chromium only: killing a SharedWorker under its clients needs CDP (Target.closeTarget).
  it.runIf(hasCdp)('the SharedWorker killed mid-federation: lost 0, redeliveries deduplicated by message id', async () => {
    const vhost = 'fed-kill'
    await deleteQueue('fed-kill-in')
    await declareQueue('fed-kill-in')
    await publishMany('', 'fed-kill-in', 0, 400)
    const tab = await harness.openPage('index.html')
    await tab.evaluate((v) => window.r.open(v), vhost)
    await tab.evaluate(async (v) => {
      await window.r.declareQueue(v, 'fed-kill-local')
      await window.r.declareFederation(v, { name: 'in', remote: 'upstream', source: { queue: 'fed-kill-in' }, exchange: '', routingKey: 'fed-kill-local', prefetch: 50 })
    }, vhost)
    await until(async () => (await tab.evaluate((v) => window.r.ready(v, 'fed-kill-local'), vhost)) > 0, 'the stream to start')
    const probe = await harness.context.newPage()
    await probe.goto('data:text/html,probe')
    const session = await harness.cdp(probe)
    // Every broker worker of the origin goes (the other tab's reconnect to theirs; none serves fed-kill).
    const workers = await sharedWorkers(session)
    for (const worker of workers) await session.send('Target.closeTarget', { targetId: worker.targetId })
    await tab.close()
    await until(async () => (await queueInfo('fed-kill-in')).consumers === 0, 'RabbitMQ to see the socket go')

    // A new worker: links declared over the management API are not kept, so declare again.
    const next = await harness.openPage('index.html')
    await next.evaluate((v) => window.r.open(v), vhost)
    await next.evaluate((v) => window.r.declareFederation(v, { name: 'in', remote: 'upstream', source: { queue: 'fed-kill-in' }, exchange: '', routingKey: 'fed-kill-local', prefetch: 50 }), vhost)
    await until(async () => (await queueInfo('fed-kill-in')).messages === 0, 'RabbitMQ to have all acked', 60_000)
    const got = await next.evaluate((v) => window.r.take(v, 'fed-kill-local'), vhost)
    const bodies = got.map((m) => m.body)
    expect(new Set(bodies).size).toBe(400) // lost 0
    const copies = bodies.length - 400
    const flagged = got.filter((m) => m.redelivered).length
    // Any copy a redelivery brought past the dedup window is flagged redelivered.
    expect(flagged).toBeGreaterThanOrEqual(copies)
    await probe.close()
    await next.close()
  })
})
