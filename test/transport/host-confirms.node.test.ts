// The link host sends a publisher's consecutive confirms as one ranged `ok`, and a client
// library resolves each publish from it.
import { describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { holdLock } from '../../src/transport/locks.js'
import { brokerChannelName, clientChannelName, clientLockName } from '../../src/transport/names.js'
import { FakeLocks } from './fake-locks.js'
import { startHost } from './helpers.js'

describe('link host confirms', () => {
  it('answers a batch of publishes with one ok for the run of ids, breaking the run where a result differs', async () => {
    const locks = new FakeLocks()
    const vhost = `confirms-${Date.now()}`
    const host = await startHost(locks, vhost)
    const client = locks.context()
    const release = await holdLock(client, clientLockName(vhost, 'c1'))
    const out = new BroadcastChannel(brokerChannelName(vhost))
    const inbox = new BroadcastChannel(clientChannelName(vhost, 'c1'))
    const seen: Array<Record<string, unknown>> = []
    inbox.onmessage = (event: MessageEvent<Array<Record<string, unknown>>>) => seen.push(...event.data)
    try {
      out.postMessage({ from: 'c1', frames: [{ op: 'hello', clientId: 'c1', protocol: PROTOCOL_VERSION, kind: 'node' }] })
      await expect.poll(() => seen.some((f) => f.op === 'welcome')).toBe(true)
      const session = seen.find((f) => f.op === 'welcome')!.session
      const publish = (id: number, routingKey: string) => ({ op: 'basic.publish', channel: 1, id, exchange: '', routingKey, properties: { deliveryMode: 1 }, body: id })
      out.postMessage({
        from: 'c1',
        session,
        frames: [
          { op: 'channel.open', channel: 1, id: 1 },
          { op: 'queue.declare', channel: 1, id: 2, queue: 'q' },
          ...Array.from({ length: 50 }, (_, i) => publish(3 + i, 'q')),
          // Unroutable: confirmed with another result, so the run ends before it.
          publish(53, 'nowhere'),
          publish(54, 'q'),
          publish(55, 'q'),
        ],
      })
      await expect.poll(() => seen.filter((f) => f.op === 'ok').some((f) => (f.through ?? f.id) === 55)).toBe(true)
      const oks = seen.filter((f) => f.op === 'ok' && (f.id as number) >= 3).map((f) => [f.id, f.through, f.result])
      expect(oks).toEqual([
        [3, 52, { routed: true }],
        [53, undefined, { routed: false }],
        [54, 55, { routed: true }],
      ])
    } finally {
      out.close()
      inbox.close()
      release()
      host.kill()
    }
  })
})
