// Direct connections (`stomp+ws://`) against a real RabbitMQ: the client API (Producer,
// Consumer, Message, rpc) on RabbitMQ's own queues, reached through the broker host's one
// Web-STOMP socket; what STOMP cannot do fails with a typed NOT_SUPPORTED error.
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from '../e2e/harness.js'
import { api, deleteQueue, liveQueue, publishRemote, rabbit, rabbitmq, takeMessages, until } from './rabbitmq.js'

/** A user of these tests only: RabbitMQ's connection list tells its sockets from the others'. */
const LOGIN = 'direct'
const PASSCODE = 'direct-s3cret'

let harness: Harness
let page: Page

/** The connections RabbitMQ holds for the direct user (its management API's list). */
async function directSockets(): Promise<Array<{ user: string; protocol: string }>> {
  const all = await api<Array<{ user: string; protocol: string }>>('GET', 'connections?columns=user,protocol')
  return all.filter((c) => c.user === LOGIN)
}

beforeAll(async () => {
  await rabbit.ctl('add_user', LOGIN, PASSCODE).catch(() => {}) // already there from an earlier run of this node
  await rabbit.ctl('set_permissions', '-p', '/', LOGIN, '.*', '.*', '.*')
  process.env.VITE_RABBITMQ_STOMP_URL = rabbitmq.stompUrl
  harness = await startHarness({ pages: ['direct.html'], root: fileURLToPath(new URL('./pages/', import.meta.url)) })
  page = await harness.openPage('direct.html')
  await page.evaluate(([l, p]) => window.stompDirect.open(l!, p!), [LOGIN, PASSCODE])
})
afterAll(async () => {
  await harness?.close()
})

