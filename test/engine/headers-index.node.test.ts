// The headers exchange's index (exchange.ts) must route exactly as checking every binding
// would: same bindings, same order, whatever the tables.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Exchange, makeBinding } from '../../src/engine/exchange.js'
import { headersMatch } from '../../src/engine/headers.js'

const value = fc.oneof(fc.constantFrom('a', 'b', 'c', ''), fc.integer({ min: 0, max: 2 }), fc.constant(null), fc.boolean(), fc.constant(['a']))
const name = fc.constantFrom('k1', 'k2', 'k3', 'x-k')
const table = fc.dictionary(name, value, { maxKeys: 3 })
const bindingArgs = fc.tuple(fc.constantFrom(undefined, 'all', 'any', 'all-with-x', 'any-with-x'), table).map(([kind, t]) => (kind ? { ...t, 'x-match': kind } : t))

describe('headers exchange index', () => {
  it('routes like a scan of every binding, in binding order', () => {
    fc.assert(
      fc.property(fc.array(bindingArgs, { minLength: 0, maxLength: 60 }), fc.array(fc.option(table, { nil: undefined }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (args, messages, removals) => {
        const exchange = new Exchange('h', 'headers', false, false, false, {})
        const bindings = args.map((a, i) => makeBinding('h', 'queue', `q${i}`, '', a))
        for (const b of bindings) exchange.addBinding(b)
        for (const r of removals) if (bindings.length > 0) exchange.removeBinding(bindings[r % bindings.length]!)
        const live = [...exchange.bindings.values()]
        for (const headers of messages) {
          const expected = live.filter((b) => headersMatch(b.arguments, headers)).map((b) => b.id)
          expect([...exchange.route('', headers)].map((b) => b.id)).toEqual(expected)
        }
      }),
      { numRuns: 300 },
    )
  })
})
