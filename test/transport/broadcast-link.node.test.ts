// The BroadcastChannel link against the broker host, in one Node process: Node has
// BroadcastChannel, and an in-memory lock manager stands in for Web Locks.
import { afterEach, describe, expect, it } from 'vitest'
import type { BasicDeliver, ServerEvent } from '../../src/protocol/frames.js'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { openBroadcastLink } from '../../src/transport/broadcast-channel.js'
import type { ClientLink } from '../../src/transport/client-link.js'
import { LinkError } from '../../src/transport/errors.js'
import { brokerChannelName, clientChannelName } from '../../src/transport/names.js'
import { FakeLocks } from './fake-locks.js'
import { rig, sleep, startHost, until, type TestHost } from './helpers.js'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function connect(locks: FakeLocks, options: { vhost?: string; lifecycle?: EventTarget } = {}) {
  const ctx = locks.context()
  const { link, welcome } = await openBroadcastLink({
    vhost: options.vhost ?? '/',
    connectTimeout: 1000,
    locks: ctx,
    lifecycle: options.lifecycle ?? null,
  })
  cleanup.push(() => link.close())
  return { link, welcome, ctx, client: rig(link) }
}

async function host(locks: FakeLocks, vhost = '/', storage?: MemoryStorage): Promise<TestHost> {
  const h = await startHost(locks, vhost, storage)
  cleanup.push(() => h.kill())
  return h
}