describe('direct stomp+ws connection', () => {
  it('publishes with receipts as confirms: every confirmed message is at RabbitMQ, headers and persistence kept; no credential in a frame', async () => {
    await deleteQueue('direct-basic')
    expect(await page.evaluate(() => window.stompDirect.declare('direct-basic'))).toBe('direct-basic')
    await page.evaluate(() => window.stompDirect.publish('', 'direct-basic', ['a', 'b', 'c'], { kind: 'test' }))
    // Confirmed means RabbitMQ has them now: no waiting for them to arrive.
    expect((await liveQueue('direct-basic'))?.messages).toBe(3)
    const got = await takeMessages('direct-basic')
    expect(got.map((m) => m.payload)).toEqual(['a', 'b', 'c'])
    expect(got[1]!.properties.delivery_mode).toBe(2)
    expect(got[1]!.properties.headers).toMatchObject({ kind: 'test' })
    expect(await page.evaluate(() => window.stompDirect.frames())).not.toContain(PASSCODE)
  })

  it('consumes with prefetch and acks; a nack with requeue comes back redelivered; a reject drops it', async () => {
    await deleteQueue('direct-consume')
    await page.evaluate(() => window.stompDirect.declare('direct-consume'))
    for (let i = 0; i < 5; i++) await publishRemote('', 'direct-consume', `m${i}`)
    await page.evaluate(() => window.stompDirect.consume('direct-consume', 2))

    // Prefetch 2: two delivered, three held back by RabbitMQ until one is settled.
    await until(async () => (await page.evaluate(() => window.stompDirect.received())).length === 2, 'two deliveries')
    expect((await liveQueue('direct-consume'))).toMatchObject({ unacked: 2, messages: 5 })
    expect(await page.evaluate(() => window.stompDirect.received())).toEqual([
      { body: 'm0', redelivered: false, state: 'RECEIVED' },
      { body: 'm1', redelivered: false, state: 'RECEIVED' },
    ])

    await page.evaluate(() => window.stompDirect.settle('m0', 'ack'))
    await page.evaluate(() => window.stompDirect.settle('m1', 'requeue'))
    // m1 went back to the queue and comes again, flagged.
    await until(async () => (await page.evaluate(() => window.stompDirect.received())).some((m) => m.body === 'm1' && m.redelivered), 'm1 redelivered')
    await page.evaluate(() => window.stompDirect.settle('m1', 'ack'))
    await until(async () => (await page.evaluate(() => window.stompDirect.received())).filter((m) => m.state === 'RECEIVED').length === 2, 'two more')
    const open = (await page.evaluate(() => window.stompDirect.received())).filter((m) => m.state === 'RECEIVED').map((m) => m.body)
    await page.evaluate((b) => window.stompDirect.settle(b, 'reject'), open[0]!)
    await page.evaluate((b) => window.stompDirect.settle(b, 'ack'), open[1]!)
    await until(async () => (await page.evaluate(() => window.stompDirect.received())).filter((m) => m.state === 'RECEIVED').length === 1, 'the last one')
    const last = (await page.evaluate(() => window.stompDirect.received())).find((m) => m.state === 'RECEIVED')!.body
    await page.evaluate((b) => window.stompDirect.settle(b, 'ack'), last)
    await until(async () => (await liveQueue('direct-consume'))?.messages === 0, 'the queue to empty (the rejected one dropped)')
    await page.evaluate(() => window.stompDirect.cancelAll())
  })

  it('declaring a queue again on the same socket sends nothing: a queued message is not caught and sent back flagged redelivered', async () => {
    await deleteQueue('direct-redeclare')
    await page.evaluate(() => window.stompDirect.declare('direct-redeclare'))
    await publishRemote('', 'direct-redeclare', 'r1')
    await page.evaluate(() => window.stompDirect.declare('direct-redeclare'))
    await page.evaluate(() => window.stompDirect.consume('direct-redeclare', 1))
    await until(async () => (await page.evaluate(() => window.stompDirect.received())).some((m) => m.body === 'r1'), 'r1 delivered')
    expect((await page.evaluate(() => window.stompDirect.received())).find((m) => m.body === 'r1')).toMatchObject({ redelivered: false })
    await page.evaluate(() => window.stompDirect.settle('r1', 'ack'))
    await page.evaluate(() => window.stompDirect.cancelAll())
  })

  it('SimpleQueue given a Queue puts and gets through RabbitMQ; by name it is NOT_SUPPORTED (STOMP cannot declare its direct exchange)', async () => {
    await deleteQueue('direct-simple')
    const { got, byName } = await page.evaluate(() => window.stompDirect.simple('direct-simple', ['s1', 's2', 's3']))
    expect(got).toEqual(['s1', 's2', 's3'])
    await until(async () => (await liveQueue('direct-simple'))?.messages === 0, 'every get acked at RabbitMQ')
    expect(byName).toMatchObject({ name: 'NotSupportedError', code: 'NOT_SUPPORTED' })
  })

  it('rpc: request and reply through RabbitMQ (a server-named reply queue)', async () => {
    await deleteQueue('direct-rpc')
    await page.evaluate(() => window.stompDirect.declare('direct-rpc'))
    await page.evaluate(() => window.stompDirect.serve('direct-rpc'))
    expect(await page.evaluate(() => window.stompDirect.rpc('direct-rpc', 'ping'))).toBe('re:ping')
    expect(await page.evaluate(() => Promise.all([1, 2, 3].map((i) => window.stompDirect.rpc('direct-rpc', `n${i}`))))).toEqual(['re:n1', 're:n2', 're:n3'])
  })

  it.each(['exchange.declare', 'queue.purge', 'passive'] as const)('%s fails with a typed NOT_SUPPORTED error and the connection goes on', async (what) => {
    expect(await page.evaluate((w) => window.stompDirect.unsupported(w), what)).toMatchObject({ name: 'NotSupportedError', code: 'NOT_SUPPORTED' })
    // (A queue of its own: RabbitMQ's adapter remembers what a socket declared, so a queue deleted
    // behind its back is not declared again on that socket.)
    const queue = `direct-after-${what.replace('.', '-')}`
    await page.evaluate((q) => window.stompDirect.declare(q), queue)
    await page.evaluate((q) => window.stompDirect.publish('', q, ['still']), queue)
    expect((await liveQueue(queue))?.messages).toBe(1)
  })

  it('two tabs share the broker host\'s one socket to RabbitMQ', async () => {
    const second = await harness.openPage('direct.html')
    await second.evaluate(([l, p]) => window.stompDirect.open(l!, p!), [LOGIN, PASSCODE])
    await deleteQueue('direct-tabs')
    await second.evaluate(() => window.stompDirect.declare('direct-tabs'))
    await second.evaluate(() => window.stompDirect.publish('', 'direct-tabs', ['from-2']))
    await page.evaluate(() => window.stompDirect.publish('', 'direct-tabs', ['from-1']))
    expect((await liveQueue('direct-tabs'))?.messages).toBe(2)
    // Both tabs' traffic went through, on one Web-STOMP connection (a socket per tab would be two).
    await until(async () => (await directSockets()).length > 0, 'RabbitMQ to list the connection')
    expect(await directSockets()).toEqual([{ user: LOGIN, protocol: expect.stringMatching(/STOMP/i) }])
    await second.close()
  })
})
