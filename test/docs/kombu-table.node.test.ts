// The README's Kombu → Warren table names real API: every class, function and error it names is
// exported by `warren`, and every method or property it calls (`.name`) exists on one of the
// public classes. (Option names are checked by hand; the ts blocks' compile test covers usage.)
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as main from '../../src/index.js'
import * as compression from '../../src/compression.js'
import * as jobs from '../../src/jobs/index.js'
import * as rpc from '../../src/rpc.js'
import * as simple from '../../src/simple.js'

// The table names the main entry's API and the subpath entries' (warren/simple, warren/jobs...).
const warren = { ...main, ...simple, ...rpc, ...compression, ...jobs }

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const start = readme.indexOf('## Kombu → Warren')
// The table ends at the next heading of any level (the Errors subsection has a table of its own).
const section = readme.slice(start, readme.indexOf('\n#', start + 1))
/** The Warren column's code spans. */
const warrenCode = section
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| Kombu') && !line.startsWith('|---'))
  .flatMap((line) => [...(line.split(' | ')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!))

const classes = [warren.Connection, warren.Channel, warren.Producer, warren.Consumer, warren.Message, warren.SimpleQueue,
  warren.Queue, warren.Exchange, warren.JobQueue] as Array<abstract new (...args: never[]) => unknown>
const members = new Set<string>()
for (const cls of classes) {
  for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) members.add(name)
  }
  for (const name of Object.getOwnPropertyNames(cls)) members.add(name)
}
// Instance fields set in constructors (not on the prototype) that the table may name.
const errorFields = new Set(Object.keys(new warren.ChannelError('probe', { replyCode: 404 })))

describe("README's Kombu → Warren table", () => {
  it('has code in its Warren column', () => {
    expect(warrenCode.length).toBeGreaterThan(20)
  })

  it('names only exported classes, functions and errors', () => {
    const exported = new Set(Object.keys(warren))
    const named = warrenCode.flatMap((code) => [
      ...[...code.matchAll(/\bnew ([A-Z]\w*)/g)].map((m) => m[1]!),
      ...[...code.matchAll(/^([A-Z]\w*)(?=\.|$)/g)].map((m) => m[1]!),
      ...[...code.matchAll(/(?:^|, )([A-Z]\w*Error)\b/g)].map((m) => m[1]!),
      // A bare call is an exported function unless it is a method (`publish(...)`, checked below).
      ...[...code.matchAll(/^([a-z]\w*)\(/g)].map((m) => m[1]!).filter((name) => !members.has(name)),
    ])
    expect(named.length).toBeGreaterThan(8)
    // Platform classes (CompressionStream) are the browser's, not Warren's.
    expect(named.filter((name) => !exported.has(name) && !(name in globalThis))).toEqual([])
  })

  it('calls only methods and properties the classes have', () => {
    const called = [...new Set(warrenCode.flatMap((code) => [...code.matchAll(/\.([a-zA-Z]\w*)\b(?!\.ts)/g)].map((m) => m[1]!)))]
    expect(called.length).toBeGreaterThan(15)
    expect(called.filter((name) => !members.has(name) && !errorFields.has(name))).toEqual([])
    // A name bare at the start of a cell (`publish(...)`) is a method too.
    const bare = warrenCode.map((code) => /^([a-z]\w*)\(/.exec(code)?.[1]).filter((name): name is string => !!name && !(name in warren))
    expect(bare.filter((name) => !members.has(name))).toEqual([])
  })
})
