// Shovels against a real RabbitMQ: a local durable queue forwarded to a remote exchange,
// confirm-then-ack, the queue being the offline outbox. Faults: RabbitMQ stopped and started
// mid-stream, the socket closed by RabbitMQ, a destination RabbitMQ refuses, wrong credentials,
// bodies that cannot travel.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCdp, type Harness } from '../e2e/harness.js'
import { queueInfo, rabbit, sink, takeMessages, until } from './rabbitmq.js'
import { PASSCODE, remoteHarness, remoteWhere } from './setup.js'

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

describe('shovel: local queue → RabbitMQ', () => {
  it('forwards in order with headers, persistence and message ids; status shows it; no credential crosses', async () => {
    const vhost = 'outbox-basic'
    await sink('sink-basic', 'from.outbox-basic')
    await page.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    await page.evaluate((v) => window.r.publish(v, 'outbox', 0, 200, { messageIds: true }), vhost)

    await until(async () => (await queueInfo('sink-basic')).messages === 200, 'RabbitMQ to hold 200')
    const got = await takeMessages('sink-basic')
    expect(got.map((m) => m.payload)).toEqual(range(0, 200))
    expect(got[7]!.routing_key).toBe('from.outbox-basic')
    expect(got[7]!.properties.delivery_mode).toBe(2)
    expect(got[7]!.properties.message_id).toBe('m-7')
    expect(got[7]!.properties.headers).toMatchObject({ seq: '7', kind: 'test' })
    expect(got[7]!.properties.content_type).toBe('text/plain')

    // The outbox is empty once RabbitMQ confirmed everything.
    const remote = await remoteWhere(page, vhost, (r) => r.out === 200 && r.links[0]?.backlog === 0, 'the status to count 200 out')
    expect(remote.links[0]).toMatchObject({ name: 'outbox', kind: 'shovel', state: 'running', moved: 200, inFlight: 0 })
    expect(remote.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/)
    expect(await page.evaluate((v) => window.r.ready(v, 'outbox'), vhost)).toBe(0)
    expect(await page.evaluate(() => window.r.notices())).not.toContain(PASSCODE)
    const overview = await page.evaluate((v) => window.r.overviewRemotes(v), vhost)
    expect(overview?.[0]?.links[0]?.moved).toBe(200)

    // The console shows the remote and its link.
    await page.evaluate((v) => window.r.console(v), vhost)
    const table = page.locator(`#console-${vhost} [data-testid=remotes]`)
    await table.locator('tr[data-remote=upstream][data-state=open]').waitFor()
    await table.locator('tr[data-link=outbox][data-state=running] td[data-backlog="0"]').waitFor()
    expect(await table.locator('tr[data-link=outbox]').textContent()).toContain('200')
  })

  it('offline outbox: messages published while RabbitMQ is down wait locally and drain in order when it is back (lost 0)', async () => {
    const vhost = 'outbox-restart'
    await sink('sink-restart', 'from.outbox-restart')
    await page.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    await page.evaluate((v) => window.r.publish(v, 'outbox', 0, 100), vhost)
    await until(async () => (await queueInfo('sink-restart')).messages === 100, 'the first 100 at RabbitMQ')

    await rabbit.stopApp()
    try {
      await remoteWhere(page, vhost, (r) => r.state === 'offline' || r.state === 'connecting', 'the remote to go offline')
      // Confirmed by the local broker (IndexedDB) while RabbitMQ is away.
      await page.evaluate((v) => window.r.publish(v, 'outbox', 100, 300), vhost)
      expect(await page.evaluate((v) => window.r.ready(v, 'outbox'), vhost)).toBe(300)
    } finally {
      await rabbit.startApp()
    }
    await until(async () => (await queueInfo('sink-restart')).messages === 400, 'RabbitMQ to hold all 400', 60_000)
    const got = (await takeMessages('sink-restart')).map((m) => m.payload)
    expect(got).toEqual(range(0, 400))
    await remoteWhere(page, vhost, (r) => r.state === 'open' && r.links[0]?.backlog === 0, 'the outbox to drain')
  })

  it('mid-stream socket loss (RabbitMQ closes the connection): lost 0, resends flagged redelivered', async () => {
    const vhost = 'outbox-cut'
    await sink('sink-cut', 'from.outbox-cut')
    await page.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    const publishing = page.evaluate((v) => window.r.publish(v, 'outbox', 0, 2000, { messageIds: true }), vhost)
    await until(async () => (await queueInfo('sink-cut')).messages > 0, 'the stream to start')
    await rabbit.ctl('close_all_connections', 'cut by the test')
    await publishing
    await remoteWhere(page, vhost, (r) => r.state === 'open' && r.links[0]?.backlog === 0 && r.links[0]?.inFlight === 0, 'the outbox to drain after the cut', 60_000)
    const got = await takeMessages('sink-cut')
    const ids = new Set(got.map((m) => m.properties.message_id))
    expect(ids.size).toBe(2000) // lost 0
    // Copies beyond the first only as resends of a window RabbitMQ may have had, and flagged.
    const seen = new Set<unknown>()
    for (const m of got) {
      if (seen.has(m.properties.message_id)) expect(m.properties.headers?.['x-warren-redelivered']).toBe('true')
      seen.add(m.properties.message_id)
    }
  })

  // Chromium only: killing a SharedWorker under its clients needs CDP (Target.closeTarget).
  it.runIf(hasCdp)('the SharedWorker killed mid-shovel: the next worker drains the outbox, lost 0, resends flagged', async () => {
    const vhost = 'outbox-kill'
    await sink('sink-kill', 'from.outbox-kill')
    const tab = await harness.openPage('index.html')
    await tab.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(tab, vhost, (r) => r.state === 'open', 'the remote to open')
    // Queued while the link is busy: confirmed locally first, then shovelled.
    await tab.evaluate((v) => window.r.publish(v, 'outbox', 0, 1500, { messageIds: true }), vhost)
    await until(async () => (await queueInfo('sink-kill')).messages > 0, 'the stream to start')
    const probe = await harness.context.newPage()
    await probe.goto('data:text/html,probe')
    const session = await harness.cdp(probe)
    const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; url: string }> }
    // Every broker worker of the origin (the other tab reconnects to its own; none serves outbox-kill).
    for (const t of targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(harness.baseUrl)))
      await session.send('Target.closeTarget', { targetId: t.targetId })
    await tab.close()
    // The killed worker's broker lock is free once it is gone: only then can the next start.
    const origin = await harness.context.newPage()
    await origin.goto(harness.url('not-a-client'))
    await until(async () => !(await origin.evaluate(async () => (await navigator.locks.query()).held?.some((l) => l.name === 'warren:outbox-kill:broker'))), 'the killed worker to let go of its lock')
    await origin.close()

    const next = await harness.openPage('index.html')
    await next.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(next, vhost, (r) => r.state === 'open' && r.links[0]?.backlog === 0 && r.links[0]?.inFlight === 0, 'the next worker to drain the outbox', 60_000)
    const got = await takeMessages('sink-kill')
    const ids = got.map((m) => m.properties.message_id)
    expect(new Set(ids).size).toBe(1500) // lost 0
    const seen = new Set<unknown>()
    for (const m of got) {
      if (seen.has(m.properties.message_id)) expect(m.properties.headers?.['x-warren-redelivered']).toBe('true')
      seen.add(m.properties.message_id)
    }
    await probe.close()
    await next.close()
  })

  it('a destination RabbitMQ refuses fails the link with its error; the message stays in the outbox', async () => {
    const vhost = 'refused-destination'
    await page.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    await page.evaluate((v) => window.r.declareShovel(v, { name: 'nowhere', remote: 'upstream', queue: 'to-nowhere', exchange: 'no-such-exchange' }), vhost)
    await page.evaluate((v) => window.r.publish(v, 'to-nowhere', 0, 1), vhost)
    const remote = await remoteWhere(page, vhost, (r) => r.links[0]?.state === 'failed', 'the link to fail')
    // RabbitMQ drops the connection without an ERROR frame on a SEND to a missing exchange.
    expect(remote.links[0]!.lastError?.code).toBe('DESTINATION_REFUSED')
    expect(remote.links[0]!.lastError?.message).toContain('no-such-exchange')
    await until(async () => (await page.evaluate((v) => window.r.ready(v, 'to-nowhere'), vhost)) === 1, 'the message back in its queue')
    // The socket comes back for the others (RabbitMQ closes it after an ERROR).
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to reopen')
  })

  it('a body that cannot travel (structured clone) or is too large is dead-lettered, never dropped', async () => {
    const vhost = 'poison'
    await sink('sink-poison', 'poison')
    await page.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    await page.evaluate(async (v) => {
      await window.r.declareQueue(v, 'poison-dlq')
      await window.r.declareQueue(v, 'poison-out', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'poison-dlq' })
      await window.r.declareShovel(v, { name: 'poison', remote: 'upstream', queue: 'poison-out', exchange: 'amq.topic', routingKey: 'poison' })
    }, vhost)
    await page.evaluate((v) => window.r.publish(v, 'poison-out', 0, 1, { body: 'object', declare: false }), vhost)
    await page.evaluate((v) => window.r.publish(v, 'poison-out', 1, 1, { size: 2 << 20, declare: false }), vhost)
    await page.evaluate((v) => window.r.publish(v, 'poison-out', 2, 1, { body: 'bytes', size: 16, declare: false }), vhost)
    await until(async () => (await page.evaluate((v) => window.r.ready(v, 'poison-dlq'), vhost)) === 2, 'two dead-lettered')
    await until(async () => (await queueInfo('sink-poison')).messages === 1, 'the bytes at RabbitMQ')
    const [bytes] = await takeMessages('sink-poison')
    expect(bytes!.properties.content_type).toBe('application/octet-stream')
    const remote = await remoteWhere(page, vhost, (r) => r.links[0]?.lastError !== undefined, 'the error in the status')
    expect(['UNSUPPORTED_BODY', 'FRAME_TOO_LARGE']).toContain(remote.links[0]!.lastError!.code)
  })

  it('a remote unreachable for long: retries paced by the capped backoff, the outbox keeps every message', async () => {
    const vhost = 'unreachable'
    await page.evaluate((v) => window.r.open(v), vhost)
    await page.evaluate((v) => window.r.publish(v, 'outbox', 0, 500), vhost)
    let previous = 0
    for (let round = 0; round < 4; round++) {
      const remote = await remoteWhere(page, vhost, (r) => r.attempts > previous && r.state === 'offline', 'another failed attempt')
      previous = remote.attempts
      expect(remote.lastError?.code).toBe('CONNECTION_LOST')
      // backoff: { initialMs: 100, maxMs: 1000 } in the test worker: never sooner than half, never later than the cap.
      expect(remote.retryAt! - remote.lastError!.at).toBeLessThanOrEqual(1000)
      expect(remote.retryAt! - remote.lastError!.at).toBeGreaterThanOrEqual(50)
    }
    expect(await page.evaluate((v) => window.r.ready(v, 'outbox'), vhost)).toBe(500)
  })

  it('figures (printed, not asserted): outbox drain after 5,000 queued while RabbitMQ is down', async () => {
    const vhost = 'outbox-drain'
    await sink('sink-drain', 'from.outbox-drain')
    await page.evaluate((v) => window.r.open(v), vhost)
    await remoteWhere(page, vhost, (r) => r.state === 'open', 'the remote to open')
    await rabbit.stopApp()
    let back = 0
    try {
      await remoteWhere(page, vhost, (r) => r.state !== 'open', 'the remote to go offline')
      await page.evaluate((v) => window.r.publish(v, 'outbox', 0, 5000, { messageIds: true }), vhost)
    } finally {
      await rabbit.startApp()
      back = Date.now()
    }
    // From RabbitMQ serving again (start_app returned) to the last message confirmed: this
    // includes the reconnect (backoff ≤ 1 s here) and the status notice's lag.
    await remoteWhere(page, vhost, (r) => r.state === 'open' && r.links[0]?.backlog === 0 && r.links[0]?.inFlight === 0, 'the drain', 120_000)
    const ms = Date.now() - back
    await until(async () => (await queueInfo('sink-drain')).messages === 5000, 'RabbitMQ to count 5,000')
    console.log(`[figure] outbox drain: 5,000 messages in ${ms} ms from RabbitMQ back to all confirmed (${Math.round(5000 / (ms / 1000))} msg/s, reconnect included; confirm-then-ack, window 100)`)
  }, 180_000)

  it('wrong credentials: a typed error, one attempt, and the next one a long pause away (no retry storm)', async () => {
    const vhost = 'badauth'
    await page.evaluate((v) => window.r.open(v), vhost)
    const remote = await remoteWhere(page, vhost, (r) => r.state === 'refused', 'the login to be refused')
    expect(remote.lastError?.code).toBe('ACCESS_REFUSED')
    expect(remote.attempts).toBe(1)
    expect(remote.retryAt! - remote.lastError!.at).toBeGreaterThanOrEqual(59_000)
    expect(await page.evaluate(() => window.r.notices())).not.toContain('not-the-passcode')
  })
})
