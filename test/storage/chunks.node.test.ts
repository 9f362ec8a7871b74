// The packed layout's index in memory (schema v4): finding seqs, drafts, and chunk packing.
import { describe, expect, it } from 'vitest'
import { CHUNK_BYTES, headOf, isGone, packBySize, QueueChunks, QueueDraft } from '../../src/storage/indexeddb/chunks.js'
import { message } from './contract.js'

const msgs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message('q', from + i))

function queueOf(...runs: Array<[number, number]>): QueueChunks {
  const q = new QueueChunks('q')
  for (const [from, to] of runs) q.add(headOf('q', q.nextId++, msgs(from, to)))
  return q
}

describe('QueueChunks', () => {
  it('finds a seq by binary search while chunks do not overlap, and by scan once they do', () => {
    const q = queueOf([1, 10], [11, 20], [21, 30])
    expect(q.disjoint).toBe(true)
    expect(q.find(15)).toMatchObject({ head: { id: 1 }, pos: 4 })
    expect(q.find(31)).toBeUndefined()
    expect(q.find(0)).toBeUndefined()
    q.add(headOf('q', q.nextId++, msgs(5, 6))) // a re-put of 5 and 6: overlaps chunk 0
    expect(q.disjoint).toBe(false)
    expect(q.find(25)).toMatchObject({ head: { id: 2 }, pos: 4 })
  })

  it('stays disjoint when a compacted chunk goes back between its neighbours', () => {
    const q = queueOf([1, 100], [101, 200], [201, 300])
    q.remove(new Set([1]))
    q.add(headOf('q', q.nextId++, msgs(150, 160)))
    expect(q.disjoint).toBe(true)
    expect(q.heads.map((h) => h.first)).toEqual([1, 150, 201])
    expect(q.find(155)).toMatchObject({ head: { id: 3 }, pos: 5 })
  })

  it('keeps seqs in the head only when they are not consecutive', () => {
    expect(headOf('q', 0, msgs(4, 8)).seqs).toBeUndefined()
    const gappy = headOf('q', 0, [message('q', 3), message('q', 7), message('q', 9)])
    expect(gappy.seqs).toEqual([3, 7, 9])
    const q = new QueueChunks('q')
    q.add(gappy)
    expect(q.find(7)).toMatchObject({ pos: 1 })
    expect(q.find(8)).toBeUndefined()
  })
})

describe('QueueDraft', () => {
  it('changes copies of the heads it touches; the index changes only on commit', () => {
    const q = queueOf([1, 10])
    q.count = 10
    q.lastSeq = 10
    const draft = new QueueDraft(q)
    draft.delete(3)
    draft.update(4, true, 2)
    draft.put(message('q', 5, { body: 'again' })) // a re-put: the old copy goes
    draft.put(message('q', 11))
    expect(q.heads[0]!.live).toBe(10)
    expect(q.heads[0]!.gone).toBeUndefined()
    const fresh = draft.freshChunks()
    expect(fresh.map((c) => c.messages.map((m) => m.seq))).toEqual([[5, 11]])
    draft.commit()
    const head = q.byId.get(0)!
    expect([isGone(head, 2), isGone(head, 3), isGone(head, 4)]).toEqual([true, false, true])
    expect(head.live).toBe(8)
    expect(head.updates).toEqual([[3, 1, 2]])
    expect(q.count).toBe(10)
    expect(q.lastSeq).toBe(11)
    expect(q.find(5)).toMatchObject({ head: { id: 1 }, pos: 0 })
  })

  it('queue.delete in a batch forgets what came before it, and starts the seqs again', () => {
    const q = queueOf([1, 10])
    q.count = 10
    q.lastSeq = 10
    const draft = new QueueDraft(q)
    draft.delete(1)
    draft.drop()
    draft.put(message('q', 1))
    draft.freshChunks()
    draft.commit()
    expect(q.heads.map((h) => [h.id, h.first, h.n, h.live])).toEqual([[1, 1, 1, 1]])
    expect([q.count, q.lastSeq]).toEqual([1, 1])
  })
})

describe('packBySize', () => {
  it('cuts chunks so each stays under CHUNK_BYTES (estimated), never splitting a message', () => {
    const big = (seq: number) => message('q', seq, { size: 20_000 })
    const runs = packBySize([big(1), big(2), big(3), message('q', 4, { size: 100_000 }), big(5)])
    expect(runs.map((r) => r.map((m) => m.seq))).toEqual([[1, 2], [3], [4], [5]])
    expect(packBySize(msgs(1, 10)).length).toBe(1)
    expect(CHUNK_BYTES).toBeLessThan(64 * 1024)
  })
})
