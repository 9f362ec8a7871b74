// Regressions found by the protocol fuzzer, at the link host in Node.
import { describe, expect, it } from 'vitest'
import { FakeLocks } from '../transport/fake-locks.js'
import { rawClient, startHost } from '../transport/helpers.js'

describe('link host', () => {
  it('a hard error in the middle of a batch: the client still gets the replies before it, the error and connection.closed', async () => {
    const locks = new FakeLocks()
    const vhost = `hard-error-${Date.now()}`
    const host = await startHost(locks, vhost)
    const client = await rawClient(locks, vhost)
    const { seen } = client
    try {
      client.post({
        frames: [
          { op: 'channel.open', channel: 1, id: 1 },
          // An unknown exchange type is 503 COMMAND_INVALID: a hard error, the connection closes.
          { op: 'exchange.declare', channel: 1, id: 2, exchange: 'x', type: 'no-such-type' },
          { op: 'channel.open', channel: 2, id: 3 },
        ],
      })
      await expect.poll(() => seen.some((f) => f.op === 'unknown-session')).toBe(true)
      const ops = seen.filter((f) => f.op !== 'welcome').map((f) => (f.op === 'ok' || f.op === 'error' ? `${f.op}:${f.id}` : f.op))
      expect(ops).toEqual(['ok:1', 'error:2', 'connection.closed', 'unknown-session'])
    } finally {
      client.close()
      host.kill()
    }
  })
})
