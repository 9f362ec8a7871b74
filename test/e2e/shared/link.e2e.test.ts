// The shared broker at the link level, in real Chromium: tabs (over a MessagePort, by default)
// and a dedicated worker (over BroadcastChannel) reach one broker in a SharedWorker, with raw
// frames (the client API is tested in api.e2e.test.ts). The link contract on all three links
// runs in Node: test/transport/link-contract.node.test.ts.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCdp, startHarness, type Harness } from '../harness.js'
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js'

const PAGE = 'shared/index.html'

let harness: Harness
beforeAll(async () => {
  harness = await startHarness({ pages: [PAGE] })
})
afterAll(async () => {
  await harness?.close()
})

type Connected = { clientId: string; welcome: { epoch: number; brokerId: string }; ms: number }

async function connect(page: Page, options: Record<string, unknown> = {}): Promise<Connected> {
  const result = await page.evaluate((o) => window.t.connect(o), options)
  if ('error' in result) throw new Error(`connect failed: ${JSON.stringify(result.error)}`)
  return result as Connected
}

const call = (page: Page, id: string, cmd: Record<string, unknown>) =>
  page.evaluate(([i, c]) => window.t.call(i as string, c as never), [id, cmd] as const)

async function closeAll(...pages: Page[]) {
  await Promise.all(pages.map((p) => p.close().catch(() => {})))
}

describe('shared broker, link level', () => {
  it('two tabs and a dedicated worker share one broker', async () => {
    const a = await harness.openPage(PAGE)
    const b = await harness.openPage(PAGE)
    const ca = await connect(a)
    const cb = await connect(b)
    const wi = await b.evaluate(() => window.t.spawn())
    const cw = (await b.evaluate((i) => window.t.w(i, 'connect'), wi)) as Connected
    expect(cw.clientId).toBeTruthy()
    expect(new Set([ca.welcome.brokerId, cb.welcome.brokerId, cw.welcome.brokerId]).size).toBe(1)
    console.log(`connect ms: first tab ${ca.ms.toFixed(1)}, second tab ${cb.ms.toFixed(1)}, dedicated worker ${cw.ms.toFixed(1)}`)

    for (const [page, id] of [[a, ca.clientId], [b, cb.clientId]] as const) {
      expect(await call(page, id, { op: 'channel.open', channel: 1 })).toMatchObject({ op: 'ok' })
      expect(await call(page, id, { op: 'queue.declare', channel: 1, queue: 'jobs' })).toMatchObject({ op: 'ok' })
    }
    await a.evaluate((id) => window.t.consumeAcking(id, 1, 'jobs', 'a'), ca.clientId)
    await b.evaluate((id) => window.t.consumeAcking(id, 1, 'jobs', 'b'), cb.clientId)
    // The worker publishes.
    await b.evaluate(
      ([i, id]) => window.t.w(i as number, 'script', id as string, [{ op: 'channel.open', channel: 1 }]),
      [wi, cw.clientId] as const,
    )
    const pub = (await b.evaluate(
      ([i, id]) => window.t.w(i as number, 'publishMany', id as string, { channel: 1, exchange: '', routingKey: 'jobs', n: 10, perTurn: 1 }),
      [wi, cw.clientId] as const,
    )) as { failed: number }
    expect(pub.failed).toBe(0)
    await a.waitForFunction((id) => window.t.seen(id).length >= 5, ca.clientId)
    await b.waitForFunction((id) => window.t.seen(id).length >= 5, cb.clientId)
    // Round robin: 5 each.
    expect(await a.evaluate((id) => window.t.seen(id).length, ca.clientId)).toBe(5)
    expect(await b.evaluate((id) => window.t.seen(id).length, cb.clientId)).toBe(5)
    await closeAll(a, b)
  })
})

/** The shared_worker targets of the harness origin. */
async function sharedWorkers(page: Page): Promise<Array<{ targetId: string; url: string; title: string }>> {
  const session = await harness.cdp(page)
  try {
    const { targetInfos } = (await session.send('Target.getTargets')) as {
      targetInfos: Array<{ targetId: string; type: string; url: string; title: string }>
    }
    return targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(harness.baseUrl))
  } finally {
    await session.detach().catch(() => {})
  }
}

