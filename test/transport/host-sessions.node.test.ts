// Sessions at the link host: a session in use is never replaced by a hello that does not name
// it; a session no batch has named yet may have lost its welcome, so a hello repeats it (same
// medium) or moves the session to the medium the hello came through. The second case is a
// window whose SharedWorker had not served within a second: its link says hello over
// BroadcastChannel instead, and the hellos it had posted on its (now closed) port are run later:
// those hear the BroadcastChannel session's welcome and change nothing (seen once in a long
// reliability run, where such a late hello replaced the session the window had just been given).
import { describe, expect, it, vi } from 'vitest'
import { Broker } from '../../src/engine/broker.js'
import { LinkHost, type Endpoint } from '../../src/hosts/broadcast-host.js'
import { systemClock } from '../../src/hosts/system-clock.js'
import type { ServerFrame, Welcome } from '../../src/protocol/frames.js'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { clientChannelName } from '../../src/transport/names.js'
import { sleep } from './helpers.js'

/** A fake port: what the host posts on it is kept. */
function port() {
  const posted: ServerFrame[] = []
  const endpoint: Endpoint = { post: (frames) => void posted.push(...(frames as ServerFrame[])), close() {} }
  return { via: { port: endpoint, endpoint }, posted, welcomes: () => posted.filter((f): f is Welcome => f.op === 'welcome') }
}

const hello = (clientId: string, session?: string) => ({
  from: clientId,
  frames: [{ op: 'hello', clientId, protocol: PROTOCOL_VERSION, kind: 'window', ...(session ? { session } : {}) }],
})

async function host() {
  const broker = await Broker.start({ vhost: 'sessions', clock: systemClock })
  // No lock manager: only what a hello proves counts.
  return { broker, host: new LinkHost(broker, { vhost: 'sessions', locks: undefined as never }) }
}

describe('link host sessions', () => {
  it('a hello resent before the welcome arrived hears the same welcome; no second session', async () => {
    const { host: h } = await host()
    const a = port()
    h.receive(hello('c1'), a.via)
    h.receive(hello('c1'), a.via)
    await sleep(0)
    expect(a.welcomes()).toHaveLength(2)
    expect(a.welcomes()[1]!.session).toBe(a.welcomes()[0]!.session)
    expect(h.stats.opened).toBe(1)
  })

  it('a session no batch has named moves to the medium a hello came through; once used, it stays', async () => {
    const { host: h, broker } = await host()
    const lost = port()
    const next = port()
    const forger = port()
    h.receive(hello('c1'), lost.via) // its welcome is never read
    await sleep(0)
    h.receive(hello('c1'), next.via)
    await sleep(0)
    const session = next.welcomes()[0]!.session
    expect(session).not.toBe(lost.welcomes()[0]!.session)
    h.receive({ from: 'c1', session, frames: [{ op: 'channel.open', channel: 1, id: 1 }] }, next.via)
    await sleep(0)
    expect(next.posted).toContainEqual({ op: 'ok', id: 1, result: {} })

    // In use now: a hello that does not name it, from anywhere, changes nothing.
    h.receive(hello('c1'), forger.via)
    h.receive(hello('c1', 'f'.repeat(32)), forger.via)
    h.receive(hello('c1'), next.via)
    await sleep(0)
    expect(forger.welcomes()).toEqual([])
    expect(h.stats.refusedHellos).toBe(3)
    h.receive({ from: 'c1', session, frames: [{ op: 'channel.open', channel: 2, id: 2 }] }, next.via)
    await sleep(0)
    expect(next.posted).toContainEqual({ op: 'ok', id: 2, result: {} })
    expect(broker.hasClient('c1')).toBe(true)

    // A hello naming it replaces it (the client lost the session and says hello again).
    h.receive(hello('c1', session), next.via)
    await sleep(0)
    expect(next.welcomes()).toHaveLength(2)
    expect(next.welcomes()[1]!.session).not.toBe(session)
  })

  it("a hello its port posted before the window moved to BroadcastChannel, run late, leaves the BroadcastChannel session alone", async () => {
    // The window's link gave its port up (the SharedWorker had not served within a second) and
    // said hello over BroadcastChannel; the hello still queued on the closed port runs after.
    const { host: h } = await host()
    const inbox = new BroadcastChannel(clientChannelName('sessions', 'c1'))
    const heard: ServerFrame[] = []
    inbox.onmessage = (event: MessageEvent) => void heard.push(...(event.data as ServerFrame[]))
    try {
      h.receive(hello('c1'))
      await vi.waitFor(() => expect(heard.filter((f) => f.op === 'welcome')).toHaveLength(1))
      const session = (heard.find((f) => f.op === 'welcome') as Welcome).session
      const stale = port()
      h.receive(hello('c1'), stale.via)
      await sleep(0)
      // No second session: the port hears the same welcome (a window really on that port would
      // be told its session is elsewhere at its first batch and say hello naming it).
      expect(h.stats.opened).toBe(1)
      expect(stale.welcomes().map((w) => w.session)).toEqual([session])
      h.receive({ from: 'c1', session, frames: [{ op: 'channel.open', channel: 1, id: 1 }] })
      await vi.waitFor(() => expect(heard).toContainEqual({ op: 'ok', id: 1, result: {} }))
      expect(heard.filter((f) => f.op === 'welcome')).toHaveLength(1)
    } finally {
      inbox.close()
    }
  })
})
