// One contract, three links: the same cases run on the in-process link, the BroadcastChannel
// link and the MessagePort link (Node has both primitives; an in-memory lock manager stands in
// for Web Locks, and a MessageChannel plays the SharedWorker's port). The browser runs the
// real links in test/e2e/shared/link.e2e.test.ts.
//
// The forging cases do not apply to the in-process link: nothing else can post in a client's
// name there (there is no shared medium), so they run on the two cross-context links only.
import { afterEach, describe, expect, it } from 'vitest'
import { createInProcessTransport } from '../../src/transport/in-process.js'
import { Broker } from '../../src/engine/broker.js'
import { LinkHost, serveBroadcast, servePort } from '../../src/hosts/broadcast-host.js'
import { systemClock } from '../../src/hosts/system-clock.js'
import type { ClientBatch, ServerEvent, Welcome } from '../../src/protocol/frames.js'
import { isAttachMessage } from '../../src/protocol/notices.js'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { broadcastWire } from '../../src/transport/broadcast-channel.js'
import { ClientLink, type OpenWire } from '../../src/transport/client-link.js'
import type { Link } from '../../src/transport/link.js'
import { holdLock } from '../../src/transport/locks.js'
import { portWire } from '../../src/transport/message-port.js'
import { brokerChannelName, brokerLockName } from '../../src/transport/names.js'
import { FakeLocks } from './fake-locks.js'
import { rig, until, type TestClient } from './helpers.js'

interface Connected {
  link: Link
  welcome: Welcome
  client: TestClient
}

interface LinkRig {
  broker: Broker
  host: LinkHost | undefined
  connect(): Promise<Connected>
  /** The broker goes away without a word (its context dies). */
  lose(): void
  /** Posts a batch the way another context of the origin could (undefined: nothing can). */
  forge?: (batch: ClientBatch) => void
  /** Posts a batch on `link`'s own medium, as the client itself would. */
  postAs?: (link: Link, batch: ClientBatch) => void
  stop(): Promise<void>
}

type RigFactory = (vhost: string) => Promise<LinkRig>

async function crossContextRig(vhost: string, kind: 'broadcast' | 'port'): Promise<LinkRig> {
  const locks = new FakeLocks()
  const brokerCtx = locks.context()
  await holdLock(brokerCtx, brokerLockName(vhost))
  const broker = await Broker.start({ vhost, clock: systemClock, storage: new MemoryStorage() })
  const host = new LinkHost(broker, { vhost, locks: brokerCtx })
  const stops = [serveBroadcast(host)]
  // The SharedWorker's side of a window's port: attach messages hand over link ports.
  const worker = new MessageChannel()
  worker.port2.onmessage = (event) => {
    const port = event.ports[0]
    if (isAttachMessage(event.data) && port) stops.push(servePort(host, port))
  }
  const links: ClientLink[] = []
  const wires = new Map<Link, { post(batch: ClientBatch): void }>()
  const forger = new BroadcastChannel(brokerChannelName(vhost))
  let lost = false
  const rigged: LinkRig = {
    broker,
    host,
    async connect() {
      const clientId = crypto.randomUUID()
      const base: OpenWire = kind === 'port' ? portWire(() => worker.port1) : broadcastWire(vhost, clientId)
      // Keeps the wire so a test can post on the client's own medium (its port).
      let link: ClientLink | undefined
      const openWire: OpenWire = (receive) => {
        const wire = base(receive)
        if (link) wires.set(link, wire)
        return wire
      }
      link = new ClientLink({ vhost, clientId, connectTimeout: 2000, openWire, locks: locks.context(), lifecycle: null, kind: 'node' })
      links.push(link)
      const welcome = await link.start()
      return { link, welcome, client: rig(link) }
    },
    lose() {
      if (lost) return
      lost = true
      for (const stop of stops.splice(0)) stop()
      host.close()
      brokerCtx.kill()
    },
    forge: (batch) => forger.postMessage(batch),
    postAs: (link, batch) => wires.get(link)!.post(batch),
    async stop() {
      for (const link of links) await link.close()
      rigged.lose()
      forger.close()
      worker.port1.close()
      worker.port2.close()
      await broker.stop()
    },
  }
  return rigged
}

async function inProcessRig(vhost: string): Promise<LinkRig> {
  const broker = await Broker.start({ vhost, clock: systemClock })
  const transport = createInProcessTransport(() => broker)
  return {
    broker,
    host: undefined,
    async connect() {
      const { link, welcome } = await transport.connector({ vhost, connectTimeout: 2000 })
      return { link, welcome, client: rig(link) }
    },
    lose: () => transport.dropAll(),
    async stop() {
      for (const link of [...transport.links]) await link.close()
      await broker.stop()
    },
  }
}

const rigs: Array<[string, RigFactory, boolean]> = [
  ['in-process', inProcessRig, false],
  ['BroadcastChannel', (vhost) => crossContextRig(vhost, 'broadcast'), true],
  ['MessagePort', (vhost) => crossContextRig(vhost, 'port'), true],
]

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

let vhostNo = 0
async function start(factory: RigFactory): Promise<LinkRig> {
  const r = await factory(`contract-${process.pid}-${++vhostNo}`)
  cleanup.push(() => r.stop())
  return r
}

