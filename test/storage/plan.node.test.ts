import { describe, expect, it } from 'vitest'
import { deleteRuns, denseEnough, planQueue } from '../../src/storage/indexeddb/plan.js'
import { message } from './contract.js'

describe('batch planning for put/delete-only queues', () => {
  it('keeps only the last op per seq and drops what never reached storage', () => {
    const plan = planQueue(
      [
        { kind: 'message.put', message: message('q', 11) },
        { kind: 'message.delete', queue: 'q', seq: 11 }, // put and acked in one batch
        { kind: 'message.put', message: message('q', 12) },
        { kind: 'message.delete', queue: 'q', seq: 3 },
        { kind: 'message.put', message: message('q', 5, { body: 'new' }) }, // overwrite below lastSeq
        { kind: 'message.delete', queue: 'q', seq: 99 }, // never stored
      ],
      10,
    )
    expect(plan.puts.map((m) => [m.seq, m.body])).toEqual([[12, 'body 12'], [5, 'new']])
    expect([...plan.deletes]).toEqual([3])
    expect(plan.uncertain).toEqual([3, 5])
    expect(plan.certainlyNew).toBe(1)
    expect(plan.lastSeq).toBe(12)
  })

  it('turns adjacent stored keys into ranges, broken by keys that stay or are put', () => {
    const existing = [1, 2, 3, 4, 6, 7, 8, 10, 11]
    expect(deleteRuns(existing, new Set([1, 2, 3, 4, 6, 7, 8, 10, 11]), [])).toEqual([[1, 11]])
    expect(deleteRuns(existing, new Set([1, 2, 3, 6, 7, 10, 11]), [])).toEqual([[1, 3], [6, 7], [10, 11]])
    expect(deleteRuns(existing, new Set([1, 2, 3, 4, 6, 7]), [5])).toEqual([[1, 4], [6, 7]])
    expect(deleteRuns(existing, new Set([1, 4, 6]), [2, 3])).toEqual([[1, 1], [4, 6]])
    expect(deleteRuns(existing, new Set([20]), [])).toEqual([]) // not stored: nothing to delete
  })

  it('reads a span at once only when it is dense', () => {
    expect(denseEnough([1, 2, 3])).toBe(true)
    expect(denseEnough([1, 5000])).toBe(false)
    expect(denseEnough(Array.from({ length: 1000 }, (_, i) => i * 4))).toBe(true)
  })
})