const ok = (frame: ServerEvent) => {
  if (frame.op !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(frame)}`)
  return frame.result as Record<string, unknown>
}

describe('BroadcastChannel link', () => {
  it('hello/welcome, then commands and replies; one post per turn', async () => {
    const locks = new FakeLocks()
    const h = await host(locks)
    const { link, welcome, client } = await connect(locks)
    expect(welcome).toMatchObject({ op: 'welcome', clientId: link.clientId, protocol: PROTOCOL_VERSION, epoch: h.broker.epoch })
    expect(h.broker.hasClient(link.clientId)).toBe(true)
    expect(locks.held()).toContain(`warren:/:client:${link.clientId}`)

    ok(await client.call({ op: 'channel.open', channel: 1 }))
    ok(await client.call({ op: 'queue.declare', channel: 1, queue: 'q' }))
    const before = (link as ClientLink).stats.posts
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        client.call({ op: 'basic.publish', channel: 1, exchange: '', routingKey: 'q', properties: {}, body: i }),
      ),
    )
    expect(replies.every((r) => r.op === 'ok')).toBe(true)
    expect((link as ClientLink).stats.posts - before).toBe(1)
    expect(ok(await client.call({ op: 'queue.declare', channel: 1, queue: 'q', passive: true })).messageCount).toBe(100)
  })

  it('rejects with BROKER_UNAVAILABLE when no broker answers', async () => {
    const locks = new FakeLocks()
    const started = Date.now()
    const error = await openBroadcastLink({ vhost: 'nobody', connectTimeout: 200, locks: locks.context(), lifecycle: null }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(LinkError)
    expect((error as LinkError).code).toBe('BROKER_UNAVAILABLE')
    expect((error as LinkError).name).toBe('BrokerUnavailableError')
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    // Nothing is left held.
    expect(locks.held()).toEqual([])
  })

  it('connects to a broker that starts after the first hello', async () => {
    const locks = new FakeLocks()
    const pending = openBroadcastLink({ vhost: '/', connectTimeout: 2000, locks: locks.context(), lifecycle: null })
    await sleep(120)
    await host(locks)
    const { link } = await pending
    cleanup.push(() => link.close())
    expect(link.state).toBe('up')
  })

  it('a client whose lock goes away is dropped; its unacked messages go to another consumer, redelivered', async () => {
    const locks = new FakeLocks()
    const h = await host(locks)
    const a = await connect(locks)
    const b = await connect(locks)
    for (const c of [a, b]) {
      ok(await c.client.call({ op: 'channel.open', channel: 1 }))
      ok(await c.client.call({ op: 'queue.declare', channel: 1, queue: 'work' }))
    }
    ok(await a.client.call({ op: 'basic.consume', channel: 1, queue: 'work', consumerTag: 'a' }))
    for (let i = 0; i < 5; i++)
      ok(await b.client.call({ op: 'basic.publish', channel: 1, exchange: '', routingKey: 'work', properties: {}, body: i }))
    await until(() => a.client.events.length === 5, 2000, 'deliveries to a')
    ok(await b.client.call({ op: 'basic.consume', channel: 1, queue: 'work', consumerTag: 'b' }))

    a.ctx.kill() // a crashes: its lock is released, no goodbye
    await until(() => b.client.events.length === 5, 2000, 'redeliveries to b')
    const redelivered = b.client.events as BasicDeliver[]
    expect(redelivered.map((d) => d.body)).toEqual([0, 1, 2, 3, 4])
    expect(redelivered.every((d) => d.redelivered)).toBe(true)
    expect(h.broker.hasClient(a.link.clientId)).toBe(false)
  })

  it('close() says goodbye: the broker drops the client at once', async () => {
    const locks = new FakeLocks()
    const h = await host(locks)
    const { link } = await connect(locks)
    const id = link.clientId
    await link.close()
    await until(() => !h.broker.hasClient(id), 1000, 'goodbye')
    expect(h.host.stats.closed).toBe(1)
  })

  it('sees the broker die, reports down, and reconnects to the next one with a new epoch', async () => {
    const locks = new FakeLocks()
    const storage = new MemoryStorage()
    const first = await startHost(locks, '/', storage)
    const { client, link } = await connect(locks)
    ok(await client.call({ op: 'channel.open', channel: 1 }))

    first.kill()
    await until(() => client.downs.length === 1, 1000, 'down')
    expect((client.downs[0] as LinkError).code).toBe('BROKER_UNAVAILABLE')
    // A request while down gets an answer at once, not silence.
    const refused = await client.call({ op: 'queue.declare', channel: 1, queue: 'x' })
    expect(refused).toMatchObject({ op: 'error', error: { code: 'CONNECTION_CLOSED' } })

    const second = await host(locks, '/', storage)
    await until(() => client.welcomes.length === 1, 2000, 'welcome from the new broker')
    expect(client.welcomes[0]!.epoch).toBe(second.broker.epoch)
    expect(second.broker.epoch).toBeGreaterThan(first.broker.epoch)
    expect(link.state).toBe('up')
    ok(await client.call({ op: 'channel.open', channel: 1 }))
  })

  it("says hello again when the broker answers 'unknown-session'", async () => {
    const locks = new FakeLocks()
    const h = await host(locks)
    const { client, link } = await connect(locks)
    ok(await client.call({ op: 'channel.open', channel: 1 }))
    // A hard error: the engine closes the connection.
    const id = link.clientId
    h.broker.disconnect(id)
    client.cast({ op: 'channel.open', channel: 2 })
    await until(() => client.welcomes.length === 1, 2000, 're-welcome')
    expect(client.downs).toHaveLength(1)
    expect(h.broker.hasClient(id)).toBe(true)
    ok(await client.call({ op: 'channel.open', channel: 1 }))
  })

  it('back/forward cache: pagehide(persisted) lets go of the broker, pageshow comes back', async () => {
    const locks = new FakeLocks()
    const h = await host(locks)
    const lifecycle = new EventTarget()
    const { client, link } = await connect(locks, { lifecycle })
    const id = link.clientId
    ok(await client.call({ op: 'channel.open', channel: 1 }))

    lifecycle.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }))
    expect(link.state).toBe('frozen')
    expect(client.downs).toHaveLength(1)
    await until(() => !h.broker.hasClient(id), 1000, 'drop on pagehide')
    expect(locks.held()).not.toContain(`warren:/:client:${id}`)

    lifecycle.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
    await until(() => client.welcomes.length === 1, 2000, 'welcome after pageshow')
    expect(h.broker.hasClient(id)).toBe(true)
    ok(await client.call({ op: 'channel.open', channel: 1 }))
  })

  it('garbage on the broker channel never throws and never disturbs a client', async () => {
    const locks = new FakeLocks()
    const h = await host(locks)
    const { client, link } = await connect(locks)
    ok(await client.call({ op: 'channel.open', channel: 1 }))
    ok(await client.call({ op: 'queue.declare', channel: 1, queue: 'q' }))

    const evil = new BroadcastChannel(brokerChannelName('/'))
    const posts: unknown[] = [
      null,
      42,
      'hello',
      [],
      { from: 1, frames: [] },
      { from: 'x', frames: 'nope' },
      { from: 'x'.repeat(500), frames: [] },
      { from: 'stranger', frames: [{ op: 'basic.ack', channel: 1, deliveryTag: 1 }] },
      { from: 'stranger', frames: [{ op: 'hello', clientId: 'someone-else', protocol: PROTOCOL_VERSION, kind: 'window' }] },
      { from: 'stranger', frames: [{ op: 'hello', clientId: 'stranger', protocol: 999, kind: 'window' }] },
      { from: link.clientId, frames: [{ op: 'no.such.op', channel: 1, id: 1e9 }, 7, null, { op: 'basic.ack' }] },
      { from: link.clientId, frames: new Array(20_000).fill({ op: 'channel.open', channel: 9 }) },
      { from: link.clientId, frames: [{ op: 'goodbye', clientId: 'someone-else' }] },
      { from: 'stranger', frames: [{ op: 'ping', clientId: 'stranger', nonce: 'x' }] },
    ]
    for (const post of posts) evil.postMessage(post)
    evil.close()
    await sleep(50)

    // The client still works.
    ok(await client.call({ op: 'basic.publish', channel: 1, exchange: '', routingKey: 'q', properties: {}, body: 'fine' }))
    expect(h.broker.hasClient(link.clientId)).toBe(true)
    expect(h.host.stats.dropped).toBeGreaterThan(5)
    // The stranger, and the frames in the client's name that named no session: the client,
    // which holds a session, ignores an answer that names none from its own broker.
    expect(h.host.stats.unknownSessions).toBe(2)
    expect(client.downs).toEqual([])
    expect((link as ClientLink).stats.reconnects).toBe(0)
  })

  it("a stranger hears 'unknown-session' at most once per interval", async () => {
    const locks = new FakeLocks()
    const h = await host(locks)
    const heard: unknown[] = []
    const inbox = new BroadcastChannel(clientChannelName('/', 'stranger'))
    inbox.onmessage = (e) => heard.push(e.data)
    cleanup.push(() => inbox.close())
    const out = new BroadcastChannel(brokerChannelName('/'))
    for (let i = 0; i < 50; i++) out.postMessage({ from: 'stranger', frames: [{ op: 'channel.open', channel: 1 }] })
    out.postMessage({ from: 'stranger', frames: [{ op: 'ping', clientId: 'stranger', nonce: 7 }] })
    out.close()
    await until(() => heard.length === 2, 1000, 'answers')
    await sleep(30)
    expect(heard).toEqual([
      [{ op: 'unknown-session', clientId: 'stranger', epoch: h.broker.epoch }],
      [{ op: 'pong', nonce: 7, epoch: h.broker.epoch }],
    ])
  })

  it('vhosts are isolated', async () => {
    const locks = new FakeLocks()
    await host(locks, '/')
    const other = await host(locks, 'other')
    const a = await connect(locks, { vhost: '/' })
    const b = await connect(locks, { vhost: 'other' })
    expect(b.welcome.brokerId).toBe(other.broker.brokerId)
    expect(a.welcome.brokerId).not.toBe(b.welcome.brokerId)
    ok(await a.client.call({ op: 'channel.open', channel: 1 }))
    ok(await b.client.call({ op: 'channel.open', channel: 1 }))
    ok(await a.client.call({ op: 'queue.declare', channel: 1, queue: 'only-in-root' }))
    const missing = await b.client.call({ op: 'queue.declare', channel: 1, queue: 'only-in-root', passive: true })
    expect(missing).toMatchObject({ op: 'error', error: { replyCode: 404 } })
  })
})

describe('BroadcastChannel link, edge cases', () => {
  it('a frame structured clone refuses gets an EncodeError reply; the rest of its batch still goes', async () => {
    const locks = new FakeLocks()
    await host(locks)
    const { client } = await connect(locks)
    ok(await client.call({ op: 'channel.open', channel: 1 }))
    ok(await client.call({ op: 'queue.declare', channel: 1, queue: 'q' }))
    const [bad, good] = await Promise.all([
      client.call({ op: 'basic.publish', channel: 1, exchange: '', routingKey: 'q', properties: {}, body: () => 1 }),
      client.call({ op: 'basic.publish', channel: 1, exchange: '', routingKey: 'q', properties: {}, body: 'fine' }),
    ])
    expect(bad).toMatchObject({ op: 'error', error: { name: 'EncodeError', code: 'ENCODE' } })
    expect(good.op).toBe('ok')
  })

  it('a request after close() gets a CONNECTION_CLOSED reply', async () => {
    const locks = new FakeLocks()
    await host(locks)
    const { client, link } = await connect(locks)
    await link.close()
    expect(await client.call({ op: 'channel.open', channel: 1 })).toMatchObject({ op: 'error', error: { code: 'CONNECTION_CLOSED' } })
    expect(locks.held()).not.toContain(`warren:/:client:${link.clientId}`)
  })

  it('frames from another broker session never reach the client while it is down', async () => {
    const locks = new FakeLocks()
    const first = await startHost(locks)
    const { client, link } = await connect(locks)
    first.kill()
    await until(() => link.state === 'down', 1000, 'down')
    // A stale delivery posted on the client's channel while down is ignored.
    const spoof = new BroadcastChannel(clientChannelName('/', link.clientId))
    spoof.postMessage([{ op: 'basic.deliver', channel: 1, consumerTag: 'x', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', properties: {}, body: 1 }])
    spoof.close()
    await sleep(30)
    expect(client.events).toEqual([])
  })
})