async function killSharedWorkers(page: Page): Promise<number> {
  const targets = await sharedWorkers(page)
  const session = await harness.cdp(page)
  try {
    for (const target of targets) await session.send('Target.closeTarget', { targetId: target.targetId })
  } finally {
    await session.detach().catch(() => {})
  }
  return targets.length
}

describe('shared broker, failures', () => {
  // Chromium only: a renderer crash needs CDP (Page.crash); Firefox has no way to crash one tab.
  it.runIf(hasCdp)('a consumer tab closed and another crashed while holding unacked: all redelivered to a survivor', async () => {
    const survivor = await harness.openPage(PAGE)
    const closing = await harness.openPage(PAGE)
    const crashing = await harness.openPage(PAGE)
    const s = await connect(survivor)
    const c1 = await connect(closing)
    const c2 = await connect(crashing)
    const setup = [
      { op: 'channel.open', channel: 1 },
      { op: 'queue.declare', channel: 1, queue: 'crashy' },
      { op: 'basic.qos', channel: 1, prefetchCount: 3 },
    ]
    for (const [page, id] of [[survivor, s.clientId], [closing, c1.clientId], [crashing, c2.clientId]] as const)
      await page.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [id, setup] as const)
    // The two doomed tabs consume without acking, 3 each.
    for (const [page, id] of [[closing, c1.clientId], [crashing, c2.clientId]] as const)
      expect(await call(page, id, { op: 'basic.consume', channel: 1, queue: 'crashy', consumerTag: 'doomed' })).toMatchObject({ op: 'ok' })
    const pub = await survivor.evaluate(
      (id) => window.t.publishMany(id, { channel: 1, exchange: '', routingKey: 'crashy', n: 6, perTurn: 6 }),
      s.clientId,
    )
    expect(pub.failed).toBe(0)
    await closing.waitForFunction((id) => window.t.deliveries(id).length === 3, c1.clientId)
    await crashing.waitForFunction((id) => window.t.deliveries(id).length === 3, c2.clientId)
    const held = [
      ...(await closing.evaluate((id) => window.t.deliveries(id), c1.clientId)),
      ...(await crashing.evaluate((id) => window.t.deliveries(id), c2.clientId)),
    ].map((d) => d.body)
    expect(held.sort()).toEqual([0, 1, 2, 3, 4, 5])

    const session = await harness.cdp(crashing)
    // The renderer dies, so the call never gets its answer: do not wait for it.
    void session.send('Page.crash').catch(() => {})
    await closing.close()

    await survivor.evaluate((id) => window.t.consumeAcking(id, 1, 'crashy', 'survivor'), s.clientId)
    await survivor.waitForFunction((id) => window.t.seen(id).length >= 6, s.clientId, { timeout: 10_000 })
    const seen = await survivor.evaluate((id) => window.t.seen(id), s.clientId)
    expect(seen.map((d) => d.body).sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect(seen.every((d) => d.redelivered)).toBe(true)
    // The broker keeps serving.
    expect(await call(survivor, s.clientId, { op: 'queue.declare', channel: 1, queue: 'crashy', passive: true })).toMatchObject({
      op: 'ok',
      result: { messageCount: 0 },
    })
    await closeAll(survivor, crashing)
  })

  // Chromium only: killing a SharedWorker that still has clients needs CDP (Target.closeTarget);
  // elsewhere a SharedWorker only ends with its last client.
  it.runIf(hasCdp)('the SharedWorker is killed: clients reconnect on their own, traffic resumes, in-flight publishes get an answer', async () => {
    const a = await harness.openPage(PAGE)
    const b = await harness.openPage(PAGE)
    const ca = await connect(a)
    const cb = await connect(b)
    const wi = await b.evaluate(() => window.t.spawn())
    const cw = (await b.evaluate((i) => window.t.w(i, 'connect'), wi)) as Connected
    const setup = [
      { op: 'channel.open', channel: 1 },
      { op: 'queue.declare', channel: 1, queue: 'survives', durable: true },
    ]
    await a.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [ca.clientId, setup] as const)

    // Publishes in flight while the worker dies: each gets a confirm or a typed error.
    const inflight = a.evaluate(
      (id) => window.t.publishFor(id, { channel: 1, exchange: '', routingKey: 'survives', duration: 1500 }),
      ca.clientId,
    )
    await new Promise((r) => setTimeout(r, 300))
    const killedAt = Date.now()
    expect(await killSharedWorkers(a)).toBe(1)
    const result = await inflight
    // Every publish settled: confirmed, or a typed error; none was left to time out.
    expect(result.codes.TIMEOUT).toBeUndefined()
    expect(result.codes.confirmed).toBeGreaterThan(0)
    expect(result.codes.CONNECTION_CLOSED).toBeGreaterThan(0)

    // Everyone reconnects by themselves to one new broker with a new epoch.
    for (const [page, id] of [[a, ca.clientId], [b, cb.clientId]] as const)
      await page.waitForFunction((i) => window.t.state(i).welcomes.length >= 1, id, { timeout: 10_000 })
    await b.waitForFunction(
      async ([i, id]) => ((await window.t.w(i as number, 'state', id as string)) as { welcomes: unknown[] }).welcomes.length >= 1,
      [wi, cw.clientId] as const,
      { timeout: 10_000 },
    )
    const sa = await a.evaluate((id) => window.t.state(id), ca.clientId)
    const sb = await b.evaluate((id) => window.t.state(id), cb.clientId)
    const sw = (await b.evaluate(([i, id]) => window.t.w(i as number, 'state', id as string), [wi, cw.clientId] as const)) as typeof sa
    expect(sa.downs[0]!.code).toBe('BROKER_UNAVAILABLE')
    expect(sa.welcomes[0]!.epoch).toBeGreaterThan(ca.welcome.epoch)
    expect(new Set([sa.welcomes[0]!.brokerId, sb.welcomes[0]!.brokerId, sw.welcomes[0]!.brokerId]).size).toBe(1)
    expect(sa.welcomes[0]!.brokerId).not.toBe(ca.welcome.brokerId)
    expect((await sharedWorkers(a)).length).toBe(1)
    const downMs = Math.max(...[sa, sb, sw].map((s) => s.downs[0]!.at)) - killedAt
    const reconnectMs = Math.max(...[sa, sb, sw].map((s) => s.welcomes[0]!.at)) - killedAt

    // Traffic resumes: the durable queue came back from IndexedDB.
    await a.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [ca.clientId, setup] as const)
    const again = await a.evaluate(
      (id) => window.t.publishMany(id, { channel: 1, exchange: '', routingKey: 'survives', n: 10 }),
      ca.clientId,
    )
    expect(again.failed).toBe(0)
    console.log(`publishes across the kill: ${result.n}, outcomes ${JSON.stringify(result.codes)}; all three clients saw it within ${downMs} ms and were welcomed by the new broker within ${reconnectMs} ms of the kill command`)
    await closeAll(a, b)
  })
})

