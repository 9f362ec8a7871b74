// Guards of the messages that cross a context boundary beside the frames: the SharedWorker's
// port, the election channel, the network relay and the management signals.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDirectorySignal, parseManagementSignal } from '../../src/protocol/management.js'
import { isAttachMessage, parseElectedNotice, parseNetworkRelay, parsePortNotice, parsePortRequest } from '../../src/protocol/notices.js'

const hostile = new Proxy(
  {},
  {
    get() {
      throw new Error('x')
    },
  },
)

const guards = [isAttachMessage, parsePortRequest, parsePortNotice, parseElectedNotice, parseNetworkRelay, parseManagementSignal, parseDirectorySignal]

describe('boundary message guards', () => {
  it('read what they should, copied without extra fields', () => {
    expect(isAttachMessage({ op: 'attach' })).toBe(true)
    expect(parsePortRequest({ op: 'stats', x: 1 })).toEqual({ op: 'stats' })
    expect(parsePortRequest({ op: 'attach' })).toEqual({ op: 'attach' })
    // [remote] a direct stomp+ws connection's attach: the remote's fields, nothing else
    expect(parsePortRequest({ op: 'attach', remote: { url: 'ws://h:1/ws', login: 'u', passcode: 'p', vhost: '/', x: 1 } })).toEqual({
      op: 'attach',
      remote: { url: 'ws://h:1/ws', login: 'u', passcode: 'p', vhost: '/' },
    })
    expect(parsePortRequest({ op: 'attach', remote: { url: 'wss://h/ws' } })).toEqual({ op: 'attach', remote: { url: 'wss://h/ws' } })
    expect(parsePortNotice({ op: 'ready', epoch: 3, brokerId: 'b', x: 1 })).toEqual({ op: 'ready', epoch: 3, brokerId: 'b' })
    const stats = { op: 'stats', host: { batches: 1 }, broker: { droppedFrames: 0 }, sessions: 2, epoch: 3 }
    expect(parsePortNotice(stats)).toEqual(stats)
    expect(parseElectedNotice({ op: 'elected', brokerId: 'b', epoch: 4, x: 1 })).toEqual({ op: 'elected', brokerId: 'b', epoch: 4 })
    expect(parseNetworkRelay({ op: 'network', online: false })).toEqual({ op: 'network', online: false })
    expect(parseNetworkRelay({ op: 'network?' })).toEqual({ op: 'network?' })
    expect(parseManagementSignal({ op: 'management.open', consoleId: 'c' })).toEqual({ op: 'management.open', consoleId: 'c' })
    expect(parseManagementSignal({ op: 'management.close', consoleId: 'c' })).toEqual({ op: 'management.close', consoleId: 'c' })
    expect(parseManagementSignal({ op: 'management.ready', consoleId: 'c', epoch: 1, brokerId: 'b' })).toEqual({
      op: 'management.ready',
      consoleId: 'c',
      epoch: 1,
      brokerId: 'b',
    })
    expect(parseDirectorySignal({ op: 'vhosts?' })).toEqual({ op: 'vhosts?' })
    expect(parseDirectorySignal({ op: 'vhost', vhost: '/', epoch: 1, brokerId: 'b' })).toEqual({ op: 'vhost', vhost: '/', epoch: 1, brokerId: 'b' })
  })

  it.each([
    [parsePortRequest, { op: 'attach!' }],
    [parsePortRequest, { op: 'attach', remote: { url: 'http://h/ws' } }],
    [parsePortRequest, { op: 'attach', remote: { url: 'ws://h/ws', login: 5 } }],
    [parsePortRequest, { op: 'attach', remote: { url: 'ws://h/ws', passcode: 'p'.repeat(5000) } }],
    [parsePortRequest, { op: 'attach', remote: 'ws://h/ws' }],
    [parsePortNotice, { op: 'ready', epoch: '3', brokerId: 'b' }],
    [parsePortNotice, { op: 'ready', epoch: 3 }],
    [parsePortNotice, { op: 'stats', host: { batches: 'x' }, broker: {}, sessions: 1, epoch: 1 }],
    [parsePortNotice, { op: 'stats', host: {}, broker: {}, sessions: 1 }],
    [parseElectedNotice, { op: 'elected', brokerId: 5, epoch: 1 }],
    [parseElectedNotice, { op: 'elected', brokerId: 'b', epoch: NaN }],
    [parseNetworkRelay, { op: 'network', online: 'yes' }],
    [parseManagementSignal, { op: 'management.open', consoleId: '' }],
    [parseManagementSignal, { op: 'management.open', consoleId: 'x'.repeat(201) }],
    [parseManagementSignal, { op: 'management.ready', consoleId: 'c', epoch: 1 }],
    [parseManagementSignal, { op: 'management.nope', consoleId: 'c' }],
    [parseDirectorySignal, { op: 'vhost', vhost: 1, epoch: 1, brokerId: 'b' }],
  ] as Array<[(data: unknown) => unknown, unknown]>)('%o refuses %j', (guard, raw) => {
    expect(guard(raw)).toBeNull()
  })

  it('never throw, whatever arrives', () => {
    for (const guard of guards) {
      expect(guard(hostile)).toBeFalsy()
      for (const raw of [null, undefined, 1, 'attach', [], [{ op: 'attach' }]]) expect(guard(raw)).toBeFalsy()
      fc.assert(fc.property(fc.anything(), (raw) => void guard(raw)), { numRuns: 200 })
    }
  })
})
