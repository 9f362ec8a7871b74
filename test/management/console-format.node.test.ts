// The console's pure helpers: how it reads `key: value` tables and shows bodies and numbers.
import { describe, expect, it } from 'vitest'
import { niceMax } from '../../src/console/charts.js'
import { fmtAge, fmtBody, fmtRate, parseTable } from '../../src/console/format.js'
import { deadLetterSources } from '../../src/console/forms.js'
import type { Overview } from '../../src/protocol/management.js'

describe('console helpers', () => {
  it('parses header and argument tables, with JSON values where they read as JSON', () => {
    expect(parseTable('x-message-ttl: 60000\nx-dead-letter-exchange: dlx\nflag = true\n# comment\n\nlist: [1, 2]')).toEqual({
      'x-message-ttl': 60000,
      'x-dead-letter-exchange': 'dlx',
      flag: true,
      list: [1, 2],
    })
    expect(parseTable('url: http://x/y')).toEqual({ url: 'http://x/y' })
    expect(() => parseTable('no separator')).toThrow(/key: value/)
  })

  it('shows bodies: pretty JSON, text, bytes, structured clones, compressed', () => {
    expect(fmtBody('{"a":1}', 'application/json')).toEqual({ text: '{\n  "a": 1\n}', kind: 'json' })
    expect(fmtBody('hello', 'text/plain')).toEqual({ text: 'hello', kind: 'text' })
    expect(fmtBody(new TextEncoder().encode('héllo'))).toEqual({ text: 'héllo', kind: 'text' })
    expect(fmtBody(new Uint8Array([0xff, 0x00]))).toEqual({ text: 'ff 00', kind: '2 bytes' })
    expect(fmtBody({ when: new Map([['a', 1]]) })).toEqual({ text: '{\n  "when": {\n    "a": 1\n  }\n}', kind: 'structured clone' })
    expect(fmtBody(new Uint8Array(10), 'application/json', 'gzip').kind).toBe('compressed')
  })

  it('formats rates, ages and axis maxima', () => {
    expect([fmtRate(0), fmtRate(0.25), fmtRate(3), fmtRate(12.6), fmtRate(1234)]).toEqual(['0', '0.3', '3', '13', '1,234'])
    expect([fmtAge(4_000), fmtAge(65_000), fmtAge(3_660_000)]).toEqual(['4s', '1m 5s', '1h 1m'])
    expect([niceMax(0), niceMax(3), niceMax(7), niceMax(21), niceMax(100)]).toEqual([1, 5, 10, 50, 100])
  })

  it('finds the queues that dead-letter into a queue (the way back for moveMessages)', () => {
    const overview = {
      exchanges: [{ name: 'dlx', bindings: [{ destinationKind: 'queue', destination: 'jobs.dead' }] }],
      queues: [
        { name: 'jobs', arguments: { 'x-dead-letter-exchange': 'dlx' } },
        { name: 'other', arguments: {} },
        { name: 'jobs.dead', arguments: {} },
      ],
    } as unknown as Overview
    expect(deadLetterSources(overview, 'jobs.dead')).toEqual(['jobs'])
    expect(deadLetterSources(overview, 'other')).toEqual([])
  })
})
