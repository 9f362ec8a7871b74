// The behaviour every Storage must have. Runners call storageContract() with a factory;
// the same tests then run against memory, IndexedDB in Node (fake) and IndexedDB in Chromium.
import { afterEach, describe, expect, it } from 'vitest'
import {
  StorageFailure,
  type Storage,
  type StorageOp,
  type StoredBinding,
  type StoredExchange,
  type StoredMessage,
  type StoredQueue,
  type StoredStreamEntry,
} from '../../src/storage/types.js'

export const exchange = (name: string, extra: Partial<StoredExchange> = {}): StoredExchange => ({
  name,
  type: 'direct',
  durable: true,
  autoDelete: false,
  internal: false,
  arguments: {},
  ...extra,
})

export const queue = (name: string, extra: Partial<StoredQueue> = {}): StoredQueue => ({
  name,
  durable: true,
  autoDelete: false,
  arguments: {},
  ...extra,
})

export const binding = (
  source: string,
  destination: string,
  routingKey = '',
  args: Record<string, unknown> = {},
  destinationKind: 'queue' | 'exchange' = 'queue',
): StoredBinding => ({ source, destination, destinationKind, routingKey, arguments: args })

export const message = (queueName: string, seq: number, extra: Partial<StoredMessage> = {}): StoredMessage => ({
  queue: queueName,
  seq,
  exchange: 'ex',
  routingKey: 'rk',
  properties: { deliveryMode: 2, headers: { n: seq } },
  body: `body ${seq}`,
  size: 6,
  redelivered: false,
  deliveryCount: 0,
  ...extra,
})

export const putAll = (messages: StoredMessage[]): StorageOp[] =>
  messages.map((m) => ({ kind: 'message.put', message: m }))

export const streamEntry = (stream: string, offset: number): StoredStreamEntry => ({
  stream,
  offset,
  timestamp: 1000 + offset,
  exchange: '',
  routingKey: stream,
  properties: { headers: { n: offset } },
  body: `event ${offset}`,
  size: 7,
})

