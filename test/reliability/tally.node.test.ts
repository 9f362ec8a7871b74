// The fuzz accounting follows frames whose outcome comes after their post: a durable declare
// settles once its storage write does, and by then a hard error later in the same batch may
// have ended the session. That reply is owed to nobody; the engine counts it, and the tally
// attributes it to the post the command came in (it used to be neither answered nor counted).
import { describe, expect, it } from 'vitest'
import { FakeLocks } from '../transport/fake-locks.js'
import { rawClient, startHost } from '../transport/helpers.js'
import { accountFuzz } from './fuzz-accounting.js'
import type { FuzzReport } from './pages/fuzz.js'
import { tallyHost } from './pages/tally.js'

describe('fuzz accounting', () => {
  it('counts a reply owed to a session that ended before its storage write settled, under its own post', async () => {
    const locks = new FakeLocks()
    const vhost = `tally-${process.pid}`
    const host = await startHost(locks, vhost)
    const tally = tallyHost(host.host, host.broker)
    const client = await rawClient(locks, vhost)
    const { seen } = client
    try {
      const frames = [
        { op: 'channel.open', channel: 1, id: 1 },
        // A storage write: answered once it settles.
        { op: 'queue.declare', channel: 1, id: 2, queue: 'durable-q', durable: true },
        // 503: a hard error ends the session at once.
        { op: 'exchange.declare', channel: 1, id: 3, exchange: 'x', type: 'no-such-type' },
      ]
      client.post({ frames, k: 'wrong' })
      await expect.poll(() => host.broker.queues.has('durable-q')).toBe(true)
      await expect.poll(() => tally.wrong?.counted).toBe(2)
      const ok = seen.filter((f) => f.op === 'ok').length
      expect(ok).toBe(1)
      const report = { okByKind: { wrong: ok }, byKind: {}, posts: 0 } as unknown as FuzzReport
      expect(accountFuzz(report, tally).perKind.wrong).toEqual({ frames: 3, counted: 2, ok: 1, unaccounted: 0 })
    } finally {
      client.close()
      host.kill()
    }
  })
})