describe('shared broker, isolation and hostile input', () => {
  it('bad frames on the broker channel neither crash it nor disturb other clients', async () => {
    const a = await harness.openPage(PAGE)
    const b = await harness.openPage(PAGE)
    const ca = await connect(a)
    const cb = await connect(b)
    const setup = [
      { op: 'channel.open', channel: 1 },
      { op: 'queue.declare', channel: 1, queue: 'victim' },
    ]
    for (const [page, id] of [[a, ca.clientId], [b, cb.clientId]] as const)
      await page.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [id, setup] as const)
    // b holds an unacked delivery; the attacker tries to settle it with b's tag from its own session.
    expect(await call(b, cb.clientId, { op: 'basic.consume', channel: 1, queue: 'victim', consumerTag: 'b' })).toMatchObject({ op: 'ok' })
    await a.evaluate((id) => window.t.publishMany(id, { channel: 1, exchange: '', routingKey: 'victim', n: 1 }), ca.clientId)
    await b.waitForFunction((id) => window.t.deliveries(id).length === 1, cb.clientId)

    const attacker = await harness.openPage(PAGE)
    const cx = await connect(attacker)
    await attacker.evaluate(([id, victim]) => {
      const t = window.t
      const garbage: unknown[] = [
        null, 1, 'x', true, [], [1, 2], {}, { from: 5 }, { from: 'a', frames: 'b' }, { from: '', frames: [] },
        { from: 'z'.repeat(10_000), frames: [] },
        { from: 'nobody', frames: [{ op: 'channel.open', channel: 1, id: 1 }] },
        { from: id, frames: [null, 42, 'op', { op: 'nope', channel: 1, id: 99 }, { op: 'basic.publish', channel: 'x', id: 100 }] },
        { from: id, frames: [{ op: 'queue.declare', channel: 1, id: 101, queue: 'q'.repeat(300) }] },
        { from: id, frames: [{ op: 'basic.ack', channel: 1, deliveryTag: 1 }, { op: 'basic.ack', channel: 1, deliveryTag: 1, multiple: true }] },
        { from: id, frames: new Array(10_001).fill({ op: 'channel.open', channel: 2 }) },
        { from: id, frames: [{ op: 'basic.publish', channel: 3, id: 102, exchange: '', routingKey: 'victim', properties: {}, body: 'x'.repeat(8 << 20) }] },
        { from: id, frames: [{ op: 'hello', clientId: victim, protocol: 1, kind: 'window' }] },
        { from: id, frames: [{ op: 'goodbye', clientId: victim }] },
        { from: victim, frames: [{ op: 'hello', clientId: victim, protocol: 999, kind: 'window' }] },
        { from: id, frames: [{ op: 'exchange.declare', channel: 1, id: 103, exchange: 'e', type: 'x-custom' }] },
      ]
      for (const post of garbage) t.postRaw(post)
      // The attacker's own session: channel 1, then acking tags it never received.
      t.cast(id, { op: 'channel.open', channel: 1 } as never)
      t.cast(id, { op: 'basic.ack', channel: 1, deliveryTag: 1 } as never)
    }, [cx.clientId, cb.clientId] as const)
    await new Promise((r) => setTimeout(r, 300))

    // b still holds its delivery (nobody else settled it) and everyone still works.
    const stats = (await a.evaluate(() => window.t.brokerStats())) as { host: { dropped: number }; sessions: number }
    expect(stats.host.dropped).toBeGreaterThan(5)
    expect(await call(a, ca.clientId, { op: 'queue.declare', channel: 1, queue: 'victim', passive: true })).toMatchObject({
      op: 'ok',
      result: { messageCount: 0, consumerCount: 1 },
    })
    const tag = (await b.evaluate((id) => window.t.deliveries(id), cb.clientId))[0]!.deliveryTag
    expect(await call(b, cb.clientId, { op: 'basic.ack', channel: 1, deliveryTag: tag })).toMatchObject({ op: 'ok' })
    expect(await a.evaluate((id) => window.t.state(id).state, ca.clientId)).toBe('up')
    expect(await b.evaluate((id) => window.t.state(id).state, cb.clientId)).toBe('up')
    expect(harness.pageErrors).toEqual([])
    await closeAll(a, b, attacker)
  })

  it('a second vhost is isolated from the first', async () => {
    const a = await harness.openPage(PAGE)
    const root = await connect(a)
    const other = await connect(a, { vhost: 'other' })
    expect(other.welcome.brokerId).not.toBe(root.welcome.brokerId)
    // One SharedWorker per vhost (listing the workers needs CDP: Chromium only).
    if (hasCdp) expect((await sharedWorkers(a)).map((w) => w.title).sort()).toEqual([`warren:v${PROTOCOL_VERSION}:/`, `warren:v${PROTOCOL_VERSION}:other`])
    await a.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [
      root.clientId,
      [{ op: 'channel.open', channel: 1 }, { op: 'queue.declare', channel: 1, queue: 'root-only' }],
    ] as const)
    await a.evaluate((i) => window.t.call(i, { op: 'channel.open', channel: 1 } as never), other.clientId)
    expect(await call(a, other.clientId, { op: 'queue.declare', channel: 1, queue: 'root-only', passive: true })).toMatchObject({
      op: 'error',
      error: { replyCode: 404 },
    })
    await closeAll(a)
  })

  it('a dedicated worker with no window-started broker gets BrokerUnavailableError', async () => {
    // A page that does not start the broker, on a vhost nobody serves.
    const p = await harness.openPage(`${PAGE}?starter=0`)
    const wi = await p.evaluate(() => window.t.spawn())
    const result = (await p.evaluate((i) => window.t.w(i, 'connect', { vhost: 'unserved', connectTimeout: 500 }), wi)) as {
      error: { name: string; code: string; message: string }
      ms: number
    }
    expect(result.error).toMatchObject({ name: 'BrokerUnavailableError', code: 'BROKER_UNAVAILABLE' })
    expect(result.error.message).toMatch(/only windows can construct a SharedWorker/)
    expect(result.ms).toBeGreaterThanOrEqual(490)
    // A window without a factory says how to give it one.
    const own = await p.evaluate(() => window.t.connect({ vhost: 'unserved', connectTimeout: 300 }))
    expect('error' in own && own.error.message).toMatch(/useSharedWorker/)
    await closeAll(p)
  })

  it('a broker script that does not load fails the connect at once', async () => {
    const p = await harness.openPage(`${PAGE}?bad=1`)
    // A connect timeout longer than the test's own: only a failure on the script's error event,
    // not the timeout, can settle this in time (no wall-clock assertion needed).
    const result = await p.evaluate(() => window.t.connect({ vhost: 'broken', connectTimeout: 600_000 }))
    expect('error' in result && result.error).toMatchObject({ name: 'BrokerUnavailableError', code: 'BROKER_UNAVAILABLE' })
    expect('error' in result && result.error.message).toMatch(/SharedWorker/)
    await closeAll(p)
  })
})

