// The pure stream log: segments, retention in whole segments, offset resolution.
import { describe, expect, test } from 'vitest'
import { AmqpError } from '../../src/engine/errors.js'
import { durationMs, parseOffset, StreamLog, type Retention } from '../../src/engine/stream-log.js'

const retention = (extra: Partial<Retention> = {}): Retention => ({ maxBytes: undefined, maxAgeMs: undefined, segmentBytes: 100, ...extra })

/** Appends `count` entries of `size` bytes at `now`. */
function fill(log: StreamLog, count: number, size: number, now = 0): void {
  for (let i = 0; i < count; i++) log.append(size, now)
}

describe('stream log', () => {
  test('offsets start at 0 and grow by one; a segment closes once it holds segmentBytes', () => {
    const log = new StreamLog('s', retention())
    const first = log.append(60, 5)
    expect(first).toEqual({ offset: 0, segment: { stream: 's', firstOffset: 0, lastOffset: 0, bytes: 60, firstTimestamp: 5, lastTimestamp: 5 } })
    expect(log.append(60, 6).segment).toMatchObject({ firstOffset: 0, lastOffset: 1, bytes: 120, lastTimestamp: 6 })
    // 120 >= 100: the next entry opens a new segment.
    expect(log.append(10, 7).segment).toMatchObject({ firstOffset: 2, lastOffset: 2, bytes: 10, firstTimestamp: 7 })
    expect([log.firstOffset, log.lastOffset, log.nextOffset, log.length, log.bytes, log.segmentCount]).toEqual([0, 2, 3, 3, 130, 2])
  })

  test('x-max-length-bytes drops whole segments from the head, never the open one', () => {
    const log = new StreamLog('s', retention({ maxBytes: 250 }))
    fill(log, 10, 50) // segments of 2 entries (100 bytes): [0,1] [2,3] [4,5] [6,7] [8,9]
    expect(log.segmentCount).toBe(5)
    expect(log.applyRetention(0)).toBe(6) // 500 → 200 bytes: three segments go, whole
    expect([log.firstOffset, log.lastOffset, log.bytes, log.segmentCount]).toEqual([6, 9, 200, 2])
    expect(log.applyRetention(0)).toBeUndefined()
    const tiny = new StreamLog('t', retention({ maxBytes: 0 }))
    fill(tiny, 1, 500)
    expect(tiny.applyRetention(0)).toBeUndefined() // the open segment stays, so the next offset is kept
  })

  test('x-max-age drops whole segments whose newest entry is older than the age', () => {
    const log = new StreamLog('s', retention({ maxAgeMs: 1000 }))
    fill(log, 2, 50, 0) // [0,1] at t=0
    fill(log, 2, 50, 500) // [2,3] at t=500
    fill(log, 2, 50, 2000) // [4,5] at t=2000
    expect(log.applyRetention(1400)).toBe(2) // 0 < 400: the first goes; 500 >= 400 stays
    expect(log.applyRetention(1500)).toBeUndefined()
    expect(log.applyRetention(1501)).toBe(4)
    expect(log.applyRetention(1_000_000)).toBeUndefined() // the open segment stays
  })

  test('a log rebuilt from its stored segments goes on after them', () => {
    const log = new StreamLog('s', retention())
    const segments = [0, 1, 2, 3, 4].map((i) => log.append(100, i).segment)
    const rebuilt = new StreamLog('s', retention(), [segments[3]!, segments[4]!])
    expect([rebuilt.firstOffset, rebuilt.lastOffset, rebuilt.bytes]).toEqual([3, 4, 200])
    expect(rebuilt.append(1, 9).offset).toBe(5)
  })

  test('resolves first, last, next, a numeric offset (clamped to the log) and a timestamp', () => {
    const log = new StreamLog('s', retention({ maxBytes: 200 }))
    for (let t = 0; t < 10; t++) log.append(50, t * 10) // [0,1]@0-10 [2,3]@20-30 ...
    log.applyRetention(100) // keeps [6,7] [8,9]
    expect(log.resolve({ kind: 'first' })).toEqual({ offset: 6 })
    expect(log.resolve({ kind: 'last' })).toEqual({ offset: 9 })
    expect(log.resolve({ kind: 'next' })).toEqual({ offset: 10 })
    expect(log.resolve({ kind: 'offset', offset: 7 })).toEqual({ offset: 7 })
    expect(log.resolve({ kind: 'offset', offset: 2 })).toEqual({ offset: 6 })
    expect(log.resolve({ kind: 'offset', offset: 99 })).toEqual({ offset: 10 })
    expect(log.resolve({ kind: 'timestamp', at: 0 })).toEqual({ offset: 6 })
    expect(log.resolve({ kind: 'timestamp', at: 80 })).toEqual({ offset: 8 })
    expect(log.resolve({ kind: 'timestamp', at: 85 })).toEqual({ offset: 8, notBefore: 85 })
    expect(log.resolve({ kind: 'timestamp', at: 1000 })).toEqual({ offset: 10 })
    const empty = new StreamLog('e', retention())
    expect(['first', 'last', 'next'].map((kind) => empty.resolve({ kind } as never).offset)).toEqual([0, 0, 0])
  })

  test('parses x-stream-offset as RabbitMQ does, refusing anything else with 406', () => {
    expect(parseOffset(undefined, 0)).toEqual({ kind: 'next' })
    expect(parseOffset('first', 0)).toEqual({ kind: 'first' })
    expect(parseOffset(12, 0)).toEqual({ kind: 'offset', offset: 12 })
    expect(parseOffset(new Date(5000), 0)).toEqual({ kind: 'timestamp', at: 5000 })
    expect(parseOffset('1h', 10_000_000)).toEqual({ kind: 'timestamp', at: 10_000_000 - 3_600_000 })
    for (const bad of [-1, 1.5, 'soon', null, {}, new Date(Number.NaN)]) {
      const err = (() => {
        try {
          parseOffset(bad, 0)
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(AmqpError)
      expect((err as AmqpError).replyCode).toBe(406)
    }
  })

  test('reads RabbitMQ durations', () => {
    expect([durationMs('7D'), durationMs('12h'), durationMs('30m'), durationMs('10s')]).toEqual([604_800_000, 43_200_000, 1_800_000, 10_000])
    expect([durationMs('1Y'), durationMs('1M')]).toEqual([31_536_000_000, 2_592_000_000])
    expect([durationMs('7d'), durationMs('h'), durationMs(3), durationMs('1.5h')]).toEqual([undefined, undefined, undefined, undefined])
  })
})
