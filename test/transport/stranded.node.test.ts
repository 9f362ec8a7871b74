// A live client must never be stranded by frames posted in its name. Before sessions had ids, a
// goodbye and a hello forged in a client's name (or sent by a stale context of the same id) made
// the broker open a fresh session with no channels; the real client ignored the new welcome and
// every later frame failed with CHANNEL_ERROR for ever. Real connections, over the real
// BroadcastChannel and MessagePort links in Node (a MessageChannel plays the SharedWorker's port).
import { afterEach, describe, expect, it } from 'vitest'
import { Connection, Queue, type Message } from '../../src/index.js'
import { Broker } from '../../src/engine/broker.js'
import { LinkHost, serveBroadcast, servePort } from '../../src/hosts/broadcast-host.js'
import { systemClock } from '../../src/hosts/system-clock.js'
import type { ClientBatch } from '../../src/protocol/frames.js'
import { isAttachMessage } from '../../src/protocol/notices.js'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { broadcastWire } from '../../src/transport/broadcast-channel.js'
import { ClientLink } from '../../src/transport/client-link.js'
import type { Connector } from '../../src/transport/link.js'
import { holdLock } from '../../src/transport/locks.js'
import { portWire } from '../../src/transport/message-port.js'
import { brokerChannelName, brokerLockName } from '../../src/transport/names.js'
import { FakeLocks } from './fake-locks.js'
import { until } from './helpers.js'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

let vhostNo = 0

async function world(kind: 'broadcast' | 'port') {
  const vhost = `stranded-${process.pid}-${++vhostNo}`
  const locks = new FakeLocks()
  const brokerCtx = locks.context()
  await holdLock(brokerCtx, brokerLockName(vhost))
  const broker = await Broker.start({ vhost, clock: systemClock, storage: new MemoryStorage() })
  const host = new LinkHost(broker, { vhost, locks: brokerCtx })
  const stops = [serveBroadcast(host)]
  const worker = new MessageChannel()
  worker.port2.onmessage = (event) => {
    const port = event.ports[0]
    if (isAttachMessage(event.data) && port) stops.push(servePort(host, port))
  }
  // A script of the origin: posts on the broker channel, and reads every batch posted there.
  const forger = new BroadcastChannel(brokerChannelName(vhost))
  const sniffed = new Map<string, string>()
  forger.onmessage = (event: MessageEvent<ClientBatch>) => {
    if (typeof event.data?.session === 'string') sniffed.set(event.data.from, event.data.session)
  }
  const links: ClientLink[] = []
  const connector: Connector = async (options) => {
    const clientId = crypto.randomUUID()
    const openWire = kind === 'port' ? portWire(() => worker.port1) : broadcastWire(vhost, clientId)
    const link = new ClientLink({ ...options, clientId, openWire, locks: locks.context(), lifecycle: null, kind: 'node' })
    links.push(link)
    const welcome = await link.start()
    return { link, welcome }
  }
  const connections: Connection[] = []
  const open = async () => {
    const conn = await Connection.open({ url: `shared://${vhost}`, transport: connector, requestTimeout: 3000 })
    connections.push(conn)
    return conn
  }
  cleanup.push(async () => {
    for (const conn of connections) await conn.close()
    for (const stop of stops) stop()
    host.close()
    forger.close()
    worker.port1.close()
    worker.port2.close()
    await broker.stop()
  })
  return { host, broker, open, forger, sniffed, links }
}

const forged = (clientId: string, frames: unknown[], session?: string) => (session === undefined ? { from: clientId, frames } : { from: clientId, session, frames })

describe.each(['broadcast', 'port'] as const)('a live client over the %s link', (kind) => {
  it('keeps its session, channels and consumer through a goodbye and a hello forged in its name', async () => {
    const w = await world(kind)
    const consumerConn = await w.open()
    const producerConn = await w.open()
    const got: Message<number>[] = []
    await consumerConn.consumer(new Queue<number>('jobs'), { onMessage: (m) => void got.push(m), noAck: true }).consume()
    await producerConn.producer().publish(1, { routingKey: 'jobs' })
    await until(() => got.length === 1, 3000, 'the first delivery')

    const id = consumerConn.clientId
    const opened = w.host.stats.opened
    // A stale context of the same id, or a script that does not know the session.
    w.forger.postMessage(forged(id, [{ op: 'goodbye', clientId: id, session: 'f'.repeat(32) }]))
    w.forger.postMessage(forged(id, [{ op: 'hello', clientId: id, protocol: PROTOCOL_VERSION, kind: 'window' }]))
    await until(() => w.host.stats.refusedHellos === 1, 3000, 'the forged hello to be refused')

    await producerConn.producer().publish(2, { routingKey: 'jobs' })
    await until(() => got.length === 2, 3000, 'the delivery after the forgery')
    await consumerConn.producer().publish(3, { routingKey: 'jobs' })
    await until(() => got.length === 3, 3000, 'its own publish')
    expect(got.map((m) => m.body)).toEqual([1, 2, 3])
    expect(w.host.stats.opened).toBe(opened)
    expect(consumerConn.state).toBe('connected')
  })
})

describe('a live client over the broadcast link, against a script that reads its session id', () => {
  it('is never stranded: when its session is ended and taken, it reconnects and its consumer resumes', async () => {
    const w = await world('broadcast')
    const consumerConn = await w.open()
    const producerConn = await w.open()
    const got: Message<number>[] = []
    await consumerConn.consumer(new Queue<number>('jobs'), { onMessage: (m) => void got.push(m), noAck: true }).consume()
    await producerConn.producer().publish(1, { routingKey: 'jobs' })
    await until(() => got.length === 1, 3000, 'the first delivery')

    const id = consumerConn.clientId
    await until(() => w.sniffed.has(id), 3000, 'a batch of the consumer on the broker channel')
    const session = w.sniffed.get(id)!
    const recovered = new Promise<void>((resolve) => {
      void (async () => {
        for await (const status of consumerConn.status) if (status.type === 'connected') return resolve()
      })()
    })
    // Ended (the goodbye names the right session), then taken over by a hello in its name.
    w.forger.postMessage(forged(id, [{ op: 'goodbye', clientId: id, session }], session))
    w.forger.postMessage(forged(id, [{ op: 'hello', clientId: id, protocol: PROTOCOL_VERSION, kind: 'window', session }]))
    await recovered

    await producerConn.producer().publish(2, { routingKey: 'jobs' })
    await until(() => got.length === 2, 3000, 'the delivery after the takeover')
    await consumerConn.producer().publish(3, { routingKey: 'jobs' })
    await until(() => got.length === 3, 3000, 'its own publish')
    expect(got.map((m) => m.body)).toEqual([1, 2, 3])
    expect(consumerConn.state).toBe('connected')
  })
})