describe('shared broker, MessagePort link and throughput', () => {
  it("link: 'port' carries the same frames", async () => {
    const a = await harness.openPage(PAGE)
    const b = await harness.openPage(PAGE)
    const ca = await connect(a, { link: 'port' })
    const cb = await connect(b) // a BroadcastChannel client on the same broker
    expect(ca.welcome.brokerId).toBe(cb.welcome.brokerId)
    const setup = [
      { op: 'channel.open', channel: 1 },
      { op: 'queue.declare', channel: 1, queue: 'via-port' },
    ]
    for (const [page, id] of [[a, ca.clientId], [b, cb.clientId]] as const)
      await page.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [id, setup] as const)
    await a.evaluate((id) => window.t.consumeAcking(id, 1, 'via-port', 'p'), ca.clientId)
    await b.evaluate((id) => window.t.publishMany(id, { channel: 1, exchange: '', routingKey: 'via-port', n: 100 }), cb.clientId)
    await a.waitForFunction((id) => window.t.seen(id).length === 100, ca.clientId)
    // A frame in the port client's name, posted on the broadcast channel, is not run.
    await b.evaluate((id) => window.t.postRaw({ from: id, frames: [{ op: 'queue.delete', channel: 1, queue: 'via-port' }] }), ca.clientId)
    await new Promise((r) => setTimeout(r, 100))
    expect(await call(b, cb.clientId, { op: 'queue.declare', channel: 1, queue: 'via-port', passive: true })).toMatchObject({ op: 'ok' })
    await closeAll(a, b)
  })

  it('a window defaults to the port link, a dedicated worker to BroadcastChannel', async () => {
    const a = await harness.openPage(PAGE)
    const ca = await connect(a)
    const wi = await a.evaluate(() => window.t.spawn())
    const cw = (await a.evaluate((i) => window.t.w(i, 'connect'), wi)) as Connected
    expect(cw.welcome.brokerId).toBe(ca.welcome.brokerId)
    const setup = (queue: string) => [
      { op: 'channel.open', channel: 1 },
      { op: 'queue.declare', channel: 1, queue },
    ]
    await a.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [ca.clientId, setup('default-window')] as const)
    await a.evaluate(([i, id, cmds]) => window.t.w(i as number, 'script', id as string, cmds as never), [wi, cw.clientId, setup('default-worker')] as const)
    // The window's frames go over its port: nothing of it passes the broker channel.
    await a.evaluate(() => window.t.sniff())
    await a.evaluate(([i, id]) => window.t.w(i as number, 'call', id as string, { op: 'queue.declare', channel: 1, queue: 'default-worker', passive: true } as never), [wi, cw.clientId] as const)
    expect(await call(a, ca.clientId, { op: 'queue.declare', channel: 1, queue: 'default-window', passive: true })).toMatchObject({ op: 'ok' })
    await a.waitForFunction((id) => window.t.sniffed(id) !== undefined, cw.clientId)
    expect(await a.evaluate((id) => window.t.sniffed(id), ca.clientId)).toBeUndefined()
    // Frames in each client's name that do not name its session run for neither.
    for (const [id, queue] of [[ca.clientId, 'default-window'], [cw.clientId, 'default-worker']] as const)
      await a.evaluate(([i, q]) => window.t.postRaw({ from: i, frames: [{ op: 'queue.delete', channel: 1, queue: q }] }), [id, queue] as const)
    await a.waitForFunction(() => window.t.brokerStats().then((s) => (s as { host: { unknownSessions: number } }).host.unknownSessions >= 2))
    expect(await call(a, ca.clientId, { op: 'queue.declare', channel: 1, queue: 'default-window', passive: true })).toMatchObject({ op: 'ok' })
    expect(await call(a, ca.clientId, { op: 'queue.declare', channel: 1, queue: 'default-worker', passive: true })).toMatchObject({ op: 'ok' })
    // Both links stayed up: an answer to a frame that named no session is not their business.
    expect(await a.evaluate((id) => window.t.state(id), ca.clientId)).toMatchObject({ state: 'up', downs: [], welcomes: [] })
    await closeAll(a)
  })

  it("a window's default link reaches a broker another context hosts (its SharedWorker waits for the lock) over BroadcastChannel", async () => {
    const vhost = 'elected-elsewhere'
    const a = await harness.openPage(PAGE)
    const hosted = await a.evaluate((v) => window.t.electHost(v), vhost)
    const ca = await connect(a, { vhost, connectTimeout: 10_000 })
    expect(ca.welcome.brokerId).toBe(hosted.brokerId)
    expect(await call(a, ca.clientId, { op: 'channel.open', channel: 1 })).toMatchObject({ op: 'ok' })
    expect(await call(a, ca.clientId, { op: 'queue.declare', channel: 1, queue: 'q' })).toMatchObject({ op: 'ok' })
    await closeAll(a)
  })

  for (const link of ['broadcast', 'port'] as const) {
    it(`throughput, tab to tab through the broker (${link})`, async () => {
      const a = await harness.openPage(PAGE)
      const b = await harness.openPage(PAGE)
      const ca = await connect(a, { link })
      const cb = await connect(b, { link })
      const queue = `bulk-${link}`
      const setup = [
        { op: 'channel.open', channel: 1 },
        { op: 'queue.declare', channel: 1, queue },
        { op: 'basic.qos', channel: 1, prefetchCount: 1000 },
      ]
      for (const [page, id] of [[a, ca.clientId], [b, cb.clientId]] as const)
        await page.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [id, setup] as const)
      await b.evaluate(([id, q]) => window.t.consumeAcking(id as string, 1, q as string, 'bulk'), [cb.clientId, queue] as const)
      const n = 20_000
      const started = Date.now()
      const [pub, sub] = await Promise.all([
        a.evaluate(([id, q, count]) => window.t.publishMany(id as string, { channel: 1, exchange: '', routingKey: q as string, n: count as number, perTurn: 500 }), [ca.clientId, queue, n] as const),
        b.evaluate(([id, count]) => window.t.waitSeen(id as string, count as number, 60_000), [cb.clientId, n] as const),
      ])
      const total = Date.now() - started
      expect(pub.failed).toBe(0)
      expect(sub.seen).toBe(n)
      console.log(
        `${link}: ${n} transient messages published with confirms and consumed with acks in ${total} ms = ${Math.round((n / total) * 1000)} msg/s end to end (confirms done after ${Math.round(pub.ms)} ms)`,
      )
      await closeAll(a, b)
    })
  }
})

