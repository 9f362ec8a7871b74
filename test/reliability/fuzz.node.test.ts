// The protocol fuzzer against the real link host and engine in Node (Node's BroadcastChannel,
// an in-memory lock manager), with the host instrumented to count per kind of post.
import { describe, expect, it } from 'vitest'
import { FakeLocks } from '../transport/fake-locks.js'
import { startHost } from '../transport/helpers.js'
import { accountFuzz } from './fuzz-accounting.js'
import { runFuzzer } from './pages/fuzz.js'
import { tallyHost } from './pages/tally.js'

describe('protocol fuzzing in Node', () => {
  it('every bad frame is answered with a typed error or dropped and counted; the host never throws', async () => {
    const locks = new FakeLocks()
    const vhost = `fuzz-node-${Date.now()}`
    const host = await startHost(locks, vhost)
    // The workload's queue exists, as in the browser run (so redeclaring it is never a durable write).
    host.broker.connect('setup', () => {})
    host.broker.receive('setup', { op: 'channel.open', channel: 1 })
    host.broker.receive('setup', { op: 'queue.declare', channel: 1, queue: 'rel.q0', durable: true, arguments: { 'x-dead-letter-exchange': 'rel.dlx' } })
    // The workload's queue exists, as in the browser run (so redeclaring it is never a durable write).
    host.broker.connect('setup', () => {})
    host.broker.receive('setup', { op: 'channel.open', channel: 1 })
    host.broker.receive('setup', { op: 'queue.declare', channel: 1, queue: 'rel.q0', durable: true, arguments: { 'x-dead-letter-exchange': 'rel.dlx' } })
    const tally = tallyHost(host.host, host.broker)
    try {
      const report = await runFuzzer(
        { vhost, durationMs: 1500, seed: 7, protectedQueues: ['rel.q0'], protectedExchanges: [''], intervalMs: 2, sessions: 3 },
        locks.context(),
      )
      // Let the host work through every post.
      for (let last = -1; last !== host.host.stats.batches; ) {
        last = host.host.stats.batches
        await new Promise((r) => setTimeout(r, 200))
      }
      const account = accountFuzz(report, tally)
      const detail = JSON.stringify({ account, report, host: host.host.stats, broker: host.broker.stats })
      expect(report.violations, detail).toEqual([])
      expect(account.unaccounted, detail).toBe(0)
      expect(account.junkUncounted, detail).toBe(0)
      expect(report.errors, detail).toBeGreaterThan(100)
    } finally {
      host.kill()
    }
  }, 30_000)
})
