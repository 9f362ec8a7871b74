import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { headersMatch, validateHeadersBinding, valueEquals } from '../../src/engine/headers.js'
import type { FieldTable } from '../../src/protocol/frames.js'

// [label, binding arguments, message headers, matches]
const cases: [string, FieldTable | undefined, FieldTable | undefined, boolean][] = [
  // all (the default)
  ['all: every pair equal', { a: 1, b: 'x' }, { a: 1, b: 'x', c: true }, true],
  ['all: one pair differs', { a: 1, b: 'x' }, { a: 1, b: 'y' }, false],
  ['all: one key missing', { a: 1, b: 'x' }, { a: 1 }, false],
  ['all is the default', { 'x-match': 'all', a: 1, b: 2 }, { a: 1 }, false],
  ['explicit all', { 'x-match': 'all', a: 1 }, { a: 1 }, true],
  ['all: no keys matches everything', {}, { a: 1 }, true],
  ['all: no keys matches no headers', {}, undefined, true],
  ['all: undefined binding matches everything', undefined, undefined, true],
  ['all: only x- keys matches everything', { 'x-match': 'all', 'x-foo': 1 }, {}, true],
  ['all: message without headers', { a: 1 }, undefined, false],
  // any
  ['any: one pair equal', { 'x-match': 'any', a: 1, b: 2 }, { b: 2 }, true],
  ['any: no pair equal', { 'x-match': 'any', a: 1, b: 2 }, { a: 2, b: 1 }, false],
  ['any: no keys matches nothing', { 'x-match': 'any' }, { a: 1 }, false],
  ['any: only x- keys matches nothing', { 'x-match': 'any', 'x-foo': 1 }, { 'x-foo': 1 }, false],
  ['any: message without headers', { 'x-match': 'any', a: 1 }, undefined, false],
  // x- keys
  ['all skips x- keys', { 'x-foo': 'bar', a: 1 }, { a: 1 }, true],
  ['any skips x- keys', { 'x-match': 'any', 'x-foo': 'bar' }, { 'x-foo': 'bar' }, false],
  ['all-with-x compares x- keys', { 'x-match': 'all-with-x', 'x-foo': 'bar', a: 1 }, { a: 1 }, false],
  ['all-with-x: x- keys equal', { 'x-match': 'all-with-x', 'x-foo': 'bar', a: 1 }, { a: 1, 'x-foo': 'bar' }, true],
  ['any-with-x: x- key equal', { 'x-match': 'any-with-x', 'x-foo': 'bar', a: 1 }, { 'x-foo': 'bar' }, true],
  ['any-with-x: nothing equal', { 'x-match': 'any-with-x', 'x-foo': 'bar' }, { 'x-foo': 'baz' }, false],
  ['x-match itself is never compared', { 'x-match': 'all-with-x' }, {}, true],
  ['x-match in the message is irrelevant', { 'x-match': 'any-with-x', a: 1 }, { 'x-match': 'any-with-x' }, false],
  ['all-with-x with nothing to compare', { 'x-match': 'all-with-x' }, undefined, true],
  ['any-with-x with nothing to compare', { 'x-match': 'any-with-x' }, { a: 1 }, false],
  // void: presence alone
  ['void undefined: key present', { a: undefined }, { a: 'anything' }, true],
  ['void null: key present', { a: null }, { a: 0 }, true],
  ['void: key present with undefined value', { a: null }, { a: undefined }, true],
  ['void: key absent', { a: null }, { b: 1 }, false],
  ['void any: one present', { 'x-match': 'any', a: null, b: null }, { b: 1 }, true],
  ['null in message is a value', { a: 1 }, { a: null }, false],
  // values
  ['numbers by value', { a: 1 }, { a: 1.0 }, true],
  ['bigint and number by value', { a: 5n }, { a: 5 }, true],
  ['bigint and fractional number', { a: 5n }, { a: 5.5 }, false],
  ['zero and minus zero', { a: 0 }, { a: -0 }, true],
  ['string is not a number', { a: '1' }, { a: 1 }, false],
  ['boolean is not a number', { a: true }, { a: 1 }, false],
  ['empty string is a value', { a: '' }, { a: '' }, true],
  ['arrays deeply', { a: [1, [2, 'x']] }, { a: [1, [2, 'x']] }, true],
  ['arrays by order', { a: [1, 2] }, { a: [2, 1] }, false],
  ['arrays by length', { a: [1, 2] }, { a: [1, 2, 3] }, false],
  ['objects deeply', { a: { b: { c: 1 } } }, { a: { b: { c: 1 } } }, true],
  ['objects: extra key', { a: { b: 1 } }, { a: { b: 1, c: 2 } }, false],
  ['objects: key order is irrelevant', { a: { b: 1, c: 2 } }, { a: { c: 2, b: 1 } }, true],
  ['bytes by content', { a: new Uint8Array([1, 2, 3]) }, { a: new Uint8Array([1, 2, 3]) }, true],
  ['bytes differ', { a: new Uint8Array([1, 2, 3]) }, { a: new Uint8Array([1, 2, 4]) }, false],
  ['bytes vs array', { a: new Uint8Array([1]) }, { a: [1] }, false],
  ['dates by time', { a: new Date(5) }, { a: new Date(5) }, true],
  ['inherited keys are not headers', { toString: null }, {}, false],
  ['unknown x-match falls back to all', { 'x-match': 'nope', a: 1 }, { a: 1 }, true],
]

