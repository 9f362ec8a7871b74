// Regressions found by the protocol fuzzer, at the link host in Node.
import { describe, expect, it } from 'vitest'
import { holdLock } from '../../src/transport/locks.js'
import { brokerChannelName, clientChannelName, clientLockName } from '../../src/transport/names.js'
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import { FakeLocks } from '../transport/fake-locks.js'
import { startHost } from '../transport/helpers.js'

describe('link host', () => {
  it('a hard error in the middle of a batch: the client still gets the replies before it, the error and connection.closed', async () => {
    const locks = new FakeLocks()
    const vhost = `hard-error-${Date.now()}`
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
      out.postMessage({
        from: 'c1',
        session,
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
      out.close()
      inbox.close()
      release()
      host.kill()
    }
  })
})
