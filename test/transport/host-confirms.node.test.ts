// The link host sends a publisher's consecutive confirms as one ranged `ok`, and a client
// library resolves each publish from it.
import { describe, expect, it } from 'vitest'
import { FakeLocks } from './fake-locks.js'
import { rawClient, startHost } from './helpers.js'

describe('link host confirms', () => {
  it('answers a batch of publishes with one ok for the run of ids, breaking the run where a result differs', async () => {
    const locks = new FakeLocks()
    const vhost = `confirms-${Date.now()}`
    const host = await startHost(locks, vhost)
    const client = await rawClient(locks, vhost)
    const { seen } = client
    try {
      const publish = (id: number, routingKey: string) => ({ op: 'basic.publish', channel: 1, id, exchange: '', routingKey, properties: { deliveryMode: 1 }, body: id })
      client.post({
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
      client.close()
      host.kill()
    }
  })
})