describe('headersMatch', () => {
  it.each(cases)('%s', (_label, args, headers, expected) => {
    expect(headersMatch(args, headers)).toBe(expected)
  })

  it('survives cyclic values', () => {
    const a: Record<string, unknown> = { n: 1 }
    a.self = a
    const b: Record<string, unknown> = { n: 1 }
    b.self = b
    const c: Record<string, unknown> = { n: 2 }
    c.self = c
    expect(headersMatch({ k: a }, { k: b })).toBe(true)
    expect(headersMatch({ k: a }, { k: c })).toBe(false)
  })

  it('does not throw on hostile values', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('boom')
        },
      },
    )
    expect(headersMatch({ k: { a: 1 } }, { k: hostile })).toBe(false)
    expect(headersMatch(hostile as FieldTable, { k: 1 })).toBe(false)
  })
})

describe('validateHeadersBinding', () => {
  it.each([undefined, {}, { a: 1 }, { 'x-match': 'all' }, { 'x-match': 'any' }, { 'x-match': 'all-with-x' }, { 'x-match': 'any-with-x' }])(
    'accepts %j',
    (args) => {
      expect(validateHeadersBinding(args)).toBeNull()
    },
  )

  it.each([{ 'x-match': 'ALL' }, { 'x-match': 'some' }, { 'x-match': '' }, { 'x-match': 1 }, { 'x-match': null }, { 'x-match': ['all'] }])(
    'refuses %j',
    (args) => {
      expect(validateHeadersBinding(args)).toMatch(/x-match/)
    },
  )
})

describe('valueEquals', () => {
  it('compares maps and sets', () => {
    expect(valueEquals(new Map([['a', [1]]]), new Map([['a', [1]]]))).toBe(true)
    expect(valueEquals(new Map([['a', 1]]), new Map([['a', 2]]))).toBe(false)
    expect(valueEquals(new Set([1, 'x']), new Set(['x', 1]))).toBe(true)
    expect(valueEquals(new Set([1]), new Set([2]))).toBe(false)
  })

  it('is reflexive on arbitrary structured values', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), (v) => {
        expect(valueEquals(v, structuredClone(v))).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

// ------------------------------------------------------------ property

/** RabbitMQ's algorithm restated over sorted pairs, with primitive values only. */
function reference(args: Record<string, unknown>, headers: Record<string, unknown>): boolean {
  const kind = args['x-match'] ?? 'all'
  const withX = kind === 'all-with-x' || kind === 'any-with-x'
  const all = kind === 'all' || kind === 'all-with-x'
  const pairs = Object.entries(args).filter(([k]) => k !== 'x-match' && (withX || !k.startsWith('x-')))
  const results = pairs.map(([k, v]) => k in headers && (v === null || v === headers[k]))
  return all ? results.every(Boolean) : results.some(Boolean)
}

describe('headersMatch property', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'x-a', 'x-b')
  const value = fc.constantFrom<unknown>(null, 1, 2, 'v', 'w', true)
  const headerValue = fc.constantFrom<unknown>(1, 2, 'v', 'w', true, null)
  const kind = fc.constantFrom(undefined, 'all', 'any', 'all-with-x', 'any-with-x')

  it('agrees with the reference algorithm', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value), fc.dictionary(key, headerValue), kind, (bindingPairs, headers, k) => {
        const args: Record<string, unknown> = { ...bindingPairs }
        if (k !== undefined) args['x-match'] = k
        expect(headersMatch(args, headers)).toBe(reference(args, headers))
      }),
      { numRuns: 2000 },
    )
  })

  it('a message always matches a binding made from its own headers (all)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (headers) => {
        expect(headersMatch({ ...headers }, structuredClone(headers))).toBe(true)
      }),
    )
  })
})
