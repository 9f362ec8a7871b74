import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { TopicTrie, topicMatches, topicWords } from '../../src/engine/topic.js'

/** The naive recursive matcher, written straight from the rules: the oracle. */
function naive(p: readonly string[], k: readonly string[]): boolean {
  if (p.length === 0) return k.length === 0
  const [head, ...rest] = p
  if (head === '#') return naive(rest, k) || (k.length > 0 && naive(p, k.slice(1)))
  if (k.length === 0) return false
  return (head === '*' || head === k[0]) && naive(rest, k.slice(1))
}
const naiveMatches = (pattern: string, key: string): boolean => naive(topicWords(pattern), topicWords(key))

// [pattern, routing key, matches]
const cases: [string, string, boolean][] = [
  // literals
  ['a.b.c', 'a.b.c', true],
  ['a.b.c', 'a.b', false],
  ['a.b', 'a.b.c', false],
  ['a.b.c', 'a.x.c', false],
  ['stock.usd.nyse', 'stock.usd.nyse', true],
  // `*`: exactly one word, never zero
  ['*', 'a', true],
  ['*', 'a.b', false],
  ['*', '', false],
  ['a.*', 'a', false],
  ['a.*', 'a.b', true],
  ['a.*', 'a.b.c', false],
  ['*.b', 'b', false],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.c', false],
  ['a.*.c', 'a.b.x.c', false],
  ['*.*', 'a.b', true],
  ['*.*', 'a', false],
  ['*', '*', true],
  // `#`: zero or more words
  ['#', '', true],
  ['#', 'a', true],
  ['#', 'a.b.c', true],
  ['#', '.', true],
  ['a.#', 'a', true],
  ['a.#', 'a.b', true],
  ['a.#', 'a.b.c', true],
  ['a.#', 'b', false],
  ['a.#', '', false],
  ['#.b', 'b', true],
  ['#.b', 'a.b', true],
  ['#.b', 'x.y.b', true],
  ['#.b', 'b.a', false],
  ['#.b', '', false],
  ['a.#.b', 'a.b', true],
  ['a.#.b', 'a.x.b', true],
  ['a.#.b', 'a.x.y.b', true],
  ['a.#.b', 'a.x.y', false],
  ['a.#.b', 'a', false],
  ['#.#', '', true],
  ['#.#', 'a.b.c', true],
  ['#.#.#', 'a', true],
  ['#.*', '', false],
  ['#.*', 'a', true],
  ['#.*', 'a.b', true],
  ['*.#', 'a', true],
  ['*.#', '', false],
  ['#.a.#', 'a', true],
  ['#.a.#', 'x.a.y', true],
  ['#.a.#', 'x.y', false],
  ['*.#.*', 'a', false],
  ['*.#.*', 'a.b', true],
  ['*.#.*', 'a.b.c.d', true],
  // the empty key and empty words
  ['', '', true],
  ['', 'a', false],
  ['a', '', false],
  ['a..b', 'a..b', true],
  ['a.*.b', 'a..b', true],
  ['a.b', 'a..b', false],
  ['a.', 'a.', true],
  ['a.', 'a', false],
  ['a.*', 'a.', true],
  ['.', '.', true],
  ['*.*', '.', true],
  ['*', '.', false],
  ['#.', '', false],
  ['#.', 'a.', true],
  // wildcards only as whole words
  ['a*', 'ab', false],
  ['a#', 'a', false],
  ['a#', 'a#', true],
  ['a*.b', 'a*.b', true],
]

describe('topic matching rules', () => {
  it.each(cases)('%j vs %j → %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected)
    expect(naiveMatches(pattern, key)).toBe(expected)
    const trie = new TopicTrie<string>()
    trie.add(pattern, 'q')
    expect(trie.match(key).has('q')).toBe(expected)
  })

  it('a literal `*` or `#` word in a routing key is just a word', () => {
    const trie = new TopicTrie<string>()
    trie.add('*', 'star')
    trie.add('#', 'hash')
    trie.add('a', 'a')
    expect([...trie.match('*')].sort()).toEqual(['hash', 'star'])
    expect([...trie.match('#')].sort()).toEqual(['hash', 'star'])
    expect([...trie.match('a')].sort()).toEqual(['a', 'hash', 'star'])
  })
})

