// The broker host runs a big batch in slices, taking turns with other senders: a publisher
// posting thousands of frames at once must not hold back another client's acks behind them.
import { describe, expect, it } from 'vitest'
import type { Broker } from '../../src/engine/broker.js'
import { LinkHost } from '../../src/hosts/broadcast-host.js'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { clientChannelName } from '../../src/transport/names.js'
import { sleep } from './helpers.js'

function fakeBroker() {
  const clients = new Set<string>()
  const seen: Array<[string, number]> = []
  const broker = {
    epoch: 1,
    brokerId: 'b',
    stats: {},
    connect: (id: string) => void clients.add(id),
    disconnect: (id: string) => void clients.delete(id),
    hasClient: (id: string) => clients.has(id),
    receive: (from: string, frame: { n: number }) => void seen.push([from, frame.n]),
  }
  return { broker: broker as unknown as Broker, seen }
}

const hello = (clientId: string) => ({ from: clientId, frames: [{ op: 'hello', clientId, protocol: PROTOCOL_VERSION, kind: 'window' }] })
/** Says hello through a port of its own; `post` sends a batch in the session the welcome named. */
async function welcomed(host: LinkHost, clientId: string): Promise<(frames: unknown[]) => void> {
  let session: string | undefined
  const endpoint = {
    post: (frames: unknown[]) => void (session ??= (frames as Array<{ op: string; session?: string }>).find((f) => f.op === 'welcome')?.session),
    close() {},
  }
  const via = { port: endpoint, endpoint }
  host.receive(hello(clientId), via)
  for (let i = 0; i < 100 && session === undefined; i++) await sleep(1)
  return (frames) => host.receive({ from: clientId, session, frames }, via)
}

const ids = ['0a1b2c3d-0000-4000-8000-000000000001', '0a1b2c3d-0000-4000-8000-000000000002']

describe('LinkHost slices', () => {
  it("runs another sender's small batch after at most one slice of a big one, each sender's frames in order", async () => {
    const { broker, seen } = fakeBroker()
    const host = new LinkHost(broker, { vhost: 'slices' })
    const [a, b] = ids as [string, string]
    const fromA = await welcomed(host, a)
    const fromB = await welcomed(host, b)
    const big = Array.from({ length: 1000 }, (_, n) => ({ op: 'basic.ack', channel: 1, deliveryTag: n + 1, n }))
    fromA(big)
    fromB([{ op: 'basic.ack', channel: 1, deliveryTag: 1, n: 0 }])
    fromA([{ op: 'basic.ack', channel: 1, deliveryTag: 1001, n: 1000 }])
    for (let i = 0; i < 100 && seen.length < 1002; i++) await sleep(5)
    expect(seen).toHaveLength(1002)
    const seenA = seen.filter(([from]) => from === a).map(([, n]) => n)
    expect(seenA).toEqual(Array.from({ length: 1001 }, (_, n) => n))
    expect(seen.findIndex(([from]) => from === b)).toBeLessThanOrEqual(256)
    expect(host.stats.commands).toBe(1002)
    host.close()
  })

  it("a post in a client's name that does not name its session is handled at once, not behind that client's work", async () => {
    const { broker, seen } = fakeBroker()
    const host = new LinkHost(broker, { vhost: 'slices' })
    const [a] = ids as [string, string]
    // Over the broker channel, where anyone can post in a's name.
    const inbox = new BroadcastChannel(clientChannelName('slices', a))
    let session: string | undefined
    inbox.onmessage = (event: MessageEvent<Array<{ op: string; session?: string }>>) => void (session ??= event.data.find((f) => f.op === 'welcome')?.session)
    host.receive(hello(a))
    for (let i = 0; i < 100 && session === undefined; i++) await sleep(1)
    inbox.close()
    host.receive({ from: a, session, frames: Array.from({ length: 1000 }, (_, n) => ({ op: 'basic.ack', channel: 1, deliveryTag: n + 1, n })) })
    const dropped = host.stats.dropped
    host.receive({ from: a, frames: [{ op: 'basic.ack', channel: 1, deliveryTag: 1, n: -1 }, { op: 'basic.ack', channel: 1, deliveryTag: 2, n: -2 }] })
    expect(host.stats.dropped - dropped).toBe(2)
    for (let i = 0; i < 100 && seen.length < 1000; i++) await sleep(5)
    expect(seen.map(([, n]) => n)).toEqual(Array.from({ length: 1000 }, (_, n) => n))
    host.close()
  })
})
