// Model-based test: random batches of ops, grouped into random apply calls and turns,
// must leave IndexedDBStorage (fake-indexeddb) exactly where MemoryStorage is.
import 'fake-indexeddb/auto'
import fc from 'fast-check'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it } from 'vitest'
import { IndexedDBStorage } from '../../src/storage/indexeddb/index.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import type { Storage, StorageOp } from '../../src/storage/types.js'
import { message } from './contract.js'

const QUEUES = ['a', 'b']
const seq = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 40 }), weight: 8 },
  { arbitrary: fc.integer({ min: 1, max: 20_000 }), weight: 1 },
)
const queueName = fc.constantFrom(...QUEUES)
const op: fc.Arbitrary<StorageOp> = fc.oneof(
  { arbitrary: fc.record({ q: queueName, s: seq, v: fc.nat(9) }).map(({ q, s, v }): StorageOp => ({ kind: 'message.put', message: message(q, s, { body: v }) })), weight: 6 },
  { arbitrary: fc.record({ q: queueName, s: seq }).map(({ q, s }): StorageOp => ({ kind: 'message.delete', queue: q, seq: s })), weight: 5 },
  { arbitrary: fc.record({ q: queueName, s: seq, n: fc.nat(5) }).map(({ q, s, n }): StorageOp => ({ kind: 'message.update', queue: q, seq: s, redelivered: true, deliveryCount: n })), weight: 1 },
  { arbitrary: fc.record({ q: queueName, s: seq }).map(({ q, s }): StorageOp => ({ kind: 'queue.purge', name: q, upToSeq: s })), weight: 1 },
  { arbitrary: queueName.map((q): StorageOp => ({ kind: 'queue.delete', name: q })), weight: 1 },
  { arbitrary: fc.record({ q: queueName, s: seq, n: fc.nat(30) }).map(({ q, s, n }): StorageOp => ({ kind: 'message.deleteRange', queue: q, fromSeq: s, toSeq: s + n })), weight: 1 },
)
/** A run of puts big enough to make a chunk that can be compacted once mostly acked. */
const bulk: fc.Arbitrary<StorageOp[]> = fc.record({ q: queueName, s: fc.integer({ min: 1, max: 60 }), n: fc.integer({ min: 32, max: 80 }) })
  .map(({ q, s, n }) => Array.from({ length: n }, (_, i): StorageOp => ({ kind: 'message.put', message: message(q, s + i) })))
const call = fc.oneof({ arbitrary: fc.array(op, { minLength: 1, maxLength: 8 }), weight: 4 }, { arbitrary: bulk, weight: 1 })
// turns → apply calls → ops
const script = fc.array(fc.array(call, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 })

async function snapshot(s: Storage) {
  const out: Record<string, unknown> = {}
  for (const q of QUEUES) {
    const messages = await s.loadMessages(q, 0, 100_000)
    // Paging by record: small pages from any seq give the same run.
    const paged = []
    for (let after = 0; ; ) {
      const page = await s.loadMessages(q, after, 7)
      paged.push(...page)
      if (page.length < 7) break
      after = page[page.length - 1]!.seq
    }
    expect(paged).toEqual(messages)
    out[q] = { count: await s.countMessages(q), lastSeq: await s.lastSeq(q), messages }
  }
  return out
}

async function run(s: Storage, turns: StorageOp[][][]): Promise<unknown[]> {
  const states: unknown[] = []
  for (const calls of turns) {
    await Promise.all(calls.map((ops) => s.apply(ops)))
    states.push(await snapshot(s))
  }
  return states
}

describe('IndexedDBStorage matches MemoryStorage on random batches', () => {
  it('same messages and counters after every turn, and after a reopen', async () => {
    await fc.assert(
      fc.asyncProperty(script, async (turns) => {
        const memory = new MemoryStorage()
        await memory.open()
        const factory = new IDBFactory()
        const idb = new IndexedDBStorage({ vhost: 'model', factory })
        await idb.open()
        const expected = await run(memory, turns)
        expect(await run(idb, turns)).toEqual(expected)
        await idb.close()
        const again = new IndexedDBStorage({ vhost: 'model', factory })
        await again.open()
        expect(await snapshot(again)).toEqual(expected[expected.length - 1])
        await again.close()
      }),
      { numRuns: 150 },
    )
  }, 120_000)
})