describe('shared broker, sessions', () => {
  for (const link of ['broadcast', 'port'] as const) {
    it(`a goodbye and a hello forged in a live client's name cannot take its session (${link} link)`, async () => {
      const a = await harness.openPage(PAGE)
      const b = await harness.openPage(PAGE)
      const ca = await connect(a, { link })
      const cb = await connect(b)
      const queue = `forged-${link}`
      const setup = [
        { op: 'channel.open', channel: 1 },
        { op: 'queue.declare', channel: 1, queue },
      ]
      for (const [page, id] of [[a, ca.clientId], [b, cb.clientId]] as const)
        await page.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [id, setup] as const)
      await a.evaluate(([id, q]) => window.t.consumeAcking(id as string, 1, q as string, 'c'), [ca.clientId, queue] as const)
      const before = (await a.evaluate(() => window.t.brokerStats())) as { host: { refusedHellos: number; opened: number } }

      // A stale context of the same id, or a script that does not know the session id.
      await b.evaluate((victim) => {
        window.t.postRaw({ from: victim, session: 'f'.repeat(32), frames: [{ op: 'goodbye', clientId: victim, session: 'f'.repeat(32) }] })
        window.t.postRaw({ from: victim, frames: [{ op: 'hello', clientId: victim, protocol: 2, kind: 'window' }] })
      }, ca.clientId)
      await a.waitForFunction((n) => window.t.brokerStats().then((s) => (s as { host: { refusedHellos: number } }).host.refusedHellos > n), before.host.refusedHellos)

      await b.evaluate(([id, q]) => window.t.publishMany(id as string, { channel: 1, exchange: '', routingKey: q as string, n: 5 }), [cb.clientId, queue] as const)
      await a.waitForFunction((id) => window.t.seen(id).length === 5, ca.clientId)
      expect(await call(a, ca.clientId, { op: 'channel.open', channel: 2 })).toMatchObject({ op: 'ok' })
      expect(await a.evaluate((id) => window.t.state(id), ca.clientId)).toMatchObject({ state: 'up', downs: [], welcomes: [] })
      const after = (await a.evaluate(() => window.t.brokerStats())) as { host: { opened: number } }
      expect(after.host.opened).toBe(before.host.opened)
      await closeAll(a, b)
    })
  }

  it('a BroadcastChannel client whose session a script read, ended and took over is not stranded: it says hello again and works', async () => {
    const a = await harness.openPage(PAGE)
    const attacker = await harness.openPage(PAGE)
    await attacker.evaluate(() => window.t.sniff())
    const ca = await connect(a, { link: 'broadcast' })
    expect(await call(a, ca.clientId, { op: 'channel.open', channel: 1 })).toMatchObject({ op: 'ok' })
    await attacker.waitForFunction((id) => window.t.sniffed(id) !== undefined, ca.clientId)
    await attacker.evaluate((victim) => {
      const session = window.t.sniffed(victim)!
      window.t.postRaw({ from: victim, session, frames: [{ op: 'goodbye', clientId: victim, session }] })
      window.t.postRaw({ from: victim, frames: [{ op: 'hello', clientId: victim, protocol: 2, kind: 'window', session }] })
    }, ca.clientId)
    await a.waitForFunction((id) => window.t.state(id).welcomes.length >= 1 && window.t.state(id).state === 'up', ca.clientId)
    // Its old channel is gone with the old session; the new session works.
    expect(await call(a, ca.clientId, { op: 'channel.open', channel: 1 })).toMatchObject({ op: 'ok' })
    expect(await call(a, ca.clientId, { op: 'queue.declare', channel: 1, queue: 'after-takeover' })).toMatchObject({ op: 'ok' })
    await closeAll(a, attacker)
  })
})