describe('TopicTrie', () => {
  it('routes one key to every matching binding', () => {
    const trie = new TopicTrie<string>()
    trie.add('*.orange.*', 'Q1')
    trie.add('*.*.rabbit', 'Q2')
    trie.add('lazy.#', 'Q2')
    const route = (key: string) => [...trie.match(key)].sort()
    expect(route('quick.orange.rabbit')).toEqual(['Q1', 'Q2'])
    expect(route('lazy.orange.elephant')).toEqual(['Q1', 'Q2'])
    expect(route('quick.orange.fox')).toEqual(['Q1'])
    expect(route('lazy.brown.fox')).toEqual(['Q2'])
    expect(route('lazy.pink.rabbit')).toEqual(['Q2'])
    expect(route('quick.brown.fox')).toEqual([])
    expect(route('orange')).toEqual([])
    expect(route('quick.orange.new.rabbit')).toEqual([])
    expect(route('lazy.orange.new.rabbit')).toEqual(['Q2'])
  })

  it('adding the same binding twice keeps one entry', () => {
    const trie = new TopicTrie<string>()
    trie.add('a.#', 'q')
    trie.add('a.#', 'q')
    expect(trie.size).toBe(1)
    expect(trie.remove('a.#', 'q')).toBe(true)
    expect(trie.size).toBe(0)
    expect(trie.match('a').size).toBe(0)
    expect(trie.remove('a.#', 'q')).toBe(false)
  })

  it('keeps values apart by key, and removal only removes the one entry', () => {
    const trie = new TopicTrie<string>()
    trie.add('a.*', 'q')
    trie.add('a.#', 'q')
    trie.add('a.b', 'r')
    expect(trie.size).toBe(3)
    expect(trie.remove('a.*', 'q')).toBe(true)
    expect([...trie.match('a.b')].sort()).toEqual(['q', 'r'])
    expect(trie.remove('a.b', 'q')).toBe(false)
    expect(trie.remove('x.y', 'q')).toBe(false)
    expect(trie.has('a.#', 'q')).toBe(true)
    expect(trie.has('a.*', 'q')).toBe(false)
    trie.clear()
    expect(trie.size).toBe(0)
    expect(trie.match('a.b').size).toBe(0)
  })

  it('handles many `#` words without blowing up', () => {
    const trie = new TopicTrie<number>()
    const pattern = Array.from({ length: 40 }, () => '#').join('.') + '.z'
    trie.add(pattern, 1)
    trie.add('#.#.#.#.#.#.#.#', 2)
    const key = Array.from({ length: 200 }, (_, i) => `w${i}`).join('.')
    const t0 = performance.now()
    expect([...trie.match(key)]).toEqual([2])
    expect([...trie.match(key + '.z')].sort()).toEqual([1, 2])
    expect(performance.now() - t0).toBeLessThan(500)
    expect(topicMatches(pattern, key + '.z')).toBe(true)
  })

  it('stays fast with 100,000 bindings', () => {
    const trie = new TopicTrie<number>()
    for (let i = 0; i < 100_000; i++) {
      const shape = i % 4
      const key =
        shape === 0 ? `svc${i}.event.created` : shape === 1 ? `svc${i}.*.created` : shape === 2 ? `svc${i}.#` : `#.k${i}`
      trie.add(key, i)
    }
    expect(trie.size).toBe(100_000)
    const t0 = performance.now()
    let hits = 0
    for (let i = 0; i < 2_000; i++) hits += trie.match(`svc${i * 4}.event.created`).size
    const elapsed = performance.now() - t0
    // svc{4i}.event.created hits its literal binding only (the other shapes use other numbers).
    expect(hits).toBe(2_000)
    expect([...trie.match('svc1.x.created')]).toEqual([1])
    expect([...trie.match('svc2')]).toEqual([2])
    expect([...trie.match('a.b.k3')]).toEqual([3])
    // A full scan would be ~100k checks per lookup; the trie does a handful.
    expect(elapsed).toBeLessThan(1_000)
  })
})

// ------------------------------------------------------------ properties

const word = fc.constantFrom('a', 'b', '', '*', '#')
const keyWord = fc.constantFrom('a', 'b', '', 'c')
const pattern = fc.array(word, { maxLength: 6 }).map((ws) => ws.join('.'))
const routingKey = fc.oneof(fc.constant(''), fc.array(keyWord, { minLength: 1, maxLength: 7 }).map((ws) => ws.join('.')))

describe('TopicTrie properties', () => {
  it('topicMatches agrees with the naive recursive matcher', () => {
    fc.assert(
      fc.property(pattern, routingKey, (p, k) => {
        expect(topicMatches(p, k)).toBe(naiveMatches(p, k))
      }),
      { numRuns: 2000 },
    )
  })

  it('trie.match agrees with the reference for a set of bindings', () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 20 }), fc.array(routingKey, { maxLength: 10 }), (patterns, keys) => {
        const trie = new TopicTrie<number>()
        patterns.forEach((p, i) => trie.add(p, i))
        for (const k of keys) {
          const expected = patterns.flatMap((p, i) => (naiveMatches(p, k) ? [i] : []))
          expect([...trie.match(k)].sort((x, y) => x - y)).toEqual(expected)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('add then remove round-trips to the same routing', () => {
    const binding = fc.tuple(pattern, fc.integer({ min: 0, max: 4 }))
    fc.assert(
      fc.property(
        fc.array(binding, { maxLength: 15 }),
        fc.array(binding, { maxLength: 15 }),
        fc.array(routingKey, { maxLength: 8 }),
        (kept, extra, keys) => {
          const trie = new TopicTrie<number>()
          const reference = new TopicTrie<number>()
          for (const [p, v] of kept) {
            trie.add(p, v)
            reference.add(p, v)
          }
          const keptSet = new Set(kept.map(([p, v]) => `${p}\u0000${v}`))
          const added = extra.filter(([p, v]) => !keptSet.has(`${p}\u0000${v}`))
          for (const [p, v] of added) trie.add(p, v)
          const addedUnique = new Set(added.map(([p, v]) => `${p}\u0000${v}`))
          expect(trie.size).toBe(reference.size + addedUnique.size)
          for (const [p, v] of added) trie.remove(p, v)
          expect(trie.size).toBe(reference.size)
          expect(trie.size).toBe(keptSet.size)
          for (const k of keys) expect(trie.match(k)).toEqual(reference.match(k))
          // Removing everything leaves an empty trie.
          for (const [p, v] of kept) trie.remove(p, v)
          expect(trie.size).toBe(0)
          for (const k of keys) expect(trie.match(k).size).toBe(0)
        },
      ),
      { numRuns: 500 },
    )
  })
})