const ok = (frame: ServerEvent) => {
  if (frame.op !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(frame)}`)
  return frame.result as Record<string, unknown>
}

/** A channel, a queue, a consumer on it: what a stranded client would lose. */
async function consuming(c: TestClient, queue: string): Promise<void> {
  ok(await c.call({ op: 'channel.open', channel: 1 }))
  ok(await c.call({ op: 'queue.declare', channel: 1, queue }))
  ok(await c.call({ op: 'basic.consume', channel: 1, queue, consumerTag: 'c', noAck: true }))
}

const publish = (c: TestClient, queue: string, body: unknown) =>
  c.call({ op: 'basic.publish', channel: 1, exchange: '', routingKey: queue, properties: {}, body })

const delivered = (c: TestClient) => c.events.filter((e) => e.op === 'basic.deliver').map((e) => (e as { body: unknown }).body)

describe.each(rigs)('link contract: %s', (_name, factory, crossContext) => {
  it('hello/welcome: the welcome names the client, the broker and an unguessable session', async () => {
    const r = await start(factory)
    const a = await connect(r)
    const b = await connect(r)
    expect(a.welcome).toMatchObject({ op: 'welcome', clientId: a.link.clientId, protocol: PROTOCOL_VERSION, epoch: r.broker.epoch, brokerId: r.broker.brokerId })
    expect(a.welcome.session).toMatch(/^[0-9a-f]{32}$/)
    expect(b.welcome.session).not.toBe(a.welcome.session)
    ok(await a.client.call({ op: 'channel.open', channel: 1 }))
  })

  it('goodbye: close() ends the session at once, and later requests get CONNECTION_CLOSED', async () => {
    const r = await start(factory)
    const a = await connect(r)
    const id = a.link.clientId
    await a.link.close()
    await until(() => !r.broker.hasClient(id), 2000, 'the session to end')
    expect(await a.client.call({ op: 'channel.open', channel: 1 })).toMatchObject({ op: 'error', error: { code: 'CONNECTION_CLOSED' } })
  })

  it('link loss with requests pending: each request is answered with an error, the link reports down', async () => {
    const r = await start(factory)
    const a = await connect(r)
    ok(await a.client.call({ op: 'channel.open', channel: 1 }))
    ok(await a.client.call({ op: 'queue.declare', channel: 1, queue: 'q' }))
    // Sent in the same turn as the loss: they never reach a broker that answers.
    const pending = [publish(a.client, 'q', 1), publish(a.client, 'q', 2)]
    r.lose()
    await until(() => a.client.downs.length === 1, 3000, 'down')
    // Every request is answered (ok if it got through before the loss, else an error), none hangs.
    for (const reply of await Promise.all(pending)) expect(['ok', 'error']).toContain(reply.op)
    const later = await a.client.call({ op: 'channel.open', channel: 2 })
    expect(later).toMatchObject({ op: 'error', error: { code: 'CONNECTION_CLOSED' } })
  })

  it.runIf(crossContext)('a stale or forged goodbye and hello in a live client\'s name change nothing: it keeps its session and its consumer', async () => {
    const r = await start(factory)
    const a = await connect(r)
    const producer = await connect(r)
    await consuming(a.client, 'work')
    ok(await producer.client.call({ op: 'channel.open', channel: 1 }))
    const id = a.link.clientId
    const opened = r.host!.stats.opened

    // What a stale context of the same id, or a script that does not know the session, can post.
    r.forge!({ from: id, frames: [{ op: 'goodbye', clientId: id, session: 'f'.repeat(32) }] })
    r.forge!({ from: id, frames: [{ op: 'hello', clientId: id, protocol: PROTOCOL_VERSION, kind: 'window' }] })
    r.forge!({ from: id, frames: [{ op: 'hello', clientId: id, protocol: PROTOCOL_VERSION, kind: 'window', session: '0'.repeat(32) }] })
    await until(() => r.host!.stats.refusedHellos === 2, 2000, 'the forged hellos to be refused')

    ok(await publish(producer.client, 'work', 'after the forgery'))
    await until(() => delivered(a.client).includes('after the forgery'), 2000, 'the delivery')
    ok(await a.client.call({ op: 'channel.open', channel: 2 }))
    expect(r.host!.stats.opened).toBe(opened)
    expect(a.client.downs).toEqual([])
    expect(a.client.welcomes).toEqual([])
  })

  it.runIf(crossContext)('a batch naming a stale session is answered unknown-session; the client says hello again and works', async () => {
    const r = await start(factory)
    const a = await connect(r)
    ok(await a.client.call({ op: 'channel.open', channel: 1 }))
    const stale = a.welcome.session
    // The session ends under the client (a goodbye naming it, from the client's own medium).
    r.postAs!(a.link, { from: a.link.clientId, session: stale, frames: [{ op: 'goodbye', clientId: a.link.clientId, session: stale }] })
    await until(() => a.client.welcomes.length === 1, 2000, 'a new welcome')
    expect(a.client.downs).toHaveLength(1)
    expect(a.client.welcomes[0]!.session).not.toBe(stale)
    ok(await a.client.call({ op: 'channel.open', channel: 1 }))
    // A batch that still names the old session runs nothing.
    const commands = r.host!.stats.commands
    r.postAs!(a.link, { from: a.link.clientId, session: stale, frames: [{ op: 'channel.open', channel: 3, id: 999 }] })
    await until(() => r.host!.stats.unknownSessions > 0, 2000, 'unknown-session')
    expect(r.host!.stats.commands).toBe(commands)
    ok(await a.client.call({ op: 'channel.open', channel: 2 }))
    expect(a.client.downs).toHaveLength(1)
  })
})

async function connect(r: LinkRig): Promise<Connected> {
  return r.connect()
}