describe('shared broker, back/forward cache', () => {
  // Playwright starts Chromium with the bfcache off, so the page plays the events itself;
  // the locks, channels and the broker are real.
  it('pagehide(persisted) releases the client: its unacked messages go to another consumer; pageshow rejoins', async () => {
    const a = await harness.openPage(PAGE)
    const b = await harness.openPage(PAGE)
    const ca = await connect(a)
    const cb = await connect(b)
    const setup = [
      { op: 'channel.open', channel: 1 },
      { op: 'queue.declare', channel: 1, queue: 'cached' },
    ]
    for (const [page, id] of [[a, ca.clientId], [b, cb.clientId]] as const)
      await page.evaluate(([i, cmds]) => window.t.script(i as string, cmds as never), [id, setup] as const)
    expect(await call(a, ca.clientId, { op: 'basic.consume', channel: 1, queue: 'cached', consumerTag: 'held' })).toMatchObject({ op: 'ok' })
    await b.evaluate((id) => window.t.publishMany(id, { channel: 1, exchange: '', routingKey: 'cached', n: 3 }), cb.clientId)
    await a.waitForFunction((id) => window.t.deliveries(id).length === 3, ca.clientId)

    await a.evaluate(() => window.t.bfcache(true))
    expect(await a.evaluate((id) => window.t.state(id).state, ca.clientId)).toBe('frozen')
    await b.evaluate((id) => window.t.consumeAcking(id, 1, 'cached', 'taker'), cb.clientId)
    await b.waitForFunction((id) => window.t.seen(id).length === 3, cb.clientId)
    expect((await b.evaluate((id) => window.t.seen(id), cb.clientId)).every((d) => d.redelivered)).toBe(true)

    await a.evaluate(() => window.t.bfcache(false))
    await a.waitForFunction((id) => window.t.state(id).welcomes.length === 1, ca.clientId)
    expect(await call(a, ca.clientId, { op: 'channel.open', channel: 1 })).toMatchObject({ op: 'ok' })
    await Promise.all([a.close(), b.close()])
  })
})
