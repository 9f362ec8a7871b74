// Confirm ranges: consecutive `ok` answers with equal flat results travel as one frame.
import { describe, expect, it } from 'vitest'
import { mergeOk } from '../../src/protocol/confirms.js'
import type { ServerFrame } from '../../src/protocol/frames.js'
import { parseServerFrame } from '../../src/protocol/server-guards.js'
import { Batcher } from '../../src/transport/batch.js'

const ok = (id: number, result: unknown = { routed: true }): ServerFrame => ({ op: 'ok', id, result })
/** An answer with no result (a default parameter would turn `undefined` into the default). */
const bare = (id: number): ServerFrame => ({ op: 'ok', id, result: undefined })

describe('mergeOk', () => {
  it('folds the next id with an equal flat result into a range, and extends a range', () => {
    const range = mergeOk(ok(4), ok(5))
    expect(range).toEqual({ op: 'ok', id: 4, through: 5, result: { routed: true } })
    expect(mergeOk(range!, ok(6))).toEqual({ op: 'ok', id: 4, through: 6, result: { routed: true } })
    expect(mergeOk(bare(1), bare(2))).toEqual({ op: 'ok', id: 1, through: 2, result: undefined })
    // The merged frame is one the client accepts.
    expect(parseServerFrame(mergeOk(range!, ok(6)))).not.toBeNull()
  })

  it('keeps apart what is not the next id, a different or nested result, and any other frame', () => {
    expect(mergeOk(ok(4), ok(6))).toBeUndefined()
    expect(mergeOk(ok(5), ok(4))).toBeUndefined()
    expect(mergeOk(ok(4), ok(5, { routed: false }))).toBeUndefined()
    expect(mergeOk(ok(4), ok(5, { routed: true, duplicate: true }))).toBeUndefined()
    expect(mergeOk(ok(4, { routed: true, duplicate: true }), ok(5))).toBeUndefined()
    expect(mergeOk(ok(4, { queue: { name: 'q' } }), ok(5, { queue: { name: 'q' } }))).toBeUndefined()
    expect(mergeOk(ok(4, [1]), ok(5, [1]))).toBeUndefined()
    expect(mergeOk({ op: 'error', id: 4, error: { name: 'E', code: 'C', message: 'm' } }, ok(5))).toBeUndefined()
    expect(mergeOk(ok(4), { op: 'pong', nonce: 1, epoch: 1 })).toBeUndefined()
  })

  it('never makes a range longer than the client accepts', () => {
    let frame: ServerFrame = bare(0)
    for (let id = 1; id < 70_000; id++) {
      const merged = mergeOk(frame, bare(id))
      if (!merged) break
      frame = merged
    }
    expect(frame).toMatchObject({ id: 0, through: 65535 })
    expect(parseServerFrame(frame)).not.toBeNull()
  })
})

describe('Batcher merge', () => {
  it('hands over merged items in order, an unmergeable one between them breaking the run', () => {
    const out: ServerFrame[][] = []
    const batcher = new Batcher<ServerFrame>((items) => out.push(items), 4096, 'microtask', mergeOk)
    for (const frame of [ok(1), ok(2), ok(3), { op: 'pong', nonce: 1, epoch: 1 } as const, ok(4), ok(5)]) batcher.push(frame)
    batcher.flush()
    expect(out).toEqual([
      [{ op: 'ok', id: 1, through: 3, result: { routed: true } }, { op: 'pong', nonce: 1, epoch: 1 }, { op: 'ok', id: 4, through: 5, result: { routed: true } }],
    ])
  })
})