/** Appends offsets [from, to] to the segment starting at `segmentFirst` (which spans [segmentFirst, to]). */
export const streamAppend = (stream: string, from: number, to: number, segmentFirst = from): StorageOp => ({
  kind: 'stream.append',
  segment: {
    stream,
    firstOffset: segmentFirst,
    lastOffset: to,
    bytes: 7 * (to - segmentFirst + 1),
    firstTimestamp: 1000 + segmentFirst,
    lastTimestamp: 1000 + to,
  },
  entries: range(from, to).map((offset) => streamEntry(stream, offset)),
})

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const seqs = (messages: StoredMessage[]): number[] => messages.map((m) => m.seq)
const byName = <T extends { name: string }>(items: T[]): T[] => [...items].sort((a, b) => a.name.localeCompare(b.name))
const bindingOrder = (items: StoredBinding[]): StoredBinding[] =>
  [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

/**
 * `make` returns a storage that is not open yet. `reopen` closes a storage and returns
 * one over the same data (not open yet); by default the same instance is reused.
 */
export function storageContract(
  name: string,
  make: () => Promise<Storage> | Storage,
  reopen: (s: Storage) => Promise<Storage> = async (s) => {
    await s.close()
    return s
  },
): void {
  describe(`Storage contract: ${name}`, () => {
    const made: Storage[] = []
    afterEach(async () => {
      for (const s of made.splice(0)) await s.close().catch(() => undefined)
    })

    async function opened(): Promise<Storage> {
      const s = await make()
      made.push(s)
      await s.open()
      return s
    }

    async function restart(s: Storage): Promise<Storage> {
      const next = await reopen(s)
      made.push(next)
      await next.open()
      return next
    }

    describe('lifecycle', () => {
      it('open() returns an epoch that increments on every reopen', async () => {
        const s = await make()
        made.push(s)
        const { epoch: first } = await s.open()
        expect(first).toBeGreaterThanOrEqual(1)
        const again = await reopen(s)
        made.push(again)
        expect((await again.open()).epoch).toBe(first + 1)
        const third = await reopen(again)
        made.push(third)
        expect((await third.open()).epoch).toBe(first + 2)
      })

      it('rejects (never throws) apply before open and after close', async () => {
        const s = await make()
        made.push(s)
        let before!: Promise<void>
        expect(() => (before = s.apply([{ kind: 'queue.put', queue: queue('q') }]))).not.toThrow()
        const err = await rejection(before)
        expect(err).toBeInstanceOf(StorageFailure)
        expect((err as StorageFailure).reason).toBe('closed')
        await s.open()
        await s.close()
        const after = await rejection(s.apply([{ kind: 'queue.put', queue: queue('q') }]))
        expect((after as StorageFailure).reason).toBe('closed')
      })

      it('close() lets applies already made finish first', async () => {
        const s = await opened()
        const write = s.apply(putAll(range(1, 50).map((n) => message('q', n))))
        const closing = s.close()
        await expect(write).resolves.toBeUndefined()
        await closing
        const next = await restart(s)
        expect(await next.countMessages('q')).toBe(50)
      })

      it('resolves an empty apply', async () => {
        const s = await opened()
        await expect(s.apply([])).resolves.toBeUndefined()
      })
    })

    describe('definitions', () => {
      it('round-trips exchanges, queues and bindings, and deletes them', async () => {
        const s = await opened()
        expect(await s.loadDefinitions()).toEqual({ exchanges: [], queues: [], bindings: [] })
        const exchanges = [exchange('a'), exchange('b', { type: 'topic', autoDelete: true, arguments: { x: 1 } })]
        const queues = [queue('q1'), queue('q2', { arguments: { 'x-max-length': 10 } })]
        const bindings = [binding('a', 'q1', 'k1'), binding('b', 'q2', '#.x', { y: [1, 2] }), binding('a', 'b', 'e', {}, 'exchange')]
        await s.apply([
          ...exchanges.map((e): StorageOp => ({ kind: 'exchange.put', exchange: e })),
          ...queues.map((q): StorageOp => ({ kind: 'queue.put', queue: q })),
          ...bindings.map((b): StorageOp => ({ kind: 'binding.put', binding: b })),
        ])
        const loaded = await s.loadDefinitions()
        expect(byName(loaded.exchanges)).toEqual(exchanges)
        expect(byName(loaded.queues)).toEqual(queues)
        expect(bindingOrder(loaded.bindings)).toEqual(bindingOrder(bindings))

        // Put again = replace, not duplicate.
        await s.apply([{ kind: 'queue.put', queue: queue('q1', { autoDelete: true }) }])
        const replaced = await s.loadDefinitions()
        expect(byName(replaced.queues)[0]).toEqual(queue('q1', { autoDelete: true }))
        expect(replaced.queues).toHaveLength(2)

        await s.apply([
          { kind: 'binding.delete', binding: bindings[0]! },
          { kind: 'queue.delete', name: 'q2' },
          { kind: 'exchange.delete', name: 'a' },
        ])
        const left = await s.loadDefinitions()
        expect(left.exchanges.map((e) => e.name)).toEqual(['b'])
        expect(byName(left.queues).map((q) => q.name)).toEqual(['q1'])
        expect(left.bindings).toEqual([])
      })

      it('identifies a binding by source, destination, kind, routing key and arguments', async () => {
        const s = await opened()
        await s.apply([
          { kind: 'binding.put', binding: binding('x', 'q', 'k', { a: 1, b: 2 }) },
          { kind: 'binding.put', binding: binding('x', 'q', 'k', { b: 2, a: 1 }) }, // same table, other key order
          { kind: 'binding.put', binding: binding('x', 'q', 'k', { a: 1 }) },
          { kind: 'binding.put', binding: binding('x', 'q', 'k2', { a: 1 }) },
          { kind: 'binding.put', binding: binding('x', 'q', 'k', { a: 1 }, 'exchange') },
        ])
        expect((await s.loadDefinitions()).bindings).toHaveLength(4)
        await s.apply([{ kind: 'binding.delete', binding: binding('x', 'q', 'k', { b: 2, a: 1 }) }])
        const left = (await s.loadDefinitions()).bindings
        expect(left).toHaveLength(3)
        expect(left.some((b) => b.routingKey === 'k' && Object.keys(b.arguments).length === 2)).toBe(false)
      })

      it('queue.delete drops the bindings to that queue only; exchange.delete drops its bindings', async () => {
        const s = await opened()
        await s.apply([
          { kind: 'exchange.put', exchange: exchange('e1') },
          { kind: 'exchange.put', exchange: exchange('e2') },
          { kind: 'queue.put', queue: queue('q') },
          { kind: 'queue.put', queue: queue('q-other') },
          { kind: 'binding.put', binding: binding('e1', 'q', 'a') },
          { kind: 'binding.put', binding: binding('e2', 'q', 'b') },
          { kind: 'binding.put', binding: binding('e1', 'q-other', 'a') },
          { kind: 'binding.put', binding: binding('e2', 'e1', 'c', {}, 'exchange') },
          { kind: 'binding.put', binding: binding('e2', 'q', 'to-exchange-named-q', {}, 'exchange') },
        ])
        await s.apply([{ kind: 'queue.delete', name: 'q' }])
        let bindings = (await s.loadDefinitions()).bindings
        expect(bindingOrder(bindings)).toEqual(
          bindingOrder([
            binding('e1', 'q-other', 'a'),
            binding('e2', 'e1', 'c', {}, 'exchange'),
            binding('e2', 'q', 'to-exchange-named-q', {}, 'exchange'),
          ]),
        )
        await s.apply([{ kind: 'exchange.delete', name: 'e1' }])
        bindings = (await s.loadDefinitions()).bindings
        expect(bindings).toEqual([binding('e2', 'q', 'to-exchange-named-q', {}, 'exchange')])
      })
    })

    describe('messages', () => {
      it('loads in seq order with paging, per queue, without mixing queues', async () => {
        const s = await opened()
        // Interleaved, and queue names that are prefixes of each other.
        const ops: StorageOp[] = []
        for (const n of range(1, 25)) {
          ops.push({ kind: 'message.put', message: message('q', n) })
          ops.push({ kind: 'message.put', message: message('q2', n * 2) })
          if (n <= 3) ops.push({ kind: 'message.put', message: message('q:x', n) })
        }
        await s.apply(ops)
        expect(seqs(await s.loadMessages('q', 0, 10))).toEqual(range(1, 10))
        expect(seqs(await s.loadMessages('q', 10, 10))).toEqual(range(11, 20))
        expect(seqs(await s.loadMessages('q', 20, 10))).toEqual(range(21, 25))
        expect(await s.loadMessages('q', 25, 10)).toEqual([])
        expect(seqs(await s.loadMessages('q2', 7, 3))).toEqual([8, 10, 12])
        expect(seqs(await s.loadMessages('q:x', 0, 100))).toEqual([1, 2, 3])
        expect(await s.loadMessages('nope', 0, 100)).toEqual([])
        expect(await s.loadMessages('q', 0, 0)).toEqual([])
        expect((await s.loadMessages('q', 0, 1))[0]).toEqual(message('q', 1))
        expect(await s.countMessages('q')).toBe(25)
        expect(await s.countMessages('q2')).toBe(25)
        expect(await s.countMessages('q:x')).toBe(3)
        expect(await s.countMessages('nope')).toBe(0)
      })

      it('orders by seq even when puts arrive out of order, and a re-put replaces', async () => {
        const s = await opened()
        await s.apply(putAll([message('q', 30), message('q', 10), message('q', 20)]))
        await s.apply(putAll([message('q', 15), message('q', 20, { body: 'replaced' })]))
        const loaded = await s.loadMessages('q', 0, 100)
        expect(seqs(loaded)).toEqual([10, 15, 20, 30])
        expect(loaded[2]!.body).toBe('replaced')
        expect(await s.countMessages('q')).toBe(4)
      })

      it('delete, update and purge keep the counters right', async () => {
        const s = await opened()
        await s.apply(putAll(range(1, 10).map((n) => message('q', n))))
        await s.apply([
          { kind: 'message.delete', queue: 'q', seq: 3 },
          { kind: 'message.delete', queue: 'q', seq: 5 },
        ])
        expect(await s.countMessages('q')).toBe(8)
        // Deleting what is not there changes nothing.
        await s.apply([
          { kind: 'message.delete', queue: 'q', seq: 3 },
          { kind: 'message.delete', queue: 'q', seq: 99 },
          { kind: 'message.delete', queue: 'other', seq: 1 },
        ])
        expect(await s.countMessages('q')).toBe(8)
        expect(await s.countMessages('other')).toBe(0)

        await s.apply([
          { kind: 'message.update', queue: 'q', seq: 4, redelivered: true, deliveryCount: 2 },
          { kind: 'message.update', queue: 'q', seq: 5, redelivered: true, deliveryCount: 1 }, // gone: no-op
        ])
        const four = (await s.loadMessages('q', 3, 1))[0]!
        expect(four).toEqual(message('q', 4, { redelivered: true, deliveryCount: 2 }))
        expect(seqs(await s.loadMessages('q', 0, 100))).toEqual([1, 2, 4, 6, 7, 8, 9, 10])

        await s.apply([{ kind: 'queue.purge', name: 'q', upToSeq: 6 }])
        expect(seqs(await s.loadMessages('q', 0, 100))).toEqual([7, 8, 9, 10])
        expect(await s.countMessages('q')).toBe(4)

        await s.apply([{ kind: 'queue.purge', name: 'q', upToSeq: 100 }])
        expect(await s.countMessages('q')).toBe(0)
        await s.apply(putAll([message('q', 11)]))
        expect(await s.countMessages('q')).toBe(1)

        await s.apply([{ kind: 'queue.delete', name: 'q' }])
        expect(await s.countMessages('q')).toBe(0)
        expect(await s.loadMessages('q', 0, 100)).toEqual([])
      })

      it('applies the ops of one call, and of calls in one turn, in order', async () => {
        const s = await opened()
        await s.apply(putAll([message('q', 1), message('q', 2)]))
        // Update then delete of the same message: the delete wins.
        await s.apply([
          { kind: 'message.update', queue: 'q', seq: 1, redelivered: true, deliveryCount: 1 },
          { kind: 'message.delete', queue: 'q', seq: 1 },
        ])
        expect(seqs(await s.loadMessages('q', 0, 10))).toEqual([2])
        // The same across two calls of one turn.
        await Promise.all([
          s.apply([{ kind: 'message.update', queue: 'q', seq: 2, redelivered: true, deliveryCount: 1 }]),
          s.apply([{ kind: 'message.delete', queue: 'q', seq: 2 }]),
        ])
        expect(await s.loadMessages('q', 0, 10)).toEqual([])
        expect(await s.countMessages('q')).toBe(0)
        // Put, delete, put within one call.
        await s.apply([
          { kind: 'message.put', message: message('q', 3) },
          { kind: 'message.delete', queue: 'q', seq: 3 },
          { kind: 'message.put', message: message('q', 4) },
        ])
        expect(seqs(await s.loadMessages('q', 0, 10))).toEqual([4])
        expect(await s.countMessages('q')).toBe(1)
        // Delete a queue and re-create it with a binding and a message in the same call.
        await s.apply([
          { kind: 'queue.put', queue: queue('q') },
          { kind: 'binding.put', binding: binding('ex', 'q', 'old') },
        ])
        await s.apply([
          { kind: 'queue.delete', name: 'q' },
          { kind: 'queue.put', queue: queue('q') },
          { kind: 'binding.put', binding: binding('ex', 'q', 'new') },
          { kind: 'message.put', message: message('q', 1) },
        ])
        const defs = await s.loadDefinitions()
        expect(defs.queues.map((q) => q.name)).toEqual(['q'])
        expect(defs.bindings).toEqual([binding('ex', 'q', 'new')])
        expect(seqs(await s.loadMessages('q', 0, 10))).toEqual([1])
        expect(await s.countMessages('q')).toBe(1)
        // Updates after a queue.delete in the same call find nothing.
        await s.apply([
          { kind: 'queue.delete', name: 'q' },
          { kind: 'message.update', queue: 'q', seq: 1, redelivered: true, deliveryCount: 1 },
        ])
        expect(await s.loadMessages('q', 0, 10)).toEqual([])
      })

      it('a purge below the last seq keeps the rest and counts right in a mixed call', async () => {
        const s = await opened()
        await s.apply(putAll(range(1, 10).map((n) => message('q', n))))
        await s.apply([
          { kind: 'message.delete', queue: 'q', seq: 2 },
          { kind: 'message.put', message: message('q', 11) },
          { kind: 'queue.purge', name: 'q', upToSeq: 5 },
          { kind: 'message.delete', queue: 'q', seq: 9 },
          { kind: 'message.put', message: message('q', 12) },
        ])
        expect(seqs(await s.loadMessages('q', 0, 100))).toEqual([6, 7, 8, 10, 11, 12])
        expect(await s.countMessages('q')).toBe(6)
      })

      it('deleteRange removes exactly the seqs in [fromSeq, toSeq], in order with the ops around it', async () => {
        const s = await opened()
        await s.apply(putAll([...range(1, 10), 20].map((n) => message('q', n))))
        await s.apply(putAll([message('other', 5)]))
        await s.apply([{ kind: 'message.deleteRange', queue: 'q', fromSeq: 4, toSeq: 7 }])
        expect(seqs(await s.loadMessages('q', 0, 100))).toEqual([1, 2, 3, 8, 9, 10, 20])
        expect(await s.countMessages('q')).toBe(7)
        expect(await s.countMessages('other')).toBe(1)
        // Holes, bounds past the last seq, an empty range and a put before it in one call.
        await s.apply([
          { kind: 'message.delete', queue: 'q', seq: 9 },
          { kind: 'message.put', message: message('q', 21) },
          { kind: 'message.deleteRange', queue: 'q', fromSeq: 9, toSeq: Infinity },
          { kind: 'message.deleteRange', queue: 'q', fromSeq: 3, toSeq: 2 },
          { kind: 'message.put', message: message('q', 22) },
        ])
        expect(seqs(await s.loadMessages('q', 0, 100))).toEqual([1, 2, 3, 8, 22])
        expect(await s.countMessages('q')).toBe(5)
        await s.apply([{ kind: 'message.deleteRange', queue: 'nope', fromSeq: 0, toSeq: 100 }])
        const bad = await rejection(s.apply([{ kind: 'message.deleteRange', queue: 'q', fromSeq: Number.NaN, toSeq: 1 }]))
        expect(bad).toBeInstanceOf(StorageFailure)
      })

      it('lastSeq is the highest seq ever stored, kept when messages go, reset by queue.delete', async () => {
        let s = await opened()
        expect(await s.lastSeq('q')).toBe(0)
        await s.apply(putAll([message('q', 3), message('q', 7), message('q', 5)]))
        expect(await s.lastSeq('q')).toBe(7)
        await s.apply([
          { kind: 'message.delete', queue: 'q', seq: 7 },
          { kind: 'queue.purge', name: 'q', upToSeq: 100 },
        ])
        expect(await s.countMessages('q')).toBe(0)
        expect(await s.lastSeq('q')).toBe(7)
        s = await restart(s)
        expect(await s.lastSeq('q')).toBe(7)
        await s.apply([{ kind: 'queue.delete', name: 'q' }])
        expect(await s.lastSeq('q')).toBe(0)
      })
    })

    describe('streams', () => {
      const offsets = (entries: StoredStreamEntry[]): number[] => entries.map((e) => e.offset)

      it('appends and reads entries lazily, in offset order, from any offset, without mixing streams', async () => {
        const s = await opened()
        await s.apply([streamAppend('a', 0, 9), streamAppend('b', 0, 2)])
        await s.apply([streamAppend('a', 10, 14, 0)])
        expect(offsets(await s.loadStreamEntries('a', 0, 100))).toEqual(range(0, 14))
        expect(offsets(await s.loadStreamEntries('a', 7, 3))).toEqual([7, 8, 9])
        expect(offsets(await s.loadStreamEntries('a', 15, 3))).toEqual([])
        expect(offsets(await s.loadStreamEntries('b', 0, 100))).toEqual([0, 1, 2])
        expect(await s.loadStreamEntries('a', 3, 1)).toEqual([streamEntry('a', 3)])
        expect(await s.loadStreamEntries('none', 0, 10)).toEqual([])
      })

      it('a segment grown by a later append replaces its record; segments load in offset order', async () => {
        const s = await opened()
        await s.apply([streamAppend('a', 0, 4)])
        await s.apply([streamAppend('a', 5, 9, 0), streamAppend('a', 10, 11)])
        await s.apply([streamAppend('a', 12, 12, 10)])
        const segments = await s.loadStreamSegments('a')
        expect(segments.map((g) => [g.firstOffset, g.lastOffset, g.bytes])).toEqual([[0, 9, 70], [10, 12, 21]])
        expect(segments[1]).toEqual((streamAppend('a', 12, 12, 10) as { segment: unknown }).segment)
        expect(await s.loadStreamSegments('b')).toEqual([])
      })

      it('stream.truncate deletes whole segments below an offset and their entries; offsets go on', async () => {
        const s = await opened()
        await s.apply([streamAppend('a', 0, 9), streamAppend('a', 10, 19), streamAppend('a', 20, 24), streamAppend('b', 0, 9)])
        await s.apply([{ kind: 'stream.truncate', stream: 'a', before: 20 }])
        expect((await s.loadStreamSegments('a')).map((g) => g.firstOffset)).toEqual([20])
        expect(offsets(await s.loadStreamEntries('a', 0, 100))).toEqual(range(20, 24))
        expect(offsets(await s.loadStreamEntries('b', 0, 100))).toEqual(range(0, 9))
        await s.apply([streamAppend('a', 25, 26, 20)])
        expect(offsets(await s.loadStreamEntries('a', 0, 100))).toEqual(range(20, 26))
        await s.apply([{ kind: 'stream.truncate', stream: 'a', before: 27 }])
        expect(await s.loadStreamSegments('a')).toEqual([])
        expect(await s.loadStreamEntries('a', 0, 100)).toEqual([])
        await s.apply([streamAppend('a', 27, 28)])
        expect(offsets(await s.loadStreamEntries('a', 0, 100))).toEqual([27, 28])
      })

      it('queue.delete removes the stream with its segments', async () => {
        const s = await opened()
        await s.apply([{ kind: 'queue.put', queue: queue('a') }, streamAppend('a', 0, 4), streamAppend('ab', 0, 1)])
        await s.apply([{ kind: 'queue.delete', name: 'a' }])
        expect(await s.loadStreamSegments('a')).toEqual([])
        expect(await s.loadStreamEntries('a', 0, 10)).toEqual([])
        expect(offsets(await s.loadStreamEntries('ab', 0, 10))).toEqual([0, 1])
      })

      it('refuses an append whose entries fall outside its segment, alone', async () => {
        const s = await opened()
        const good = s.apply([streamAppend('a', 0, 1)])
        const outside = { ...(streamAppend('a', 2, 3) as Extract<StorageOp, { kind: 'stream.append' }>) }
        outside.entries = [streamEntry('a', 5)]
        const bad = rejection(s.apply([outside]))
        const otherStream = { ...(streamAppend('a', 2, 3) as Extract<StorageOp, { kind: 'stream.append' }>) }
        otherStream.entries = [streamEntry('b', 2)]
        const bad2 = rejection(s.apply([otherStream]))
        await good
        expect(await bad).toBeInstanceOf(StorageFailure)
        expect(await bad2).toBeInstanceOf(StorageFailure)
        expect(offsets(await s.loadStreamEntries('a', 0, 10))).toEqual([0, 1])
        expect(await s.loadStreamEntries('b', 0, 10)).toEqual([])
      })

      it('keeps streams across a reopen', async () => {
        let s = await opened()
        await s.apply([streamAppend('a', 0, 99), streamAppend('a', 100, 149)])
        await s.apply([{ kind: 'stream.truncate', stream: 'a', before: 100 }], 'strict')
        s = await restart(s)
        expect((await s.loadStreamSegments('a')).map((g) => [g.firstOffset, g.lastOffset])).toEqual([[100, 149]])
        expect(offsets(await s.loadStreamEntries('a', 0, 1000))).toEqual(range(100, 149))
      })
    })

    describe('group commit and isolation', () => {
      it('many apply calls in one turn all resolve, and everything is visible after', async () => {
        const s = await opened()
        const calls: Promise<void>[] = []
        for (const n of range(1, 200)) calls.push(s.apply([{ kind: 'message.put', message: message('q', n) }]))
        calls.push(s.apply([{ kind: 'queue.put', queue: queue('q') }], 'strict'))
        await Promise.all(calls)
        expect(await s.countMessages('q')).toBe(200)
        expect(seqs(await s.loadMessages('q', 0, 1000))).toEqual(range(1, 200))
        expect((await s.loadDefinitions()).queues).toEqual([queue('q')])
      })

      it('a call whose data cannot be stored fails alone', async () => {
        const s = await opened()
        const good1 = s.apply(putAll([message('q', 1)]))
        const bad = rejection(s.apply(putAll([message('q', 2), message('q', 3, { body: () => 'not cloneable' })])))
        const good2 = s.apply(putAll([message('q', 4)]))
        const unknown = rejection(s.apply([{ kind: 'nonsense' } as unknown as StorageOp]))
        const badKey = rejection(s.apply(putAll([message('q', 5), message('q', Number.NaN)])))
        await expect(good1).resolves.toBeUndefined()
        await expect(good2).resolves.toBeUndefined()
        expect(await bad).toBeInstanceOf(StorageFailure)
        expect(await unknown).toBeInstanceOf(StorageFailure)
        expect(await badKey).toBeInstanceOf(StorageFailure) // NaN is no valid seq
        expect(seqs(await s.loadMessages('q', 0, 10))).toEqual([1, 4])
        expect(await s.countMessages('q')).toBe(2)
      })

      it('stores copies: later changes by the caller, or to loaded values, do not leak in', async () => {
        const s = await opened()
        const m = message('q', 1, { properties: { headers: { a: 1 } }, body: { nested: [1] } })
        const q = queue('q', { arguments: { x: { y: 1 } } })
        const write = s.apply([
          { kind: 'message.put', message: m },
          { kind: 'queue.put', queue: q },
        ])
        ;(m.body as { nested: number[] }).nested.push(2)
        m.properties.headers!.a = 2
        ;(q.arguments.x as { y: number }).y = 2
        await write
        const [loaded] = await s.loadMessages('q', 0, 1)
        expect(loaded!.body).toEqual({ nested: [1] })
        expect(loaded!.properties.headers).toEqual({ a: 1 })
        ;(loaded!.body as { nested: number[] }).nested.push(3)
        expect((await s.loadMessages('q', 0, 1))[0]!.body).toEqual({ nested: [1] })
        const defs = await s.loadDefinitions()
        expect(defs.queues[0]!.arguments).toEqual({ x: { y: 1 } })
        ;(defs.queues[0]!.arguments.x as { y: number }).y = 3
        expect((await s.loadDefinitions()).queues[0]!.arguments).toEqual({ x: { y: 1 } })
      })
    })

    describe('persistence', () => {
      it('keeps definitions, messages and counters across a reopen', async () => {
        let s = await opened()
        await s.apply([
          { kind: 'exchange.put', exchange: exchange('e') },
          { kind: 'queue.put', queue: queue('q') },
          { kind: 'binding.put', binding: binding('e', 'q', 'k') },
          ...putAll(range(1, 20).map((n) => message('q', n))),
        ])
        await s.apply([
          { kind: 'message.delete', queue: 'q', seq: 1 },
          { kind: 'message.update', queue: 'q', seq: 2, redelivered: true, deliveryCount: 3 },
        ], 'strict')
        s = await restart(s)
        const defs = await s.loadDefinitions()
        expect(defs.exchanges).toEqual([exchange('e')])
        expect(defs.queues).toEqual([queue('q')])
        expect(defs.bindings).toEqual([binding('e', 'q', 'k')])
        expect(await s.countMessages('q')).toBe(19)
        const loaded = await s.loadMessages('q', 0, 100)
        expect(seqs(loaded)).toEqual(range(2, 20))
        expect(loaded[0]).toEqual(message('q', 2, { redelivered: true, deliveryCount: 3 }))
        // Counters keep working after the reopen.
        await s.apply([
          { kind: 'message.delete', queue: 'q', seq: 2 },
          { kind: 'message.put', message: message('q', 21) },
        ])
        expect(await s.countMessages('q')).toBe(19)
      })

      it("keeps a message's publish id (the deduplication window's) through an update and a reopen", async () => {
        let s = await opened()
        await s.apply([
          { kind: 'queue.put', queue: queue('q') },
          ...putAll([message('q', 1, { publishId: 'p-1' }), message('q', 2)]),
        ])
        await s.apply([{ kind: 'message.update', queue: 'q', seq: 1, redelivered: true, deliveryCount: 1 }])
        s = await restart(s)
        expect(await s.loadMessages('q', 0, 10)).toEqual([message('q', 1, { publishId: 'p-1', redelivered: true, deliveryCount: 1 }), message('q', 2)])
      })

      it('loads 10,000 messages in order (written in 10 turns of 1,000)', async () => {
        let s = await opened()
        for (let turn = 0; turn < 10; turn++) {
          const calls = range(turn * 1000 + 1, turn * 1000 + 1000).map((n) =>
            s.apply([{ kind: 'message.put', message: message('big', n) }]),
          )
          await Promise.all(calls)
        }
        expect(await s.countMessages('big')).toBe(10_000)
        s = await restart(s)
        expect(await s.countMessages('big')).toBe(10_000)
        const all = await s.loadMessages('big', 0, 20_000)
        expect(all).toHaveLength(10_000)
        expect(all.every((m, i) => m.seq === i + 1)).toBe(true)
        let after = 0
        let pages = 0
        for (;;) {
          const page = await s.loadMessages('big', after, 1_000)
          if (page.length === 0) break
          expect(page[0]!.seq).toBe(after + 1)
          after = page[page.length - 1]!.seq
          pages++
        }
        expect(pages).toBe(10)
        expect(after).toBe(10_000)
      }, 60_000)
    })
  })
}
