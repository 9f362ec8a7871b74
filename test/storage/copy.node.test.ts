// apply()'s copy of its ops: plain data by hand, anything else through structuredClone, the
// same result either way.
import { describe, expect, it } from 'vitest'
import { copyOps } from '../../src/storage/indexeddb/copy.js'

describe('copyOps', () => {
  it('copies plain data deeply: nothing shared with the original', () => {
    const op = { kind: 'message.put', message: { properties: { headers: { a: [1, { b: 2 }] } }, body: { n: -0, u: undefined, s: 'x', big: 10n } } }
    const [copy] = copyOps([op])
    expect(copy).toEqual(op)
    expect(Object.is(copy!.message.body.n, -0)).toBe(true)
    expect('u' in copy!.message.body).toBe(true)
    expect(copy!.message.properties.headers.a).not.toBe(op.message.properties.headers.a)
    expect(copy!.message.properties.headers.a[1]).not.toBe(op.message.properties.headers.a[1])
  })

  it('hands anything not plain to structuredClone, which keeps what it keeps', () => {
    const shared = { x: 1 }
    const cyclic: Record<string, unknown> = { name: 'c' }
    cyclic.self = cyclic
    const sparse = [1, , 3] // eslint-disable-line no-sparse-arrays
    const values = [
      { when: new Date(5), bytes: new Uint8Array([1, 2]), map: new Map([[1, 2]]) },
      { a: shared, b: shared },
      cyclic,
      { sparse },
      Object.assign([1, 2], { extra: true }),
    ]
    const copies = copyOps(values)
    expect(copies[0]).toEqual(values[0])
    expect((copies[0] as { when: Date }).when).toBeInstanceOf(Date)
    const pair = copies[1] as { a: object; b: object }
    expect(pair.a).toBe(pair.b) // the sharing survives, as structuredClone keeps it
    expect(pair.a).not.toBe(shared)
    const c = copies[2] as Record<string, unknown>
    expect(c.self).toBe(c)
    expect(1 in (copies[3] as { sparse: unknown[] }).sparse).toBe(false)
    expect(copies[4]).toEqual(structuredClone(values[4]))
  })

  it('refuses what structuredClone refuses', () => {
    expect(() => copyOps([{ body: () => 1 }])).toThrow(expect.objectContaining({ name: 'DataCloneError' }))
    expect(() => copyOps([{ body: Symbol('s') }])).toThrow(expect.objectContaining({ name: 'DataCloneError' }))
  })

  it('does not let a __proto__ key change the copy', () => {
    const op = JSON.parse('{"body":{"__proto__":{"polluted":true}}}') as { body: object }
    const [copy] = copyOps([op])
    expect(Object.getPrototypeOf(copy!.body)).toBe(Object.prototype)
    expect(copy!.body).toEqual(structuredClone(op.body))
  })
})
